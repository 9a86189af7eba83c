"""``node --test`` under V8's own coverage (``NODE_V8_COVERAGE``), mapped back to lines.

Node's runner has no per-test coverage contexts, so the tests run as two invocations of the
project's own command, each restricted with ``--test-name-pattern``: the top-level tests holding
the failing tests, then the other top-level tests the first run listed (skipped there, by name).
Top-level, because node 20 runs a matching test with all its subtests and skips the subtests of
one that does not match: a failing subtest's passing siblings count with the failing group (less
contrast, never a wrong direction). Each invocation is one group of the spectrum, weighted by the
tests that failed (first) or passed (second) in it. Every test file is loaded in both, so code that
runs at load time counts for the passing group too, as it should.

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
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

from .process import run_process_tree, scrubbed_environment
from .types import CoverageRun, TestCommand, TestCoverage

MAX_PATTERN = 64_000  # characters of a name pattern (one argv entry may hold 128 KiB)
MAX_SOURCE = 2_000_000  # bytes of a source file mapped from offsets to lines
_COMMENT = ("//", "/*", "*")
#: A test id that starts with its file (`test/x.test.js > …`), as the reports name node tests.
_SCRIPT = re.compile(r"\.(?:[cm]?[jt]s|[jt]sx)$")


async def run(root: Path, cwd: Path, command: TestCommand, failing: list[str], scratch: Path,
              timeout: float) -> CoverageRun:
    """The failing tests and then the others, each group under V8 coverage; the lines each group ran."""
    argv = list(command.argv or ())
    if argv[:1] != ["node"] or "--test" not in argv:
        return CoverageRun("", why=f"`{command.display()}` is not a plain `node --test` run")
    workspace = root.resolve()
    failing_names = list(dict.fromkeys(_top_level_name(test_id) for test_id in failing))
    deadline = time.monotonic() + timeout
    first = await _invoke(cwd, argv, failing_names, scratch / "failing", deadline)
    if first is None:
        return CoverageRun("v8", why=f"the coverage run took longer than its budget ({timeout:g} s)",
                               timed_out=True)
    listed, failed, _ = first
    passing_names = [name for name in dict.fromkeys(listed) if name not in failing_names]
    groups = [TestCoverage("the failing tests", True, {}, weight=max(failed, 1))]
    if passing_names and sum(len(n) + 1 for n in passing_names) < MAX_PATTERN:
        second = await _invoke(cwd, argv, passing_names, scratch / "passing", deadline)
        if second is None:
            return CoverageRun("v8", why=f"the coverage run took longer than its budget ({timeout:g} s)",
                               timed_out=True)
        if second[2]:
            groups.append(TestCoverage("the passing tests", False, {}, weight=second[2]))
    for group, folder in zip(groups, ("failing", "passing")):
        group.lines = await asyncio.to_thread(executed_lines, scratch / folder / "v8", workspace)
    return CoverageRun("v8", groups)


def _top_level_name(test_id: str) -> str:
    """The top-level test of an id (`test/x.test.js > suite > name`: the file first, when it is named)."""
    parts = test_id.split(" > ")
    if len(parts) > 1 and _SCRIPT.search(parts[0]):
        parts = parts[1:]
    return parts[0]


async def _invoke(cwd: Path, argv: list[str], names: list[str], folder: Path,
                  deadline: float) -> tuple[list[str], int, int] | None:
    """One run of the top-level tests named ``names``: the top-level names its report lists, how
    many tests failed and how many passed (skipped ones left out). None when the deadline passed."""
    folder.mkdir()
    report = folder / "report.xml"
    at = argv.index("--test") + 1
    pattern = "^(" + "|".join(re.escape(name) for name in names) + ")$"
    full = [*argv[:at], "--test-reporter=junit", f"--test-reporter-destination={report}",
            f"--test-name-pattern={pattern}", *argv[at:]]
    env, secrets = scrubbed_environment()
    env["NODE_V8_COVERAGE"] = str(folder / "v8")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    result = await run_process_tree(cwd, argv=full, env=env, secrets=secrets, timeout=remaining)
    if result.timed_out:
        return None
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError):
        return [], 0, 0
    cases = list(root.iter("testcase"))
    failed = sum(1 for case in cases if case.find("failure") is not None or case.find("error") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    top = [child.get("name", "") for child in root if child.tag in ("testsuite", "testcase")]
    return top, failed, len(cases) - failed - skipped


def executed_lines(folder: Path, workspace: Path) -> dict[str, set[int]]:
    """Workspace-relative path -> 1-based lines executed, from every V8 coverage file in ``folder``."""
    counts: dict[str, dict[int, int]] = {}
    sources: dict[str, str | None] = {}
    for file in sorted(folder.glob("*.json")):
        try:
            scripts = json.loads(file.read_text(encoding="utf-8")).get("result", [])
        except (OSError, ValueError, AttributeError):
            continue
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
            into = counts.setdefault(path, {})
            for line, count in line_counts(source, script.get("functions", [])).items():
                into[line] = into.get(line, 0) + count
    return {path: {line for line, count in lines.items() if count > 0} for path, lines in counts.items()
            if any(count > 0 for count in lines.values())}


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
