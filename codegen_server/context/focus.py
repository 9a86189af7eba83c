"""Focused context around a range of code: the whole enclosing definition, what it uses,
what calls it and the tests that exercise it, as pieces ranked for the budget."""

from __future__ import annotations

import re

from .failures import Frame
from .index import WorkspaceIndex
from .pieces import Piece
from .resolve import VALUE_KINDS, Resolver, Target
from .store import FileRecord
from .tags import Definition

MAX_BODY_LINES = 150  # longer bodies get a windowed brief form around the lines of interest
WINDOW = 25  # lines of context either side of a point of interest in a windowed body
MAX_USED = 8  # definitions the code in question uses, shown whole
MAX_CALLERS = 6
MAX_TESTS = 4
QUOTES = "'\"`"  # a test block's title is its quoted string
MAX_HEADER_LINES = 40  # a longer header keeps only its imports and the first lines of its constants
MAX_CONSTANT_LINES = 3  # of a constant's value, in a long header or after the first definition
MAX_LATE_CONSTANTS = 12  # module constants defined further down the file
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FUNCTION_KINDS = frozenset({"function", "method"})

CODE = "The code in question"
USES = "Definitions it uses"
CALLERS = "What calls it"
TESTS = "Tests that exercise it"
RANGE_SECTIONS = [CODE, USES, CALLERS, TESTS]


def enclosing(definitions: list[Definition], first: int, last: int) -> list[int]:
    """Indexes of the definitions containing lines first..last (0-based), outermost first."""
    return [i for i, d in enumerate(definitions) if d.line <= first and d.end_line >= last]


def quote(lines: list[str], start: int, end: int, marked: set[int], window: bool = False) -> str:
    """Source lines start..end (0-based, inclusive) with 1-based numbers, marked lines with '>'.

    With ``window``, only the header and WINDOW lines around the marked lines are kept.
    """
    end = min(end, len(lines) - 1)
    keep: set[int] = set(range(start, end + 1))
    if window:
        keep = set(range(start, min(start + 5, end + 1)))
        for line in marked or {start}:
            keep |= set(range(max(start, line - WINDOW), min(end, line + WINDOW) + 1))
    return quote_lines(lines, keep, marked)


def quote_lines(lines: list[str], keep: set[int], marked: set[int] = frozenset()) -> str:
    """The ``keep`` lines (0-based) with 1-based numbers, marked lines with '>', a '⋮' for each gap."""
    out: list[str] = []
    previous = None
    for number in sorted(n for n in keep if 0 <= n < len(lines)):
        if previous is not None and number > previous + 1:
            out.append("      ⋮")
        mark = ">" if number in marked else " "
        out.append(f"{number + 1:>5}{mark} {lines[number]}")
        previous = number
    return "\n".join(out)


def decorated_start(lines: list[str], def_line: int) -> int:
    """The first line of a definition's decorators (multi-line ones included), or ``def_line``."""
    if def_line >= len(lines):
        return def_line
    indent = len(lines[def_line]) - len(lines[def_line].lstrip())
    start = def_line
    i = def_line - 1
    while i >= 0:
        text = lines[i]
        stripped = text.strip()
        if not stripped:
            break
        depth = len(text) - len(text.lstrip())
        if depth == indent and stripped.startswith("@"):
            start = i
        elif depth <= indent and not stripped.startswith((")", "]", "}")):
            break
        i -= 1
    return start


def _with_parents(definitions: list[Definition], index: int) -> list[str]:
    """Headers of the classes (etc.) around a definition, outermost first."""
    headers = []
    parent = definitions[index].parent
    while parent >= 0:
        headers.append(definitions[parent].signature)
        parent = definitions[parent].parent
    return list(reversed(headers))


def signature_line(path: str, definition: Definition) -> str:
    return f"{path}:{definition.line + 1}: {definition.signature.strip()}"


def definition_head(resolver: Resolver, target: Target, heading: str) -> str:
    """A quoted definition's title (``heading``, name, path and lines) and the headers of the classes around it."""
    definitions = resolver.records[target.path].tags.definitions
    definition = definitions[target.index]
    title = f"{heading} `{definition.name.strip(QUOTES)}` ({target.path}:{definition.line + 1}-{definition.end_line + 1}):"
    return "\n".join([title, *_with_parents(definitions, target.index)])


def definition_piece(resolver: Resolver, target: Target, section: str, heading: str,
                     marked: set[int] = frozenset(), brief_signature: bool = True) -> Piece:
    """A definition's whole body (decorators and enclosing class headers included) as a piece.

    Its brief form is the body windowed around ``marked`` when the body is long, else its signature line.
    """
    definition = resolver.definition(target)
    lines = resolver.lines(target.path)
    start = decorated_start(lines, definition.line)
    head = definition_head(resolver, target, heading)
    full = head + "\n" + quote(lines, start, definition.end_line, set(marked))
    if definition.end_line - start + 1 > MAX_BODY_LINES:
        brief = head + "\n" + quote(lines, start, definition.end_line, set(marked), window=True)
    else:
        brief = signature_line(target.path, definition) if brief_signature else ""
    return Piece(section, full, brief, (target.path, definition.line), [target.path], {definition.name},
                 (target.path, start, definition.end_line))


