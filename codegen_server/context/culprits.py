"""Focused context for failing tests: follow each test to the code it exercises, rank the likely culprits.

From each failing test we follow what it runs: the test function (with its parametrization),
its fixtures, the names it calls resolved through the index (methods through the classes the
test names, imports through their modules), and the traceback frames. The culprits are ranked:
frames in product code first, then the functions the failing tests call directly (those more
failing tests call first), then what those call. When the failing tests ran under coverage,
the functions they executed and the passing tests rarely did (``spectrum.py``) come before all
of those, however many calls deep they are. Failures of one test function are grouped, with
the parameters and messages that differ.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .failures import FailureTrace, Frame
from .focus import decorated_start, definition_piece, resolve_frame
from .output import trim_output
from .pieces import Piece
from .resolve import Resolver, Target, is_test_path
from .spectrum import Suspect, suspect_functions

FAILURES = "Failing tests"
OUTPUT = "Test output (trimmed to what the list above does not say)"
TESTS_CODE = "The failing tests' code"
CULPRITS = "Code under test, most likely culprits first"
FAILURE_SECTIONS = [FAILURES, OUTPUT, TESTS_CODE, CULPRITS]

MAX_GROUPS_SHOWN = 6  # test functions whose bodies are quoted; the rest are listed
MAX_LISTED = 40  # test functions listed in the summary
MAX_CALLEE_HOPS = 8  # direct culprits whose own callees are followed
MAX_SUSPECTS = 6  # functions quoted from the coverage ranking
SUSPECTS_FIRST = 3  # of those, quoted before the static culprits
OUTPUT_BUDGET = 1200
OUTPUT_BRIEF_BUDGET = 300
CONSTRUCTORS = ("__init__", "__new__", "__post_init__", "constructor", "new")
_PARAMS = re.compile(r"\(([^)]*)\)")
_ARGNAMES = re.compile(r"parametrize\(\s*[(\[]?\s*((?:[\"'][\w\s,]+[\"']\s*,?\s*)+)")


@dataclass
class FailureGroup:
    """The failing cases of one test function."""

    base_id: str
    cases: list[FailureTrace]

    @property
    def test_name(self) -> str:
        return self.cases[0].test_name


def group_failures(failures: list[FailureTrace]) -> list[FailureGroup]:
    """Failures grouped by test function (parametrized cases together), in first-seen order."""
    groups: dict[str, FailureGroup] = {}
    for failure in failures:
        base = failure.test_id.split("[", 1)[0]
        groups.setdefault(base, FailureGroup(base, [])).cases.append(failure)
    return list(groups.values())


def _short(message: str, max_lines: int = 3, max_chars: int = 300) -> str:
    lines = [line for line in message.strip().splitlines() if line.strip()][:max_lines]
    text = " / ".join(line.strip() for line in lines) or "(no message captured)"
    return text if len(text) <= max_chars else text[:max_chars - 1] + "…"


def summary_text(groups: list[FailureGroup]) -> str:
    """One entry per test function; its cases' parameters grouped by message."""
    out: list[str] = []
    for group in groups[:MAX_LISTED]:
        if len(group.cases) == 1:
            out.append(f"- {group.cases[0].test_id}: {_short(group.cases[0].message)}")
            continue
        out.append(f"- {group.base_id}: {len(group.cases)} cases fail")
        by_message: dict[str, list[str]] = {}
        for case in group.cases:
            params = case.test_id[len(group.base_id):] or case.test_id
            by_message.setdefault(_short(case.message), []).append(params)
        for message, params in by_message.items():
            shown = ", ".join(params[:8]) + (f", and {len(params) - 8} more" if len(params) > 8 else "")
            out.append(f"    {shown}: {message}")
    if len(groups) > MAX_LISTED:
        out.append(f"- ... and {len(groups) - MAX_LISTED} more failing test functions")
    return "\n".join(out)


class _Ranked:
    """Culprit candidates with how many failing tests reach each, in first-seen order."""

    def __init__(self) -> None:
        self.count: dict[Target, int] = {}
        self.marked: dict[Target, set[int]] = {}

    def add(self, target: Target, marked: set[int] = frozenset()) -> None:
        self.count[target] = self.count.get(target, 0) + 1
        self.marked.setdefault(target, set()).update(marked)

    def ordered(self) -> list[Target]:
        order = {t: i for i, t in enumerate(self.count)}
        return sorted(self.count, key=lambda t: (-self.count[t], order[t]))


