"""Run the failing tests, and the passing tests beside them, under line coverage: which lines each ran.

This is the raw material of spectrum-based fault localization (``context/spectrum.py`` ranks it):
a line that the failing tests run and the passing ones rarely do is a likely culprit, however many
calls away from the test it sits.

- pytest: coverage.py (``python -m coverage run -m pytest``) with the project's own interpreter, a
  context per test (a small pytest plugin switches coverage.py's context at each test), the failing
  tests' files, then, with the time left, the other test files (their passing tests);
- ``node --test``: V8's own coverage (``NODE_V8_COVERAGE``), byte ranges mapped back to lines; node's
  runner gives no per-test contexts, so the failing tests and the passing ones run as separate
  invocations (``--test-name-pattern``), and the other test files' passing tests as one group per file.

Anything else (jest and vitest, whose transforms move the code V8 sees; cargo, go; a shell command) is
not supported and says so. Every run goes through ``run_process_tree`` (own process group, timeout,
scrubbed environment, output cap); all files go to a temporary folder, none into the workspace. Its time
is bounded by the caller's ``timeout``: past it, nothing is returned and the caller falls back.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from . import coverage_pytest, coverage_v8
from .types import CoverageRun, TestCommand, TestRun


async def run_under_coverage(root: Path, command: TestCommand, verdict: TestRun, *, timeout: float,
                             others: bool = True) -> CoverageRun:
    """The failing tests of ``verdict`` (and the passing tests of their files) run under coverage;
    with ``others``, the other test files' passing tests too, where the runner's support does that (pytest).

    ``timeout`` bounds the whole thing (every invocation); a run that exceeds it is killed and
    reported as unusable. Never raises for a project's own trouble: ``why`` says what went wrong.
    """
    failing = [test_id for test_id in verdict.failing_ids if not test_id.startswith("<")]
    if not failing:
        return CoverageRun("", why="no failing test is named (a crash or collection error)")
    started = time.monotonic()
    cwd = command.cwd if command.cwd.is_absolute() else root / command.cwd
    with tempfile.TemporaryDirectory(prefix="codegen-coverage-") as scratch:
        if command.kind == "pytest":
            found = await coverage_pytest.run(root, cwd, command, failing, Path(scratch), timeout, others)
        elif command.kind == "node-test":
            found = await coverage_v8.run(root, cwd, command, failing, Path(scratch), timeout)
        else:
            found = CoverageRun("", why=f"coverage of {command.kind} test runs is not supported")
    found.seconds = round(time.monotonic() - started, 3)
    if found.tests and not found.usable and not found.why:
        found.why = "the failing tests executed no line of the workspace under coverage"
    return found
