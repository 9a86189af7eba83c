"""Focused context for failing tests: follow each test to the code it exercises, rank the likely culprits.

From each failing test we follow what it runs: the test function (with its parametrization),
or the test block (`it('…', () => …)`) its title and location name, its fixtures, the names it
calls resolved through the index (methods through the classes the test names, imports through
their modules), and the traceback frames. The culprits are ranked: frames in product code first,
then the functions the failing tests call directly (those more failing tests call first), then
what those call. The likeliest culprits' files come with their headers, and other tests that
call those culprits (passing or not) with their code. Failures of one test function are grouped,
with the parameters and messages that differ. When the failing tests ran under coverage, the
functions they executed and the passing tests rarely did (``spectrum.py``) come before the static
ranking, however many calls deep they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .failures import JS_RUNNERS, FailureTrace, Frame
from .focus import (decorated_start, definition_head, definition_piece, header_piece, quote_lines,
                    referencing_definitions, resolve_frame)
from .output import trim_output
from .pieces import Piece
from .resolve import TEST_BLOCK_KINDS, Resolver, Target, is_test_path
from .spectrum import Suspect, SuspectFunction, suspect_functions
from .tokens import count_tokens

FAILURES = "Failing tests"
OUTPUT = "Test output (trimmed to what the list above does not say)"
TESTS_CODE = "The failing tests' code"
CULPRITS = "Code under test, most likely culprits first"
OTHER_TESTS = "Other tests that call the likeliest culprits (passing or not)"
FAILURE_SECTIONS = [FAILURES, OUTPUT, TESTS_CODE, CULPRITS, OTHER_TESTS]

MAX_GROUPS_SHOWN = 6  # test functions whose bodies are quoted; the rest are listed
MAX_LISTED = 40  # test functions listed in the summary
MAX_CALLEE_HOPS = 8  # direct culprits whose own callees are followed
MAX_HEADERS = 2  # files of the likeliest culprits whose headers are quoted
MAX_OTHER_TESTS = 2  # other tests of the likeliest culprits quoted whole
MAX_SUSPECTS = 6  # functions quoted from the coverage ranking
REGION = 6  # lines either side of a suspect's most suspicious lines, in its brief form
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


#: Lines of one failure's message quoted in the list (an assertion's diff is kept as a block) ...
MESSAGE_LINES = 20
#: ... and of all the messages together: entries share them, the short ones whole, the long ones cut
#: to what is left (each keeps at least its first line).
MESSAGE_BUDGET = 60
#: Lines of a runner's message that only say how to see more, or mark columns under a diff line.
_HINT = re.compile(r"^\s*(\?\s.*|.*use -vv? to (show|get more diff).*|Use -v to get more diff)$")


def message_lines(message: str, max_lines: int = MESSAGE_LINES) -> list[str]:
    """A failure message's lines as the runner printed them, without blank lines and hints, at most
    ``max_lines`` (the last saying how many more there were, unless only the first is wanted)."""
    lines = _lines(message)
    if len(lines) > max_lines > 1:
        return lines[:max_lines - 1] + [f"... ({len(lines) - max_lines + 1} more lines)"]
    return lines[:max_lines]


def _lines(message: str) -> list[str]:
    return [line.rstrip() for line in message.strip("\n").splitlines() if line.strip() and not _HINT.match(line)]


def shares(lengths: list[int], budget: int, cap: int) -> list[int]:
    """Lines each of several messages may show: together at most ``budget`` (but one each at least),
    each at most ``cap``; the budget is shared evenly, a short message's unused share going to the others."""
    wanted = [max(1, min(length, cap)) for length in lengths]
    given = [0] * len(wanted)
    left = max(budget, len(wanted))
    for count, i in enumerate(sorted(range(len(wanted)), key=wanted.__getitem__)):
        given[i] = max(1, min(wanted[i], left // (len(wanted) - count)))
        left -= given[i]
    return given


def _entry(head: str, message: str, indent: str, max_lines: int) -> list[str]:
    """``head: message`` when the message is one line; else ``head:`` and the message below it, as a block."""
    lines = message_lines(message, max_lines) or ["(no message captured)"]
    if len(lines) == 1:
        return [f"{head}: {lines[0]}"]
    return [f"{head}:"] + [f"{indent}{line}" for line in lines]


def summary_text(groups: list[FailureGroup], max_lines: int = MESSAGE_LINES) -> str:
    """One entry per test function, its message quoted with its lines; a parametrized function's
    cases grouped by message. ``max_lines=1`` gives the one-line form. The messages share
    ``MESSAGE_BUDGET`` lines: many failures do not each bring a long diff."""
    entries: list[tuple[str, str, str] | str] = []  # (head, message, indent), or a line as it is
    for group in groups[:MAX_LISTED]:
        if len(group.cases) == 1:
            entries.append((f"- {group.cases[0].test_id}", group.cases[0].message, "    "))
            continue
        entries.append(f"- {group.base_id}: {len(group.cases)} cases fail")
        by_message: dict[str, list[str]] = {}
        for case in group.cases:
            params = case.test_id[len(group.base_id):] or case.test_id
            by_message.setdefault(case.message.strip(), []).append(params)
        for message, params in by_message.items():
            shown = ", ".join(params[:8]) + (f", and {len(params) - 8} more" if len(params) > 8 else "")
            entries.append((f"    {shown}", message, "        "))
    messages = [entry for entry in entries if isinstance(entry, tuple)]
    allowed = iter(shares([len(_lines(message)) for _, message, _ in messages], MESSAGE_BUDGET, max_lines))
    out: list[str] = []
    for entry in entries:
        out += [entry] if isinstance(entry, str) else _entry(*entry, next(allowed))
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


def _title(resolver: Resolver, target: Target) -> str:
    """What a test is called: a test block's title without its quotes, else the function's name."""
    definition = resolver.definition(target)
    return definition.name.strip("'\"`") if definition.kind in TEST_BLOCK_KINDS else definition.name


def _test_target(resolver: Resolver, group: FailureGroup) -> tuple[str, Target] | None:
    """The test's definition: in the file its id names, else in its workspace frames' files — by name
    (title), the one around a frame first; else the test around its innermost workspace frame."""
    case = group.cases[0]
    paths: list[str] = []
    if "::" in case.test_id:
        path = resolve_frame(resolver.index, resolver.records, Frame(case.test_id.split("::", 1)[0], 0))
        if path:
            paths.append(path)
    elif case.runner in JS_RUNNERS and " > " in case.test_id:  # vitest: `file > suite > title`
        path = resolve_frame(resolver.index, resolver.records, Frame(case.test_id.split(" > ", 1)[0], 0))
        if path:
            paths.append(path)
    for frame in case.frames:
        path = resolve_frame(resolver.index, resolver.records, frame)
        if path and path not in paths:
            paths.append(path)
    if case.runner in JS_RUNNERS:
        owners = [part.strip() for part in re.split(r"\s›\s|\s>\s", case.test_id)[:-1]]
    else:
        owners = [part for part in re.split(r"::|\.", case.test_id.split("[", 1)[0])[:-1]]
    for path in paths:
        definitions = resolver.records[path].tags.definitions
        lines = {f.line - 1 for f in case.frames if resolve_frame(resolver.index, resolver.records, f) == path}
        matches = [i for i, d in enumerate(definitions) if _title(resolver, Target(path, i)) == case.test_name]

        def rank(i: int) -> tuple[bool, bool]:
            around = any(definitions[i].line <= line <= definitions[i].end_line for line in lines)
            # Test classes (suites) may share method names (titles): prefer the one inside the one the id names.
            parent = definitions[i].parent
            owned = parent >= 0 and _title(resolver, Target(path, parent)) in owners
            return not around, not owned

        matches.sort(key=rank)
        if matches:
            return path, Target(path, matches[0])
    for path in paths:
        for frame in case.frames:
            if resolve_frame(resolver.index, resolver.records, frame) == path:
                target = resolver.enclosing_test(path, frame.line - 1)
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
    classes = set(extra_classes)
    if (owner := resolver.parent_name(target)) is not None:
        classes.add(owner)
    found = _calls_in(resolver, path, definition.line, definition.end_line, classes, definition.name,
                      values=not resolver.is_test(target))
    return [resolved for resolved in found if resolved != target]


def _calls_in(resolver: Resolver, path: str, first: int, last: int, classes: set[str],
              own_name: str | None = None, values: bool = False) -> list[Target]:
    """What lines first..last (0-based) of ``path`` call, resolved; methods through the classes they name
    (with ``values``, the module-level values they read too)."""
    names = resolver.names_used(path, first, last)
    if values:
        names += resolver.values_used(path, first, last)
    classes = resolver.class_names(list(resolver.words_in(path, first, last))) | classes
    text = "\n".join(resolver.lines(path)[first:last + 1])
    found: list[Target] = []
    for name in names:
        if name == own_name:
            continue
        for resolved in resolver.resolve(name, path, classes, text):
            if resolved not in found:
                found.append(resolved)
    for resolved in resolver.dispatched(path, first, last, classes):
        if resolved not in found:
            found.append(resolved)
    if is_test_path(path):
        # `assert a < b` on the classes a test names runs their special methods.
        body_start = first + 1  # the signature's own `->` and defaults are not operators
        for resolved in resolver.operator_methods(path, body_start, last, classes):
            if resolved not in found:
                found.append(resolved)
    return found


def suspect_pieces(resolver: Resolver, suspects: Sequence[Suspect]) -> list[Piece]:
    """The functions a coverage run of the failing tests ranks most suspicious, quoted whole, best first;
    a long one that no longer fits is quoted around its most suspicious lines."""
    return [_suspect_piece(resolver, s) for s in suspect_functions(resolver, suspects, MAX_SUSPECTS)]


def _suspect_piece(resolver: Resolver, suspect: SuspectFunction) -> Piece:
    heading = f"Run by the failing tests (suspicion {suspect.score:.2f})"
    piece = definition_piece(resolver, suspect.target, CULPRITS, heading, suspect.marked)
    if not suspect.best:
        return piece
    definition = resolver.definition(suspect.target)
    lines = resolver.lines(suspect.target.path)
    start = decorated_start(lines, definition.line)
    keep = set(range(start, definition.line)) | _signature_lines(lines, definition.line)  # decorators, signature
    for line in suspect.best:
        keep |= set(range(max(start, line - REGION), min(definition.end_line, line + REGION) + 1))
    head = definition_head(resolver, suspect.target, f"{heading}, around its most suspicious lines")
    region = f"{head}\n{quote_lines(lines, keep, suspect.marked)}"
    # A long function (a parser's loop, a constructor holding its callbacks) that no longer fits whole
    # would fall back to its signature, or a window around a few marked lines: the lines the failing
    # tests ran most apart from the passing ones are what the slip is likeliest among.
    if len(keep) < definition.end_line - start + 1 and count_tokens(region) < count_tokens(piece.text):
        piece.brief = region
    return piece


def _signature_lines(lines: list[str], first: int, limit: int = 20) -> set[int]:
    """A definition's signature lines: from ``first`` to the line that opens its body (``:``, ``{``, ``=>``)."""
    for end in range(first, min(len(lines), first + limit)):
        if lines[end].split("#", 1)[0].rstrip().endswith((":", "{", "=>")):
            return set(range(first, end + 1))
    return {first}


def failure_pieces(resolver: Resolver, failures: list[FailureTrace], output: str | None,
                   suspects: Sequence[Suspect] = ()) -> list[Piece]:
    """Pieces for the failing tests, most important first (see the module docstring).

    ``suspects``: product lines ranked by a coverage run of the failing tests (best first).
    """
    groups = group_failures(failures)
    summary = Piece(FAILURES, summary_text(groups), summary_text(groups, max_lines=1),
                    identifiers={g.test_name for g in groups})
    shown_tests: list[Target] = []
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
            shown_tests.append(test)
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
                (helpers if resolver.is_test(target) else direct).add(_as_shown(resolver, target))
        for frame in reversed(case.frames):  # innermost first
            path = resolve_frame(resolver.index, resolver.records, frame)
            if path is None or is_test_path(path):
                continue
            target = resolver.enclosing_function(path, frame.line - 1)
            if target is not None and not resolver.is_test(target):  # a Rust test next to its code is no culprit
                frames.add(target, {frame.line - 1})

    culprits = [t for t in frames.count] + [t for t in direct.ordered() if t not in frames.count]
    marks = {**direct.marked, **frames.marked}
    callees: list[Target] = []
    for target in culprits[:MAX_CALLEE_HOPS]:
        for callee in _calls(resolver, target.path, target):
            shown = _as_shown(resolver, callee)
            if shown not in culprits and shown not in callees and not resolver.is_test(shown):
                callees.append(shown)
    culprit_pieces = [definition_piece(resolver, t, CULPRITS, "Frame" if t in frames.count else "Called by the test",
                                       marks.get(t, set())) for t in culprits]
    callee_pieces = [definition_piece(resolver, t, CULPRITS, "Called from the code above") for t in callees]
    helper_pieces = [definition_piece(resolver, t, TESTS_CODE, "Test helper", helpers.marked.get(t, set()))
                     for t in helpers.ordered()]
    headers = [header_piece(resolver, path, CULPRITS) for path in dict.fromkeys(t.path for t in culprits[:MAX_HEADERS])]
    other_tests = [definition_piece(resolver, t, OTHER_TESTS, "Test") for t in _other_tests(resolver, culprits, shown_tests)]
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
    # What the culprits call may hold the slip: before the headers and the other tests, which help write the fix.
    pieces += (helper_pieces + culprit_pieces[6:] + callee_pieces + [h for h in headers if h] + other_tests
               + tests[MAX_GROUPS_SHOWN:])
    return pieces


def _other_tests(resolver: Resolver, culprits: list[Target], shown: list[Target]) -> list[Target]:
    """Tests besides the failing ones that call the likeliest culprits (those calling more of them
    first): what else pins the behaviour a fix may change."""
    calls: dict[Target, int] = {}
    for culprit in culprits[:MAX_CALLEE_HOPS]:
        name = resolver.definition(culprit).name
        if name in CONSTRUCTORS:
            name = resolver.parent_name(culprit) or name  # tests build the class by its name
        for test in referencing_definitions(resolver, name, tests=True):
            if test not in shown:
                calls[test] = calls.get(test, 0) + 1
    order = {t: i for i, t in enumerate(calls)}
    return sorted(calls, key=lambda t: (-calls[t], order[t]))[:MAX_OTHER_TESTS]