def _test_target(resolver: Resolver, group: FailureGroup) -> tuple[str, Target] | None:
    """The test function's definition: in the file its id names, else at its innermost workspace frame."""
    case = group.cases[0]
    paths: list[str] = []
    if "::" in case.test_id:
        path = resolve_frame(resolver.index, resolver.records, Frame(case.test_id.split("::", 1)[0], 0))
        if path:
            paths.append(path)
    for frame in case.frames:
        path = resolve_frame(resolver.index, resolver.records, frame)
        if path and path not in paths:
            paths.append(path)
    owners = [part for part in re.split(r"::|\.", case.test_id.split("[", 1)[0])[:-1]]
    for path in paths:
        definitions = resolver.records[path].tags.definitions
        matches = [i for i, d in enumerate(definitions) if d.name == case.test_name]
        # Test classes may share method names: prefer the one inside the class the id names.
        matches.sort(key=lambda i: definitions[definitions[i].parent].name not in owners if definitions[i].parent >= 0 else True)
        if matches:
            return path, Target(path, matches[0])
    for path in paths:
        for frame in case.frames:
            if resolve_frame(resolver.index, resolver.records, frame) == path:
                target = resolver.enclosing_function(path, frame.line - 1)
                if target is not None:
                    return path, target
    return None


def _fixtures(resolver: Resolver, test_path: str, target: Target) -> list[Target]:
    """Definitions of the test's parameters that are fixtures: same-named functions in test files."""
    definition = resolver.definition(target)
    match = _PARAMS.search(definition.signature)
    if not match:
        return []
    names = [p.split(":")[0].split("=")[0].strip().lstrip("*") for p in match.group(1).split(",")]
    # Parameters given by @pytest.mark.parametrize are values, not fixtures.
    lines = resolver.lines(target.path)
    decorators = "\n".join(lines[decorated_start(lines, definition.line):definition.line])
    parametrized = {n.strip() for argnames in _ARGNAMES.findall(decorators) for n in re.split(r"[,\s'\"]+", argnames)}
    found = []
    for name in names:
        if not name or name in ("self", "cls") or name in parametrized:
            continue
        candidates = [t for t in resolver.definers.get(name, ())
                      if is_test_path(t.path) and resolver.definition(t).kind == "function"]
        # The same file's fixture, then a conftest.py, as pytest looks them up.
        candidates.sort(key=lambda t: (t.path != test_path, not t.path.endswith("conftest.py")))
        found += candidates[:1]
    return found


def _as_shown(resolver: Resolver, target: Target) -> Target:
    """What to quote for a called definition: a class by its constructor (calling a class runs
    that), a class without one whole; anything else itself."""
    definition = resolver.definition(target)
    if definition.kind not in ("class", "struct"):
        return target
    definitions = resolver.records[target.path].tags.definitions
    for i, member in enumerate(definitions):
        if member.parent == target.index and member.name in CONSTRUCTORS:
            return Target(target.path, i)
    return target


def _calls(resolver: Resolver, path: str, target: Target, extra_classes: set[str] = frozenset()) -> list[Target]:
    """What the body of ``target`` calls, resolved; methods through the classes it names or its own class."""
    definition = resolver.definition(target)
    names = resolver.names_used(path, definition.line, definition.end_line)
    classes = resolver.class_names(list(resolver.words_in(path, definition.line, definition.end_line))) | set(extra_classes)
    if (owner := resolver.parent_name(target)) is not None:
        classes.add(owner)
    text = "\n".join(resolver.lines(path)[definition.line:definition.end_line + 1])
    found: list[Target] = []
    for name in names:
        if name == definition.name:
            continue
        for resolved in resolver.resolve(name, path, classes, text):
            if resolved != target and resolved not in found:
                found.append(resolved)
    for resolved in resolver.dispatched(path, definition.line, definition.end_line, classes):
        if resolved != target and resolved not in found:
            found.append(resolved)
    if is_test_path(path):
        # `assert a < b` on the classes a test names runs their special methods.
        body_start = definition.line + 1  # the signature's own `->` and defaults are not operators
        for resolved in resolver.operator_methods(path, body_start, definition.end_line, classes):
            if resolved != target and resolved not in found:
                found.append(resolved)
    return found


