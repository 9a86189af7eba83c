"""Fault localization for the fix loop: which code the failing tests ran and the passing ones did not.

Recipe, once per iteration:
1. Run the failing tests, and the passing tests of the same files, under line coverage
   (``testing/coverage_run.py``), within a time budget relative to the plain test run; with the time
   left, the other test files' passing tests too (pytest; not again once that went over the time left).
2. Rank the lines they executed by Ochiai's score (``context/spectrum.py``); the context engine
   quotes the best functions first among the culprits.
3. When coverage cannot run (an unsupported runner, no coverage.py in the project's interpreter,
   over budget, nothing recorded, only test files ran in the workspace), say why: the context is then the static one alone. Once the
   coverage run has gone over its budget, later iterations do not try again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..testing.coverage_run import run_under_coverage
from .fix_options import FixOptions
from .host import Host

if TYPE_CHECKING:
    from ..context.spectrum import Suspect
    from ..testing import TestCommand, TestRun

MIN_BUDGET = 20.0  # seconds the coverage run may always take
BUDGET_FACTOR = 4.0  # ... or this many times the plain test run, if longer
RECORDED_SUSPECTS = 20  # lines kept in the run's record of a ranking
NOTHING_IN_WORKSPACE = ("under coverage, the failing tests ran no line of the workspace outside test files: "
                        "the code they test is imported from elsewhere (an installed copy, in site-packages?)")


@dataclass
class Localization:
    """How the culprits were found for one iteration: ``coverage`` (with ``suspects``) or ``static``."""

    method: str
    why: str = ""
    seconds: float = 0.0
    tool: str = ""
    budget: float = 0.0
    suspects: list[Suspect] = field(default_factory=list)
    #: How long the plain test run took that the coverage run follows (its cost, side by side).
    test_seconds: float = 0.0

    def record(self) -> dict:
        """What the iteration record says (the ranking itself is written beside it)."""
        return {"method": self.method, "why": self.why, "seconds": self.seconds, "tool": self.tool,
                "budget": self.budget, "test_seconds": self.test_seconds}

    def ranking(self) -> dict:
        """The best-ranked lines, for the run's folder (``localization/NN.json``)."""
        return {**self.record(), "suspects": [
            {"path": s.path, "line": s.line, "score": round(s.score, 4), "failed": s.failed, "passed": s.passed}
            for s in self.suspects[:RECORDED_SUSPECTS]]}


class Localizer:
    """Runs the coverage localization for each iteration of one fix run."""

    def __init__(self, host: Host, command: TestCommand, options: FixOptions) -> None:
        self.host = host
        self.command = command
        self.options = options
        #: Why coverage is not tried any more (it went over budget once), if so.
        self.off = "" if options.localize else "coverage localization is turned off"
        #: Whether the other test files run too: not after they went over the time left once (a large
        #: suite would spend the whole budget every iteration and be dropped each time).
        self.others = True

    async def localize(self, verdict: TestRun) -> Localization:
        """The failing tests of ``verdict`` localized by coverage, or why the static context is used."""
        if self.off:
            return Localization("static", self.off, test_seconds=round(verdict.duration, 3))
        budget = round(min(self.options.test_timeout, max(MIN_BUDGET, BUDGET_FACTOR * verdict.duration)), 1)
        self.host.progress.phase("running the failing tests under coverage")
        found = await run_under_coverage(self.host.root, self.command, verdict, timeout=budget, others=self.others)
        self.others = self.others and not found.others_cut
        if not found.usable:
            if found.timed_out:
                self.off = f"{found.why}, in an earlier iteration"
            return Localization("static", found.why, found.seconds, found.tool, budget,
                                test_seconds=round(verdict.duration, 3))
        from ..context.spectrum import Execution, ochiai  # the context engine loads with its first use

        suspects = ochiai(Execution(t.failed, t.lines, t.weight) for t in found.tests)
        if not suspects:
            # Coverage measures the workspace only: the tests ran, the code they test was loaded from elsewhere.
            return Localization("static", NOTHING_IN_WORKSPACE, found.seconds, found.tool, budget,
                                test_seconds=round(verdict.duration, 3))
        return Localization("coverage", "", found.seconds, found.tool, budget, suspects, round(verdict.duration, 3))
