"""pytest under coverage: the failing tests' file first, then the other test files with the time left —
dropped when they go over it, and then not tried again (in-process, a tiny project, no daemon)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from codegen_server.testing.coverage_run import run_under_coverage
from codegen_server.testing.types import TestCommand, TestFailure, TestRun
from codegen_server.workflows.fix_options import FixOptions
from codegen_server.workflows.localize import Localizer
from tests.support.deep_projects import PYTHON_SPLIT_FILES, write_project

FILES = {
    **PYTHON_SPLIT_FILES,
    # Another file that takes longer than any budget here: the rest of the suite does not finish in time.
    "tests/test_slow.py": "import time\n\n\ndef test_waits():\n    time.sleep(600)\n",
}


def _command(root: Path) -> TestCommand:
    return TestCommand("pytest", root, argv=(sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                            "tests/test_totals.py"))


def _verdict(command: TestCommand) -> TestRun:
    return TestRun(command.display(), 1, failed=1, duration=0.5,
                   failures=[TestFailure("tests/test_totals.py::test_totals", "failed", "", file="tests/test_totals.py")])


async def test_the_other_files_over_the_time_left_are_dropped_and_the_failing_tests_file_still_counts(tmp_path: Path):
    write_project(tmp_path, FILES)
    command = _command(tmp_path)
    started = time.monotonic()
    found = await run_under_coverage(tmp_path, command, _verdict(command), timeout=12)

    assert time.monotonic() - started < 30
    assert found.usable and found.others_cut and not found.timed_out and not found.why, found.why
    assert [(t.test_id, t.failed) for t in found.tests] == [("tests/test_totals.py::test_totals", True)]


async def test_once_the_other_files_went_over_the_time_left_later_iterations_do_not_run_them(tmp_path: Path):
    # The Localizer's host is only asked for the root and to report progress.
    class Progress:
        def phase(self, text: str) -> None:
            pass

    class Host:
        root = tmp_path
        progress = Progress()

    write_project(tmp_path, FILES)
    command = _command(tmp_path)
    localizer = Localizer(Host(), command, FixOptions(test_timeout=12))
    first = await localizer.localize(_verdict(command))
    assert first.method == "coverage" and localizer.others is False

    started = time.monotonic()
    second = await localizer.localize(_verdict(command))
    assert second.method == "coverage" and time.monotonic() - started < 10  # the slow file was not waited for