def suspect_pieces(resolver: Resolver, suspects: Sequence[Suspect]) -> list[Piece]:
    """The functions a coverage run of the failing tests ranks most suspicious, quoted whole, best first."""
    return [definition_piece(resolver, s.target, CULPRITS, f"Run by the failing tests (suspicion {s.score:.2f})", s.marked)
            for s in suspect_functions(resolver, suspects, MAX_SUSPECTS)]


def failure_pieces(resolver: Resolver, failures: list[FailureTrace], output: str | None,
                   suspects: Sequence[Suspect] = ()) -> list[Piece]:
    """Pieces for the failing tests, most important first (see the module docstring).

    ``suspects``: product lines ranked by a coverage run of the failing tests (best first).
    """
    groups = group_failures(failures)
    summary = Piece(FAILURES, summary_text(groups), identifiers={g.test_name for g in groups})
    tests: list[Piece] = []
    fixtures: list[Piece] = []
    frames = _Ranked()
    direct = _Ranked()
    helpers = _Ranked()
    for number, group in enumerate(groups):
        case = group.cases[0]
        located = _test_target(resolver, group)
        if located is not None:
            test_path, test = located
            definition = resolver.definition(test)
            marked = {f.line - 1 for f in case.frames
                      if resolve_frame(resolver.index, resolver.records, f) == test_path
                      and definition.line <= f.line - 1 <= definition.end_line}
            piece = definition_piece(resolver, test, TESTS_CODE, "Test", marked)
            if number >= MAX_GROUPS_SHOWN:
                piece.text = ""  # listed above; its signature at most
            tests.append(piece)
            fixture_targets = _fixtures(resolver, test_path, test) if number < MAX_GROUPS_SHOWN else []
            fixtures += [definition_piece(resolver, f, TESTS_CODE, "Fixture") for f in fixture_targets]
            # Classes the fixtures build: the test calls methods on the objects they provide.
            fixture_classes: set[str] = set()
            for fixture in fixture_targets:
                fixture_def = resolver.definition(fixture)
                fixture_classes |= resolver.class_names(list(resolver.words_in(fixture.path, fixture_def.line, fixture_def.end_line)))
            called = _calls(resolver, test_path, test, fixture_classes)
            for fixture in fixture_targets:
                called += _calls(resolver, fixture.path, fixture)
            for target in dict.fromkeys(called):
                (helpers if is_test_path(target.path) else direct).add(_as_shown(resolver, target))
        for frame in reversed(case.frames):  # innermost first
            path = resolve_frame(resolver.index, resolver.records, frame)
            if path is None or is_test_path(path):
                continue
            target = resolver.enclosing_function(path, frame.line - 1)
            if target is not None:
                frames.add(target, {frame.line - 1})

    culprits = [t for t in frames.count] + [t for t in direct.ordered() if t not in frames.count]
    marks = {**direct.marked, **frames.marked}
    callees: list[Target] = []
    for target in culprits[:MAX_CALLEE_HOPS]:
        for callee in _calls(resolver, target.path, target):
            shown = _as_shown(resolver, callee)
            if shown not in culprits and shown not in callees and not is_test_path(shown.path):
                callees.append(shown)
    culprit_pieces = [definition_piece(resolver, t, CULPRITS, "Frame" if t in frames.count else "Called by the test",
                                       marks.get(t, set())) for t in culprits]
    callee_pieces = [definition_piece(resolver, t, CULPRITS, "Called from the code above") for t in callees]
    helper_pieces = [definition_piece(resolver, t, TESTS_CODE, "Test helper", helpers.marked.get(t, set()))
                     for t in helpers.ordered()]
    suspected = suspect_pieces(resolver, suspects)
    # Priority: the first test, the likeliest culprits by coverage, then by the static ranking, then
    # the other tests, their fixtures, more culprits.
    pieces = ([summary] + tests[:1] + suspected[:SUSPECTS_FIRST] + culprit_pieces[:2] + tests[1:MAX_GROUPS_SHOWN]
              + fixtures + suspected[SUSPECTS_FIRST:] + culprit_pieces[2:6])
    if output:
        trimmed = trim_output(output, OUTPUT_BUDGET)
        if trimmed:
            brief = trim_output(output, OUTPUT_BRIEF_BUDGET)
            pieces.append(Piece(OUTPUT, f"```\n{trimmed}\n```", f"```\n{brief}\n```"))
    pieces += helper_pieces + culprit_pieces[6:] + callee_pieces + tests[MAX_GROUPS_SHOWN:]
    return pieces
