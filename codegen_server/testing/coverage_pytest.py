"""pytest under coverage.py, one coverage context per test: which lines each test ran, and its outcome.

``python -m coverage run --rcfile=<temp> -m pytest -p <plugin> <failing tests' files>`` with the
interpreter the project's test command uses (so its packages are the ones imported); then, with the
time left, the rest of the suite (the command without the test paths it names, those and the failing
tests' files ignored), whose passing tests join the spectrum: a failing test's file often holds few
passing tests that run the same layers (a CLI runner, a parser, error reporting), and code that only
the failing tests run then looks as guilty as the slip. The rc file,
written to a temp folder, is the only configuration read (the project's own ``.coveragerc`` is not):
measure the workspace only, data file in the temp folder. The plugin, a module in the same temp
folder, switches coverage.py's dynamic context to the test's node id around each test (what
pytest-cov's ``--cov-context=test`` does, without needing pytest-cov in the project) and writes each
test's outcome. The data is read back with coverage.py's own ``CoverageData`` API.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from .process import run_process_tree, scrubbed_environment
from .types import CoverageRun, TestCommand, TestCoverage

PLUGIN = "_codegen_coverage_contexts"
_PLUGIN_SOURCE = '''\
"""codegen: one coverage.py context per test (its node id) and each test's outcome, for fault localization."""
import json

import coverage
import pytest

OUTCOMES = {}


def _switch(name):
    current = getattr(coverage.Coverage, "current", lambda: None)()
    if current is not None:
        current.switch_context(name)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _switch(item.nodeid)  # fixtures' setup counts for the test that asked for them


def pytest_runtest_logfinish(nodeid, location):
    _switch("")


def pytest_runtest_logreport(report):
    if report.failed:
        OUTCOMES[report.nodeid] = "failed"
    elif report.skipped and report.when != "teardown":
        OUTCOMES.setdefault(report.nodeid, "skipped")
    else:
        OUTCOMES.setdefault(report.nodeid, "passed")


def pytest_sessionfinish(session):
    with open(OUTCOMES_PATH, "w", encoding="utf-8") as f:
        json.dump(OUTCOMES, f)
