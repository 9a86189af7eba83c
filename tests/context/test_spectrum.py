"""Spectrum-based ranking: Ochiai's score, and which of equally scored lines comes first."""

from __future__ import annotations

from codegen_server.context.spectrum import Execution, ochiai


def test_equally_scored_lines_rank_those_every_failing_test_ran_first() -> None:
    # Three failing tests, six passing. `core.py:10` is run by all three failing tests and all six
    # passing ones; `edge.py:5` by one failing test alone. Both score 1/sqrt(3), up to float noise
    # (which, unrounded, puts edge.py first).
    executions = [Execution(True, {"pkg/core.py": {10}, "pkg/edge.py": {5} if i == 0 else set()}) for i in range(3)]
    executions += [Execution(False, {"pkg/core.py": {10}}) for _ in range(6)]
    ranked = ochiai(executions)
    assert [(s.path, s.line, s.failed, s.passed) for s in ranked] == [("pkg/core.py", 10, 3, 6), ("pkg/edge.py", 5, 1, 0)]
    assert abs(ranked[0].score - ranked[1].score) < 1e-12


def test_lines_only_failing_tests_run_score_highest_and_test_files_are_no_suspects() -> None:
    executions = [
        Execution(True, {"pkg/a.py": {1, 2, 3}, "tests/test_a.py": {7}}, weight=2),
        Execution(False, {"pkg/a.py": {1, 2}, "tests/test_a.py": {8}}, weight=3),
    ]
    ranked = ochiai(executions)
    assert [(s.line, round(s.score, 3)) for s in ranked] == [(3, 1.0), (1, 0.632), (2, 0.632)]
    assert all(s.path == "pkg/a.py" for s in ranked)
    assert ochiai([Execution(False, {"pkg/a.py": {1}})]) == []
