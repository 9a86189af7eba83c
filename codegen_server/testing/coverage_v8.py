"""``node --test`` under V8's own coverage (``NODE_V8_COVERAGE``), mapped back to lines.

Node's runner has no per-test coverage contexts, so the tests run as up to three invocations of the
project's own command, each one group of the spectrum:
1. the top-level tests holding the failing tests (``--test-name-pattern``), in the command's files;
2. the other top-level tests the first run listed (skipped there, by name), in the same files;
3. when the command names its test files, the other test files node finds by itself (the command
   without its file arguments): a failing subtest's passing siblings run with it in (1) - node 20 runs
   a matching test with all its subtests and cannot select one - so a file whose tests are one
   top-level test with subtests has no contrast of its own; the other files' passing tests give it.
   Node runs each test file in a process of its own, which writes its own coverage file, so each
   file is a group of its own (a line only some files run scores apart from one they all run); the
   files with a failing test (the same slip breaks them too) are left out. When the deadline cuts
   this run, the files that finished by then still count.
Each group is weighted by the tests (leaves: not the tests that only hold subtests) that failed in
(1) or passed in (2) and (3). Every test file is loaded in each run, so code that runs at load time
counts for the passing groups too, as it should. Outcomes come from a small reporter module written
to the temporary folder (node's reporter events name each test's file).

V8 reports, per script and per function, byte ranges (UTF-16 offsets into the source it compiled)
with execution counts, nested blocks inside their functions. A line counts as executed when the
innermost range holding its first character ran. Scripts whose source on disk is not what V8
compiled (a transpiled TypeScript file, a bundle) are left out: their offsets cannot be mapped.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from .process import run_process_tree, scrubbed_environment
from .types import CoverageRun, TestCommand, TestCoverage

MAX_PATTERN = 64_000  # characters of a name pattern (one argv entry may hold 128 KiB)
MAX_SOURCE = 2_000_000  # bytes of a source file mapped from offsets to lines
_COMMENT = ("//", "/*", "*")
#: A test id that starts with its file (`test/x.test.js > …`), as the reports name node tests.
_SCRIPT = re.compile(r"\.(?:[cm]?[jt]s|[jt]sx)$")
#: One JSON line per finished test: its file, name, nesting, outcome.
_REPORTER = """\
export default async function * reporter (source) {
  for await (const event of source) {
    if (event.type === 'test:pass' || event.type === 'test:fail') {
      const { file, name, nesting, skip, todo } = event.data
      const outcome = event.type === 'test:fail' ? 'failed' : (skip !== undefined || todo !== undefined ? 'skipped' : 'passed')
      yield JSON.stringify({ file, name, nesting, outcome }) + '\\n'
    }
  }
}
"""


@dataclass
class _Report:
    """What one invocation ran: its top-level tests' names, its test files, its leaf tests' outcomes per file."""

    top: list[str] = field(default_factory=list)
    files: set[str] = field(default_factory=set)  # resolved paths
    failed: dict[str, int] = field(default_factory=dict)  # test file -> leaf tests that failed
    passed: dict[str, int] = field(default_factory=dict)  # test file -> leaf tests that passed


async def run(root: Path, cwd: Path, command: TestCommand, failing: list[str], scratch: Path,
              timeout: float) -> CoverageRun:
    """The failing tests, then the others, each group under V8 coverage; the lines each group ran."""
    argv = list(command.argv or ())
    if argv[:1] != ["node"] or "--test" not in argv:
        return CoverageRun("", why=f"`{command.display()}` is not a plain `node --test` run")
    workspace = root.resolve()
    reporter = scratch / "reporter.mjs"
    reporter.write_text(_REPORTER, encoding="utf-8")
    failing_names = list(dict.fromkeys(_top_level_name(test_id) for test_id in failing))
    deadline = time.monotonic() + timeout
    over = CoverageRun("v8", why=f"the coverage run took longer than its budget ({timeout:g} s)", timed_out=True)
    first = await _invoke(cwd, argv, failing_names, scratch / "failing", reporter, deadline)
    if first is None:
        return over
    groups = [TestCoverage("the failing tests", True, await _lines(scratch / "failing", workspace),
                           weight=max(sum(first.failed.values()), 1))]
    passing_names = [name for name in dict.fromkeys(first.top) if name not in failing_names]
    if passing_names and sum(len(n) + 1 for n in passing_names) < MAX_PATTERN:
        second = await _invoke(cwd, argv, passing_names, scratch / "passing", reporter, deadline)
        if second is None:
            return over
        if sum(second.passed.values()):
            groups.append(TestCoverage("the passing tests", False, await _lines(scratch / "passing", workspace),
                                       weight=sum(second.passed.values())))
    others = _without_test_files(cwd, argv)
    if others is not None:
        # Past the deadline, the groups above are still a spectrum: this one only sharpens it, with
        # the files that finished in time (each wrote its coverage when its process exited).
        third = await _invoke(cwd, others, None, scratch / "others", reporter, deadline, partial=True)
        if third is not None:
            # Files the runs above held are counted there; files with a failure are no passing group.
            clean = {str(Path(file).resolve()): count for file, count in third.passed.items()
                     if not third.failed.get(file) and str(Path(file).resolve()) not in first.files}
            by_file = await asyncio.to_thread(lines_by_test_file, scratch / "others" / "v8", workspace, set(clean))
            # One group per file (its own process): a line only some files run is told apart from one they all do.
            groups += [TestCoverage(f"the passing tests of {Path(file).name}", False, lines, weight=clean[file])
                       for file, lines in sorted(by_file.items()) if lines]
    return CoverageRun("v8", groups)


def _top_level_name(test_id: str) -> str:
    """The top-level test of an id (`test/x.test.js > suite > name`: the file first, when it is named)."""
    parts = test_id.split(" > ")
    if len(parts) > 1 and _SCRIPT.search(parts[0]):
        parts = parts[1:]
    return parts[0]


def _without_test_files(cwd: Path, argv: list[str]) -> list[str] | None:
    """The command without the test files (or folders, globs) it names, so node finds every test file
    itself; None when it names none (its runs above already held every file)."""
    at = argv.index("--test") + 1
    named = [arg for arg in argv[at:] if not arg.startswith("-")
             and (re.search(r"[*?{]", arg) or (cwd / arg).exists())]
    return [arg for arg in argv if arg not in named] if named else None


async def _invoke(cwd: Path, argv: list[str], names: list[str] | None, folder: Path, reporter: Path,
                  deadline: float, partial: bool = False) -> _Report | None:
    """One run of the top-level tests named ``names`` (all of them: None) under coverage, into
    ``folder``; what it ran. None when the deadline passed (with ``partial``, what it reported by then)."""
    folder.mkdir()
    events = folder / "events.jsonl"
    at = argv.index("--test") + 1
    pattern = [] if names is None else \
        ["--test-name-pattern=^(" + "|".join(re.escape(name) for name in names) + ")$"]
    full = [*argv[:at], f"--test-reporter={reporter}", f"--test-reporter-destination={events}", *pattern, *argv[at:]]
    env, secrets = scrubbed_environment()
    env["NODE_V8_COVERAGE"] = str(folder / "v8")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    result = await run_process_tree(cwd, argv=full, env=env, secrets=secrets, timeout=remaining)
    if result.timed_out and not partial:
        return None
    return _read_events(events)


def _read_events(path: Path) -> _Report:
    """The reporter's lines: a test is a leaf unless the test its file reported just before it (its
    last subtest, which node reports first) is nested one deeper."""
    report = _Report()
    previous: dict[str, int] = {}  # test file -> nesting of its last test reported
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return report
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        file, nesting = event.get("file") or "", event.get("nesting", 0)
        report.files.add(str(Path(file).resolve()) if file else "")
        if nesting == 0:
            report.top.append(str(event.get("name", "")))
        parent = previous.get(file) == nesting + 1
        previous[file] = nesting
        if not parent and event.get("outcome") in ("failed", "passed"):
            into = report.failed if event["outcome"] == "failed" else report.passed
            into[file] = into.get(file, 0) + 1
    return report


async def _lines(folder: Path, workspace: Path) -> dict[str, set[int]]:
    return await asyncio.to_thread(executed_lines, folder / "v8", workspace)


def lines_by_test_file(folder: Path, workspace: Path, test_files: set[str]) -> dict[str, dict[str, set[int]]]:
    """Absolute path of each of ``test_files`` whose process wrote its coverage to ``folder`` -> the
    workspace lines that process executed (node runs each test file in a process of its own)."""
    found: dict[str, dict[str, set[int]]] = {}
    sources: dict[str, str | None] = {}
    for file in sorted(folder.glob("*.json")):
        scripts = _scripts(file)
        loaded = {str(Path(unquote(urlparse(script.get("url", "")).path)).resolve()) for script in scripts
                  if script.get("url", "").startswith("file://")} & test_files
        for test_file in loaded:
            into = found.setdefault(test_file, {})
            for path, lines in _script_lines(scripts, workspace, sources).items():
                into.setdefault(path, set()).update(lines)
    return found


def executed_lines(folder: Path, workspace: Path) -> dict[str, set[int]]:
    """Workspace-relative path -> 1-based lines executed, from every V8 coverage file in ``folder``."""
    found: dict[str, set[int]] = {}
    sources: dict[str, str | None] = {}
    for file in sorted(folder.glob("*.json")):
        for path, lines in _script_lines(_scripts(file), workspace, sources).items():
            found.setdefault(path, set()).update(lines)
    return found


def _scripts(file: Path) -> list[dict]:
    """The scripts of one V8 coverage file (none if it cannot be read)."""
    try:
        scripts = json.loads(file.read_text(encoding="utf-8")).get("result", [])
    except (OSError, ValueError, AttributeError):
        return []
    return scripts if isinstance(scripts, list) else []


def _script_lines(scripts: list[dict], workspace: Path, sources: dict[str, str | None]) -> dict[str, set[int]]:
    """Workspace-relative path -> lines that ran, for the workspace's scripts (``sources`` caches their text)."""
    found: dict[str, set[int]] = {}
    for script in scripts:
        url = script.get("url", "")
        if not url.startswith("file://"):
            continue  # node's own modules
        try:
            path = Path(unquote(urlparse(url).path)).resolve().relative_to(workspace).as_posix()
        except ValueError:
            continue
        if "node_modules" in path.split("/"):
            continue
        if path not in sources:
            sources[path] = _source(workspace / path)
        source = sources[path]
        if source is None:
            continue
        ran = {line for line, count in line_counts(source, script.get("functions", [])).items() if count > 0}
        if ran:
            found.setdefault(path, set()).update(ran)
    return found


def _source(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_SOURCE:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def line_counts(source: str, functions: list[dict]) -> dict[int, int]:
    """1-based line -> execution count of the innermost V8 range holding the line's first character.

    Empty if the ranges reach past the source (V8 compiled something else than this text).
    """
    if source.startswith("\ufeff"):
        source = source[1:]  # node strips a byte-order mark before compiling
    starts: list[int] = []  # UTF-16 offset of each code line's first character
    numbers: list[int] = []
    offset = 0
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.lstrip()
        if stripped and not stripped.startswith(_COMMENT):
            starts.append(offset + len(line) - len(stripped))  # indentation is ASCII: one unit each
            numbers.append(number)
        offset += (len(line) if line.isascii() else len(line.encode("utf-16-le")) // 2) + 1
    ranges = [(r["startOffset"], r["endOffset"], r["count"]) for f in functions for r in f.get("ranges", [])]
    if not ranges or max(end for _, end, _ in ranges) > offset:
        return {}
    counts: dict[int, int] = {}
    # Outer ranges first, so each nested block overwrites the lines it holds.
    for start, end, count in sorted(ranges, key=lambda r: r[0] - r[1]):
        for i in range(bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)):
            counts[numbers[i]] = count
    return counts
