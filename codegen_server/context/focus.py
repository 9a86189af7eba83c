"""Focused context: what the model needs around a range, or around a failing test."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .failures import FailureTrace, Frame
from .index import WorkspaceIndex
from .store import FileRecord
from .tags import Definition

MAX_BODY_LINES = 120  # longer bodies are shown around the lines of interest only
WINDOW = 25  # lines of context either side of a point of interest in a long body
MAX_CALLEES = 30
MAX_CALLERS = 20
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FUNCTION_KINDS = frozenset({"function", "method"})


@dataclass
class Section:
    """A titled block of context and the files it quotes."""

    title: str
    text: str
    files: list[str] = field(default_factory=list)
    identifiers: set[str] = field(default_factory=set)  # names worth personalising the map towards


def enclosing(definitions: list[Definition], first: int, last: int) -> list[int]:
    """Indexes of the definitions containing lines first..last (0-based), outermost first."""
    return [
        i for i, d in enumerate(definitions)
        if d.line <= first and d.end_line >= last
    ]


def quote(lines: list[str], start: int, end: int, marked: set[int]) -> str:
    """Source lines start..end (0-based, inclusive) with 1-based numbers; long spans are windowed."""
    end = min(end, len(lines) - 1)
    keep: set[int] = set(range(start, end + 1))
    if end - start + 1 > MAX_BODY_LINES:
        # The header, then windows around the marked lines.
        keep = set(range(start, min(start + 5, end + 1)))
        for line in marked or {start}:
            keep |= set(range(max(start, line - WINDOW), min(end, line + WINDOW) + 1))
    out: list[str] = []
    previous = None
    for number in sorted(keep):
        if previous is not None and number > previous + 1:
            out.append("      ⋮")
        mark = ">" if number in marked else " "
        out.append(f"{number + 1:>5}{mark} {lines[number]}")
        previous = number
    return "\n".join(out)


def _lines(index: WorkspaceIndex, path: str) -> list[str]:
    source = index.source(path)
    return source.decode("utf-8", "replace").splitlines() if source is not None else []


def _definers(records: dict[str, FileRecord]) -> dict[str, list[tuple[str, Definition]]]:
    found: dict[str, list[tuple[str, Definition]]] = {}
    for path, record in records.items():
        for definition in record.tags.definitions:
            found.setdefault(definition.name, []).append((path, definition))
    return found


def _signature_line(path: str, definition: Definition) -> str:
    return f"{path}:{definition.line + 1}: {definition.signature.strip()}"


def _with_parents(definitions: list[Definition], index: int) -> list[str]:
    """Headers of the classes (etc.) around a definition, outermost first."""
    headers = []
    parent = definitions[index].parent
    while parent >= 0:
        headers.append(definitions[parent].signature)
        parent = definitions[parent].parent
    return list(reversed(headers))


def range_context(
    index: WorkspaceIndex, records: dict[str, FileRecord], path: str, first_line: int, last_line: int,
    definers: dict[str, list[tuple[str, Definition]]] | None = None,
) -> Section:
    """The enclosing function/class of lines first_line..last_line (1-based), its imports,
    the signatures of what it calls and of what calls it."""
    rel = index.relative(path)
    record = records.get(rel)
    lines = _lines(index, rel)
    if not lines:
        raise FileNotFoundError(f"cannot read {rel} under {index.root}")
    if first_line > len(lines):
        raise ValueError(f"lines {first_line}-{last_line} are past the end of {rel} ({len(lines)} lines)")
    first, last = max(first_line - 1, 0), max(last_line - 1, first_line - 1, 0)
    definitions = record.tags.definitions if record else []
    containing = enclosing(definitions, first, last)
    marked = set(range(first, min(last, len(lines) - 1) + 1))
    parts: list[str] = []
    files = [rel]
    if containing:
        innermost = containing[-1]
        target = definitions[innermost]
        start, end = target.line, target.end_line
        headers = _with_parents(definitions, innermost)
        parts.append(f"Enclosing {target.kind} `{target.name}` ({rel}:{start + 1}-{end + 1}):")
        parts.extend(headers)
        parts.append(quote(lines, start, end, marked))
    else:
        target = None
        start, end = max(first - 10, 0), min(last + 10, len(lines) - 1)
        parts.append(f"{rel}:{start + 1}-{end + 1}:")
        parts.append(quote(lines, start, end, marked))

    if end - start + 1 > MAX_BODY_LINES:
        # A long enclosing body (a whole class): what matters is around the range itself.
        start, end = max(start, first - WINDOW), min(end, last + WINDOW)
    used = set(IDENTIFIER.findall("\n".join(lines[start:end + 1])))
    if record:
        imports = [text for _, text in record.tags.imports if used & set(IDENTIFIER.findall(text))]
        if imports:
            parts.append("\nImports it relies on:")
            parts.extend(imports)

    definers = definers if definers is not None else _definers(records)
    callees: list[str] = []
    if record:
        called = sorted(name for name, at in record.tags.references.items() if any(start <= line <= end for line in at))
        for name in called:
            if target is not None and name == target.name:
                continue
            candidates = sorted(definers.get(name, ()), key=lambda item: (item[0] != rel, item[0]))
            for def_path, definition in candidates[:3]:
                callees.append(_signature_line(def_path, definition))
                if def_path not in files:
                    files.append(def_path)
    if callees:
        parts.append("\nWhat it calls:")
        parts.extend(callees[:MAX_CALLEES])

    if target is not None and target.kind in FUNCTION_KINDS | {"class", "struct"}:
        callers = find_callers(records, target.name, exclude=(rel, target.line))
        if callers:
            parts.append(f"\nWhat calls `{target.name}`:")
            parts.extend(callers[:MAX_CALLERS])
    title = f"Context for {rel}:{first_line}-{last_line}"
    return Section(title, "\n".join(parts), files, used & set(definers))


def find_callers(records: dict[str, FileRecord], name: str, exclude: tuple[str, int] | None = None) -> list[str]:
    """Signature lines of the definitions whose bodies reference `name`."""
    callers: list[str] = []
    for path in sorted(records):
        tags = records[path].tags
        lines = tags.references.get(name)
        if not lines:
            continue
        seen: set[int] = set()
        for line in lines:
            around = enclosing(tags.definitions, line, line)
            if not around:
                callers.append(f"{path}:{line + 1}: (module level)")
                continue
            innermost = around[-1]
            caller = tags.definitions[innermost]
            if innermost in seen or (exclude and (path, caller.line) == exclude):
                continue
            seen.add(innermost)
            callers.append(_signature_line(path, caller))
    return callers


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


def failure_context(index: WorkspaceIndex, records: dict[str, FileRecord], failure: FailureTrace) -> Section:
    """The failing test's body and the definitions at its frames inside the workspace."""
    parts = [f"Error: {failure.message}" if failure.message else "Error: (no message captured)"]
    files: list[str] = []
    identifiers = {failure.test_name}
    shown: set[tuple[str, int]] = set()

    test_path = None
    if "::" in failure.test_id:
        test_path = resolve_frame(index, records, Frame(failure.test_id.split("::", 1)[0], 0))
    resolved = [(resolve_frame(index, records, frame), frame) for frame in failure.frames]
    in_workspace = [(path, frame) for path, frame in resolved if path is not None]
    if test_path is None and in_workspace:
        test_path = in_workspace[0][0]

    if test_path is not None:
        definitions = records[test_path].tags.definitions
        frame_lines = {frame.line - 1 for path, frame in in_workspace if path == test_path}
        candidates = [i for i, d in enumerate(definitions) if d.name == failure.test_name]
        if not candidates:
            candidates = [enclosing(definitions, line, line)[-1] for line in frame_lines if enclosing(definitions, line, line)]
        if candidates:
            test_def = candidates[0]
            definition = definitions[test_def]
            lines = _lines(index, test_path)
            marked = {line for line in frame_lines if definition.line <= line <= definition.end_line}
            parts.append(f"\nTest `{definition.name}` ({test_path}:{definition.line + 1}-{definition.end_line + 1}):")
            parts.extend(_with_parents(definitions, test_def))
            parts.append(quote(lines, definition.line, definition.end_line, marked))
            shown.add((test_path, test_def))
            files.append(test_path)

    for path, frame in in_workspace:
        definitions = records[path].tags.definitions
        around = enclosing(definitions, frame.line - 1, frame.line - 1)
        lines = _lines(index, path)
        if around:
            innermost = around[-1]
            if (path, innermost) in shown:
                continue
            shown.add((path, innermost))
            definition = definitions[innermost]
            identifiers.add(definition.name)
            parts.append(f"\nFrame {path}:{frame.line} in `{definition.name}`:")
            parts.extend(_with_parents(definitions, innermost))
            parts.append(quote(lines, definition.line, definition.end_line, {frame.line - 1}))
        elif lines:
            parts.append(f"\nFrame {path}:{frame.line}:")
            parts.append(quote(lines, max(frame.line - 6, 0), frame.line + 4, {frame.line - 1}))
        if path not in files:
            files.append(path)
    return Section(f"Failing test {failure.test_id}", "\n".join(parts), files, identifiers)
