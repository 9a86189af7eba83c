"""Spectrum-based fault localization: rank product lines, then functions, by what failing tests ran.

Ochiai's score for a line: ``failed(line) / sqrt(failed_total * (failed(line) + passed(line)))``,
where failed(line) and passed(line) count the failing and passing tests that executed it. A line
every failing test runs and no passing test does scores 1; one the passing tests run as often
scores less; one no failing test runs scores 0. A function scores as its best line. Test files
are not suspects (the code under test is), and neither is anything under ``.codegen/``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from .resolve import Resolver, Target, is_test_path

MAX_MARKED = 4  # a function's best lines are marked with '>' only when they are this few


@dataclass(frozen=True)
class Suspect:
    """One product line the failing tests executed, with its score."""

    path: str  # workspace-relative, posix
    line: int  # 1-based
    score: float
    failed: int  # failing tests that executed it
    passed: int  # passing tests that executed it


@dataclass(frozen=True)
class Execution:
    """What one test (or a group of ``weight`` tests run together) executed."""

    failed: bool
    lines: Mapping[str, Collection[int]]
    weight: int = 1


def ochiai(executions: Iterable[Execution]) -> list[Suspect]:
    """Every product line a failing test executed, most suspicious first."""
    executions = list(executions)
    failed_total = sum(e.weight for e in executions if e.failed)
    if not failed_total:
        return []
    failed: dict[tuple[str, int], int] = {}
    passed: dict[tuple[str, int], int] = {}
    for execution in executions:
        into = failed if execution.failed else passed
        for path, lines in execution.lines.items():
            if is_test_path(path) or path.startswith(".codegen/"):
                continue
            for line in lines:
                into[(path, line)] = into.get((path, line), 0) + execution.weight
    suspects = [Suspect(path, line, ef / math.sqrt(failed_total * (ef + passed.get((path, line), 0))), ef,
                        passed.get((path, line), 0))
                for (path, line), ef in failed.items()]
    # Equal scores (a line 1 of 3 failing tests ran and no passing one, and one all 3 ran with 6 passing
    # ones) differ only by float noise: rounded, ties go to the lines every failing test executed, then
    # to those more failing tests did - what every failure passes through is the likelier slip.
    suspects.sort(key=lambda s: (-round(s.score, 9), s.failed < failed_total, -s.failed, s.path, s.line))
    return suspects


@dataclass
class SuspectFunction:
    """A function ranked by its best line; ``marked`` holds its best lines (0-based) when they stand out,
    ``best`` all of them (a long function is quoted around these)."""

    target: Target
    score: float
    marked: set[int] = field(default_factory=set)
    best: set[int] = field(default_factory=set)


def suspect_functions(resolver: Resolver, suspects: Iterable[Suspect], limit: int) -> list[SuspectFunction]:
    """The ``limit`` most suspicious definitions (the function around each line), best first.

    Ties keep the order of ``suspects`` (more failing tests first); lines outside any definition
    (module level) or in files the index does not hold are left out.
    """
    found: dict[Target, SuspectFunction] = {}
    best_lines: dict[Target, list[int]] = {}
    executed: dict[Target, int] = {}
    for suspect in suspects:
        if suspect.path not in resolver.records:
            continue
        target = resolver.enclosing_function(suspect.path, suspect.line - 1)
        if target is None:
            continue
        if target not in found:
            if len(found) >= limit:
                continue  # later lines may still belong to the functions already found
            found[target] = SuspectFunction(target, suspect.score)
        executed[target] = executed.get(target, 0) + 1
        if math.isclose(suspect.score, found[target].score):
            best_lines.setdefault(target, []).append(suspect.line - 1)
    for target, lines in best_lines.items():
        definition = resolver.definition(target)
        inside = [line for line in lines if definition.line <= line <= definition.end_line]
        found[target].best = set(inside)
        # Marked only when they stand out: a few of the lines the failing tests ran there, not all of them.
        if len(inside) <= MAX_MARKED and len(lines) < executed[target]:
            found[target].marked = set(inside)
    return list(found.values())