'''
_GLOB = re.compile(r"[*?\[\]]")
_NO_COVERAGE = re.compile(r"No module named '?coverage'?")


async def run(root: Path, cwd: Path, command: TestCommand, failing: list[str], scratch: Path,
              timeout: float, others: bool = True) -> CoverageRun:
    """Run the files of the ``failing`` node ids under coverage, then (with ``others``) the other test files
    with the time left; each test's lines and outcome (the other files' passing tests only)."""
    split = interpreter(command)
    if split is None:
        return CoverageRun("", why=f"`{command.display()}` is not a plain pytest run through a Python interpreter")
    python, rest = split
    workspace = root.resolve()
    if _GLOB.search(str(workspace)):
        return CoverageRun("", why="the workspace's path holds glob characters coverage.py would misread")
    files = list(dict.fromkeys(test_id.split("::", 1)[0] for test_id in failing if ".py" in test_id.split("::", 1)[0]))
    if not files:
        return CoverageRun("", why="no failing test names its file")
    deadline = time.monotonic() + timeout
    first = await _covered(python, [*rest, *files], cwd, workspace, scratch / "failing", timeout)
    if first.why:
        return CoverageRun("coverage.py", first.tests, why=first.why, timed_out=first.timed_out) \
            if first.tool else CoverageRun("", why=first.why)
    if not any(test.failed for test in first.tests):
        ran = f"{len(first.tests)} passed" if first.tests else f"no test ran (exit {first.exit_code})"
        return CoverageRun("coverage.py", first.tests, why=f"under coverage, none of the failing tests failed: {ran}")
    if not others:
        return CoverageRun("coverage.py", first.tests)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return CoverageRun("coverage.py", first.tests, others_cut=True)
    # The failing tests' own files may hold few passing tests that run the same layers (a CLI runner, a
    # parser, error reporting): the rest of the suite tells the code every test runs from the code only
    # the failing ones do. It only sharpens the spectrum: over the time left, it is dropped.
    # What the first run ran (the files the command names, the failing tests' files) is left out.
    kept, named = _split_test_paths(cwd, rest)
    ignored = [f"--ignore={path}" for path in dict.fromkeys([*named, *files])]
    rest_run = await _covered(python, [*kept, *ignored], cwd, workspace, scratch / "others", remaining)
    # Failures there are not in the verdict (another cause, or the same slip): no passing group.
    passing = [test for test in rest_run.tests if not test.failed]
    return CoverageRun("coverage.py", first.tests + passing, others_cut=rest_run.timed_out)


@dataclass
class _Covered:
    """One pytest run under coverage: each test's lines and outcome, or why there are none."""

    tests: list[TestCoverage] = field(default_factory=list)
    why: str = ""
    tool: str = "coverage.py"  # empty when coverage.py could not even start
    timed_out: bool = False
    exit_code: int | None = None


async def _covered(python: str, args: list[str], cwd: Path, workspace: Path, folder: Path,
                   timeout: float) -> _Covered:
    """``python -m coverage run -m pytest ARGS`` with the contexts plugin, its files in ``folder``."""
    folder.mkdir()
    data, outcomes, rc = folder / "coverage.data", folder / "outcomes.json", folder / "coveragerc"
    # Only this file configures coverage.py (--rcfile): the workspace's own settings are not read.
    rc.write_text(f"[run]\ndata_file = {data}\ninclude = {workspace}{os.sep}*\n"
                  "omit =\n    */site-packages/*\n    */dist-packages/*\n    */node_modules/*\n", encoding="utf-8")
    (folder / f"{PLUGIN}.py").write_text(f"OUTCOMES_PATH = {str(outcomes)!r}\n{_PLUGIN_SOURCE}", encoding="utf-8")
    env, secrets = scrubbed_environment()
    for name in [n for n in env if n.startswith("COVERAGE_")]:
        del env[name]  # a COVERAGE_FILE or COVERAGE_RCFILE of the user's would redirect the data
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH", "")]))
    argv = [python, "-m", "coverage", "run", f"--rcfile={rc}", "-m", "pytest", *args,
            "-p", PLUGIN, "-p", "no:cacheprovider"]
    result = await run_process_tree(cwd, argv=argv, env=env, secrets=secrets, timeout=timeout)
    if result.timed_out:
        return _Covered(why=f"the coverage run took longer than its budget ({timeout:g} s)", timed_out=True)
    if not data.is_file():
        if _NO_COVERAGE.search(result.output):
            return _Covered(why=f"coverage.py is not installed for {python}", tool="")
        last = next((line.strip() for line in reversed(result.output.splitlines()) if line.strip()), "")
        return _Covered(why=f"the coverage run wrote no data (exit {result.exit_code}): {last[:200]}")
    if not outcomes.is_file():
        return _Covered(why="pytest did not report the tests' outcomes under coverage")
    try:
        lines = await asyncio.to_thread(read_contexts, data, workspace)
        tested = json.loads(outcomes.read_text(encoding="utf-8"))
    except Exception as error:  # noqa: BLE001 - another coverage.py's data, a half-written file: fall back, say why
        return _Covered(why=f"the coverage data could not be read: {error}")
    return _Covered([TestCoverage(test_id, outcome == "failed", lines.get(test_id, {}))
                     for test_id, outcome in tested.items() if outcome in ("failed", "passed")],
                    exit_code=result.exit_code)


#: pytest options whose value is the next argument (a path among them is no test path).
_VALUED = {"-c", "--config-file", "--rootdir", "--confcutdir", "--basetemp", "-p", "-o", "--override-ini", "-k", "-m",
           "--ignore", "--ignore-glob", "--deselect", "--junitxml", "--junit-xml", "--log-file", "-W",
           "--pythonwarnings", "--tb", "-r", "--maxfail", "--durations", "--import-mode", "--cov", "--cov-config"}


def _split_test_paths(cwd: Path, args: list[str]) -> tuple[list[str], list[str]]:
    """pytest's arguments without the test files, folders and node ids they name, and the files and
    folders those name (without pytest's own arguments, pytest collects the whole suite by itself)."""
    kept: list[str] = []
    named: list[str] = []
    for i, arg in enumerate(args):
        path = arg.split("::", 1)[0]
        if not arg.startswith("-") and (i == 0 or args[i - 1] not in _VALUED) and (cwd / path).exists():
            named.append(path)
        else:
            kept.append(arg)
    return kept, named


def interpreter(command: TestCommand) -> tuple[str, list[str]] | None:
    """The Python that runs ``command``'s pytest, and pytest's own arguments; None if it is not plain.

    ``python -m pytest ARGS`` names it; a ``pytest`` script names it in its ``#!`` line.
    """
    argv = list(command.argv or ())
    if len(argv) >= 3 and argv[1:3] == ["-m", "pytest"]:
        return argv[0], argv[3:]
    if argv and Path(argv[0]).name in ("pytest", "py.test"):
        script = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=os.environ.get("PATH"))
        words = _shebang(Path(script)) if script else []
        if words and words[0].endswith("/env"):
            words = words[1:]
        if len(words) == 1 and "python" in Path(words[0]).name:
            return words[0], argv[1:]
    return None


def _shebang(script: Path) -> list[str]:
    try:
        with script.open("rb") as f:
            first = f.readline(512)
    except OSError:
        return []
    return first[2:].decode("utf-8", "replace").split() if first.startswith(b"#!") else []


def read_contexts(data_file: Path, workspace: Path) -> dict[str, dict[str, set[int]]]:
    """Per context (a test's node id): workspace-relative path -> lines executed (blocking)."""
    import coverage

    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    found: dict[str, dict[str, set[int]]] = {}
    for measured in data.measured_files():
        try:
            path = Path(measured).resolve().relative_to(workspace).as_posix()
        except ValueError:
            continue
        for line, contexts in (data.contexts_by_lineno(measured) or {}).items():
            for context in contexts:
                if context and line > 0:
                    found.setdefault(context, {}).setdefault(path, set()).add(line)
    return found