def _after_docstring(lines: list[str]) -> int:
    """The first line after a Python module docstring (0 when the file does not start with one)."""
    first = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), None)
    if first is None:
        return 0
    opening = lines[first].strip().lstrip("rRuU")
    quote_mark = opening[:3]
    if quote_mark not in ('"""', "'''"):
        return 0
    if opening.count(quote_mark) >= 2:
        return first + 1
    closing = next((i for i in range(first + 1, len(lines)) if quote_mark in lines[i]), first)
    return closing + 1


def _statement_lines(lines: list[str], start: int, limit: int = 30) -> set[int]:
    """The lines of the statement starting at ``start``: until its brackets close (at most ``limit``)."""
    depth = 0
    for end in range(start, min(len(lines), start + limit)):
        text = lines[end].split("#", 1)[0] if not lines[end].lstrip().startswith("//") else ""
        depth += sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")
        if depth <= 0:
            return set(range(start, end + 1))
    return set(range(start, min(len(lines), start + limit)))


def header_lines(resolver: Resolver, path: str) -> set[int]:
    """The lines (0-based) of a file's header: what comes before its first definition (a Python module
    docstring aside) — imports, module constants — and the constants defined further down."""
    record = resolver.records.get(path)
    lines = resolver.lines(path)
    if record is None or not lines:
        return set()
    top = [d for d in record.tags.definitions if d.parent < 0]

    def is_header(d: Definition) -> bool:
        return d.kind in VALUE_KINDS or (d.kind == "module" and d.end_line == d.line)  # `mod parse;`

    first_code = min((decorated_start(lines, d.line) for d in top if not is_header(d)), default=len(lines))
    while first_code > 0 and lines[first_code - 1].lstrip().startswith(("#", "//", "/*", "*", "///")):
        first_code -= 1  # the first definition's own comment
    start = _after_docstring(lines) if record.tags.language == "python" else 0
    keep = set(range(start, first_code))
    constants = [d for d in top if d.kind in VALUE_KINDS]
    if len(keep) > MAX_HEADER_LINES:
        keep = set()
        for row, _ in record.tags.imports:
            if row < first_code:
                keep |= _statement_lines(lines, row)
        for d in constants:
            if d.line < first_code:
                keep |= set(range(d.line, min(d.end_line, d.line + MAX_CONSTANT_LINES - 1) + 1))
    for d in [d for d in constants if d.line >= first_code][:MAX_LATE_CONSTANTS]:
        keep |= set(range(d.line, min(d.end_line, d.line + MAX_CONSTANT_LINES - 1) + 1))
    # Blank lines at the edges say nothing, except those just before the first definition: a diff that
    # adds an import there needs them as its context.
    return {n for n in keep if n < len(lines)} - {n for n in keep if not lines[n].strip()
                                                   and (n - 1 not in keep or n + 1 not in keep)
                                                   and not all(not line.strip() for line in lines[n:first_code])}


def header_piece(resolver: Resolver, path: str, section: str, brief: str = "") -> Piece | None:
    """A file's header (imports, module constants) quoted with line numbers, so a change can use what the
    file already imports and defines, and add an import where the others are."""
    keep = header_lines(resolver, path)
    if not keep:
        return None
    text = f"Header of `{path}` (its imports and module-level constants):\n" + quote_lines(resolver.lines(path), keep)
    return Piece(section, text, brief, (path, -1), [path])


def resolve_frame(index: WorkspaceIndex, records: dict[str, FileRecord], frame: Frame) -> str | None:
    """The workspace-relative path a frame points at, or None if it is outside the workspace."""
    rel = index.relative(frame.path)
    if rel in records:
        return rel
    if rel.startswith("/") or rel.startswith(".."):
        return None
    suffix = "/" + rel
    matches = [path for path in records if path.endswith(suffix)]
    return matches[0] if len(matches) == 1 else None


def _range_target(resolver: Resolver, path: str, first: int, last: int) -> Target | None:
    """What a reviewer's range is about: the outermost function around it (a method, not its
    class; an outer function, not a closure in it), else the innermost definition around it."""
    definitions = resolver.records[path].tags.definitions
    around = [i for i in enclosing(definitions, first, last) if definitions[i].kind not in ("constant", "field")]
    if not around:
        return None
    functions = [i for i in around if definitions[i].kind in FUNCTION_KINDS]
    return Target(path, functions[0] if functions else around[-1])


