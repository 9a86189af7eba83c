"""Plain result types of the testing engine: what to run and what a run produced."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

# Which runner a command drives; decides how structured results are requested
# and how `only` (re-run just these tests) is expressed.
TestKind = Literal["pytest", "vitest", "jest", "node-test", "npm", "cargo", "go", "custom"]

# Where structured results come from.
ReportFormat = Literal["junit-xml", "jest-json", "node-junit", "go-json", "libtest", "text"]

FailureStatus = Literal["failed", "error"]


@dataclass(frozen=True)
class TestCommand:
    """A test command for one workspace.

    Exactly one of ``argv`` (run directly, no shell) or ``shell`` (a user-given
    command line, run through ``/bin/sh -c``) is set. ``cwd`` is absolute.
    ``report`` says which structured report the runner adds flags for;
    ``source`` says why this command was chosen (shown to the user).
    """

    __test__ = False  # not a pytest test class, despite the name

    kind: TestKind
    cwd: Path
    argv: tuple[str, ...] | None = None
    shell: str | None = None
    report: ReportFormat = "text"
    source: str = ""

    def __post_init__(self) -> None:
        if (self.argv is None) == (self.shell is None):
            raise ValueError("TestCommand needs exactly one of argv or shell")

    def display(self) -> str:
        """The command as a person would type it."""
        if self.shell is not None:
            return self.shell
        return shlex.join(self.argv or ())


@dataclass(frozen=True)
class TestFailure:
    """One failing (or erroring) test, located as precisely as the runner allows.

    ``test_id`` is what ``run_tests(only=...)`` accepts (ids in angle brackets,
    ``<run>``, ``<timeout>``, ``<build> file:line``, stand for a whole-run problem) to re-run just this test
    (a pytest node id, ``file > describe > name`` for vitest/jest/node, the
    libtest path for cargo, ``package/TestName`` for go). ``file`` is relative
    to the command's cwd when it lies inside it. ``line`` is 1-based.
    """

    __test__ = False  # not a pytest test class, despite the name

    test_id: str
    status: FailureStatus
    message: str
    file: str | None = None
    line: int | None = None
    output: str = ""


@dataclass
class TestRun:
    """The outcome of one test command run."""

    __test__ = False  # not a pytest test class, despite the name

    command: str
    exit_code: int | None
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failures: list[TestFailure] = field(default_factory=list)
    timed_out: bool = False
    truncated: bool = False
    duration: float = 0.0
    output: str = ""
    structured: bool = False  # counts came from a machine-readable report
    selected: tuple[str, ...] = ()  # the test ids the run was restricted to; () = full suite

    @property
    def green(self) -> bool:
        """True only when the command succeeded and nothing failed or errored.

        A collection/compile error or a crash is never green, even with zero
        failed tests, and neither is a run that timed out.
        """
        return (
            not self.timed_out
            and self.exit_code == 0
            and self.failed == 0
            and self.errors == 0
            and not self.failures
        )

    @property
    def failing_ids(self) -> list[str]:
        """Ids of the failing tests, in report order, without duplicates."""
        return list(dict.fromkeys(f.test_id for f in self.failures))


@dataclass
class ParsedReport:
    """Counts and failures read from one runner's report (structured or text)."""

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failures: list[TestFailure] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped


@dataclass
class TestCoverage:
    """The lines one test (or a group of tests run together) executed, and whether it failed."""

    __test__ = False  # not a pytest test class, despite the name

    test_id: str
    failed: bool
    #: Workspace-relative path (posix) -> 1-based lines executed.
    lines: dict[str, set[int]]
    #: How many tests this stands for (a group run as one invocation counts as its size).
    weight: int = 1


@dataclass
class CoverageRun:
    """What the coverage run found; ``tests`` is empty when it could not run, and ``why`` says why."""

    tool: str  # "coverage.py" | "v8" | ""
    tests: list[TestCoverage] = field(default_factory=list)
    seconds: float = 0.0
    why: str = ""
    #: It went over its time budget (and was killed).
    timed_out: bool = False
    #: The run of the other test files went over the time left and was dropped (the failing tests'
    #: files were measured): a later run need not try it again.
    others_cut: bool = False

    @property
    def usable(self) -> bool:
        """At least one failing test executed a line of the workspace."""
        return any(t.failed and any(t.lines.values()) for t in self.tests)