def referencing_definitions(resolver: Resolver, name: str, *, tests: bool) -> list[Target]:
    """Definitions (tests, or code outside tests) whose bodies reference ``name``."""
    found: list[Target] = []
    for path in sorted(resolver.records):
        lines = resolver.records[path].tags.references.get(name)
        if not lines:
            continue
        for line in lines:
            target = resolver.enclosing_test(path, line) if tests else resolver.enclosing_function(path, line)
            if target is not None and resolver.is_test(target) == tests and target not in found:
                found.append(target)
    return found


def test_rank(resolver: Resolver, target: Target, name: str, source_path: str) -> tuple:
    """Tests named after the function, in files named after its module, first."""
    definition = resolver.definition(target)
    stem = source_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return (name.lower().strip("_") not in definition.name.lower(), stem not in target.path,
            definition.end_line - definition.line)


def range_pieces(resolver: Resolver, path: str, first_line: int, last_line: int) -> list[Piece]:
    """Pieces for lines first_line..last_line (1-based) of ``path``, most important first:
    the whole enclosing function or class, the imports it uses, the tests that call it, the
    definitions it uses, its callers."""
    rel = resolver.index.relative(path)
    lines = resolver.lines(rel)
    if not lines:
        raise FileNotFoundError(f"cannot read {rel} under {resolver.index.root}")
    if first_line > len(lines):
        raise ValueError(f"lines {first_line}-{last_line} are past the end of {rel} ({len(lines)} lines)")
    first, last = max(first_line - 1, 0), min(max(last_line - 1, first_line - 1, 0), len(lines) - 1)
    marked = set(range(first, last + 1))
    record = resolver.records.get(rel)
    target = _range_target(resolver, rel, first, last) if record else None
    pieces: list[Piece] = []
    if target is not None:
        definition = resolver.definition(target)
        piece = definition_piece(resolver, target, CODE, f"Enclosing {definition.kind}", marked, brief_signature=False)
        if not piece.brief:
            piece.brief = (f"Enclosing {definition.kind} `{definition.name}` ({rel}):\n"
                           + quote(lines, definition.line, definition.end_line, marked, window=True))
        pieces.append(piece)
        start, end = definition.line, definition.end_line
    else:
        start, end = max(first - 10, 0), min(last + 10, len(lines) - 1)
        pieces.append(Piece(CODE, f"{rel}:{start + 1}-{end + 1}:\n" + quote(lines, start, end, marked), "", None, [rel],
                            span=(rel, start, end)))

    used_words = set(IDENTIFIER.findall("\n".join(lines[start:end + 1])))
    # The whole header, so a change can use (or add to) the file's imports; short of room, the imports it uses.
    imports = [text for _, text in record.tags.imports if used_words & set(IDENTIFIER.findall(text))] if record else []
    brief = "Imports it relies on:\n" + "\n".join(imports) if imports else ""
    header = header_piece(resolver, rel, CODE, brief) if record else None
    if header is not None:
        pieces.append(header)

    used: list[Piece] = []
    callers: list[Piece] = []
    tests: list[Piece] = []
    if target is not None:
        definition = resolver.definition(target)
        names = resolver.names_used(rel, start, end)
        classes = resolver.class_names(names) | {n for n in [resolver.parent_name(target)] if n}
        body = "\n".join(lines[start:end + 1])
        classes |= resolver.class_names(list(resolver.words_in(rel, start, end)))
        for name in names:
            if name == definition.name:
                continue
            for found in resolver.resolve(name, rel, classes, body):
                if found != target and len(used) < MAX_USED:
                    used.append(definition_piece(resolver, found, USES, "Uses"))
        for caller in referencing_definitions(resolver, definition.name, tests=False):
            if caller != target and len(callers) < MAX_CALLERS:
                callers.append(definition_piece(resolver, caller, CALLERS, "Caller"))
        found_tests = referencing_definitions(resolver, definition.name, tests=True)
        found_tests.sort(key=lambda t: test_rank(resolver, t, definition.name, rel))
        if len(found_tests) < MAX_TESTS:
            # No test calls it directly (enough): the tests of its callers run it too.
            for caller in referencing_definitions(resolver, definition.name, tests=False)[:MAX_CALLERS]:
                name = resolver.definition(caller).name
                through = [t for t in referencing_definitions(resolver, name, tests=True) if t not in found_tests]
                through.sort(key=lambda t: test_rank(resolver, t, name, caller.path))
                found_tests += through[:MAX_TESTS - len(found_tests)]
        tests = [definition_piece(resolver, t, TESTS, "Test") for t in found_tests[:MAX_TESTS]]
    # Order of importance: a test that pins the behaviour, then what the code relies on, then callers.
    return pieces + tests[:1] + used[:4] + tests[1:2] + callers[:2] + used[4:] + tests[2:] + callers[2:]
