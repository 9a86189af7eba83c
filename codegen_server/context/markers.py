"""Marker comments: feedback written into the code as `# codegen: make this async`.

Markers are found in the syntax tree, so only real comments count (line and block comments in
every indexed language); a string or docstring that merely contains "codegen:" is not a marker.
A marker's text runs on through the line comments directly below it at the same column (a
note written over several lines). Its scope is the function or class it sits in, or the one it
stands directly above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import tree_sitter as ts

from ..trust.files import RefusedPath, read_regular
from .languages import grammar, language_for_path
from .walk import MAX_FILE_BYTES, walk_sources

_MARKER = re.compile(rb"codegen:", re.IGNORECASE)
_MARKER_TEXT = re.compile(r"^codegen:\s*(?P<text>.*)$", re.IGNORECASE | re.DOTALL)

#: Node types that name a scope, per language family (tree-sitter grammar node names).
_SCOPES = frozenset({
    "function_definition", "class_definition", "decorated_definition",           # Python, C, C++
    "function_declaration", "method_definition", "class_declaration", "generator_function_declaration",
    "abstract_class_declaration", "interface_declaration",                       # JS / TS
    "method_declaration", "type_declaration", "type_spec",                       # Go, Java
    "function_item", "impl_item", "struct_item", "enum_item", "trait_item",      # Rust
    "enum_declaration", "constructor_declaration",                               # Java
    "class_specifier", "struct_specifier",                                       # C++
    "variable_declarator",                                   # JS / TS: const f = () => {...}
})


@dataclass(frozen=True)
class Marker:
    """One marker comment. Lines and columns are 0-based, as LSP counts; ``end`` is exclusive."""

    path: str
    line: int
    character: int
    end_line: int
    end_character: int
    text: str
    scope: str
    #: The comment exactly as written (all its lines), to find it again after an edit.
    source: str


def collect_markers(root: Path, buffers: Mapping[str, str] | None = None) -> list[Marker]:
    """Every marker comment in the workspace's source files, editor buffers first, by path and line."""
    buffers = buffers or {}
    markers: list[Marker] = []
    for source_file in walk_sources(root):
        text = buffers.get(source_file.path)
        if text is not None:
            data = text.encode("utf-8")
        else:
            try:
                data = (root / source_file.path).read_bytes()
            except OSError:
                continue
        if _MARKER.search(data):
            markers.extend(markers_in_source(source_file.path, source_file.language, data))
    return markers


def markers_in_file(file: Path) -> tuple[str, list[Marker]] | None:
    """The text and the markers of ``file`` as it is on disk; None for a file the walk would not
    index: not a regular file (a symlink is never followed), over its size cap, not UTF-8, or in no
    indexed language."""
    language = language_for_path(file.name)
    if language is None:
        return None
    try:
        data = read_regular(file, MAX_FILE_BYTES)
        if data is None:
            return None
        text = data.decode("utf-8")
    except (RefusedPath, OSError, UnicodeDecodeError):
        return None
    return text, markers_in_source(file.name, language, data)


def markers_in_source(path: str, language: str, source: bytes) -> list[Marker]:
    """The marker comments of one file's text."""
    tree = ts.Parser(grammar(language)).parse(source)
    comments = [node for node in _comments(tree.root_node)]
    markers: list[Marker] = []
    used: set[int] = set()
    for index, node in enumerate(comments):
        if index in used:
            continue
        body = _comment_body(source[node.start_byte:node.end_byte].decode("utf-8", "replace"))
        match = _MARKER_TEXT.match(body)
        if not match:
            continue
        parts, last = [match["text"].strip()], node
        # Line comments right below, at the same column, continue the note.
        for follow_index in range(index + 1, len(comments)):
            follow = comments[follow_index]
            follow_body = _comment_body(source[follow.start_byte:follow.end_byte].decode("utf-8", "replace"))
            if (follow.start_point.row != last.end_point.row + 1 or follow.start_point.column != node.start_point.column
                    or _is_block(source, node) or _is_block(source, follow) or _MARKER_TEXT.match(follow_body)
                    or not follow_body.strip()):
                break
            parts.append(follow_body.strip())
            used.add(follow_index)
            last = follow
        text = " ".join(p for p in parts if p)
        if not text:
            continue
        lines = source.split(b"\n")
        markers.append(Marker(
            path=path, line=node.start_point.row, character=_utf16_column(lines, node.start_point),
            end_line=last.end_point.row, end_character=_utf16_column(lines, last.end_point), text=text,
            scope=_scope_name(node, last, source),
            source=source[node.start_byte:last.end_byte].decode("utf-8", "replace"),
        ))
    return markers


def _utf16_column(lines: list[bytes], point: ts.Point) -> int:
    """Tree-sitter counts columns in bytes; LSP counts UTF-16 code units."""
    prefix = lines[point.row][:point.column].decode("utf-8", "replace")
    return len(prefix.encode("utf-16-le")) // 2


def _comments(node: ts.Node):
    if node.type in ("comment", "line_comment", "block_comment"):
        yield node
        return
    for child in node.children:
        yield from _comments(child)


def _is_block(source: bytes, node: ts.Node) -> bool:
    return source[node.start_byte:node.start_byte + 2] == b"/*"


def _comment_body(comment: str) -> str:
    """A comment's words without its delimiters (#, //, /* */, leading * of block lines)."""
    text = comment.strip()
    if text.startswith("/*"):
        text = text[2:]
        if text.endswith("*/"):
            text = text[:-2]
        lines = [re.sub(r"^\s*\*+ ?", "", line) for line in text.splitlines()]
        return " ".join(line.strip() for line in lines if line.strip())
    for prefix in ("///", "//!", "//", "#"):
        if text.startswith(prefix):
            return text[len(prefix):].strip()
    return text


def _scope_name(comment: ts.Node, last: ts.Node, source: bytes) -> str:
    """The enclosing definition's name; at top level, the definition the comment stands above."""
    node = comment.parent
    while node is not None:
        if node.type in _SCOPES:
            return _name(node, source)
        node = node.parent
    follower = last.next_named_sibling
    # `export function f`, `export const f = ...`, `const f = ...`: the definition inside.
    while follower is not None and follower.type in ("export_statement", "lexical_declaration"):
        follower = next((c for c in follower.named_children
                         if c.type in _SCOPES or c.type == "lexical_declaration"), None)
    if follower is not None and follower.type in _SCOPES and follower.start_point.row <= last.end_point.row + 1:
        return _name(follower, source)
    return ""


def _name(node: ts.Node, source: bytes) -> str:
    if node.type == "decorated_definition":
        definition = node.child_by_field_name("definition")
        return _name(definition, source) if definition is not None else ""
    named = node.child_by_field_name("name")
    if named is None and node.type == "type_declaration":  # Go: type X struct{...}
        spec = next((c for c in node.named_children if c.type == "type_spec"), None)
        named = spec.child_by_field_name("name") if spec is not None else None
    if named is None:  # C and C++: the name sits inside the declarator chain
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.child_by_field_name("declarator") is not None:
            declarator = declarator.child_by_field_name("declarator")
        named = declarator
    if named is None:
        return ""
    return source[named.start_byte:named.end_byte].decode("utf-8", "replace")


def remove_markers(text: str, markers: list[Marker]) -> tuple[str, list[Marker]]:
    """``text`` without the given markers' comments; also returns the markers it could not find.

    A comment alone on its lines takes its lines with it; a trailing comment leaves the code
    before it (without the spaces before the comment). Each marker is found by its exact source,
    nearest to the line it was on, so an edit elsewhere in the file does not lose it.
    """
    lines = text.splitlines(keepends=True)
    missing: list[Marker] = []
    for marker in sorted(markers, key=lambda m: m.line, reverse=True):
        found = _find(lines, marker)
        if found is None:
            missing.append(marker)
            continue
        first, column = found
        source_lines = marker.source.splitlines()
        last = first + len(source_lines) - 1
        ending = lines[last][len(lines[last].rstrip("\r\n")):]
        head = lines[first][:column]
        tail_from = len(source_lines[-1]) + (column if last == first else 0)
        tail = lines[last].rstrip("\r\n")[tail_from:]
        if not head.strip() and not tail.strip():
            del lines[first:last + 1]
        elif head.strip():  # a trailing comment: keep the code before it
            lines[first:last + 1] = [head.rstrip() + tail + ending]
        else:  # a comment before code on the same line
            lines[first:last + 1] = [head + tail.lstrip() + ending]
    return "".join(lines), missing


def _find(lines: list[str], marker: Marker) -> tuple[int, int] | None:
    """(line, column) where the marker's source starts, the occurrence nearest its old line."""
    source_lines = marker.source.splitlines()
    best: tuple[int, int] | None = None
    for index in range(len(lines) - len(source_lines) + 1):
        column = lines[index].find(source_lines[0])
        if column < 0:
            continue
        if all(lines[index + k].rstrip("\r\n").lstrip().startswith(source_lines[k].lstrip())
               for k in range(1, len(source_lines))):
            if best is None or abs(index - marker.line) < abs(best[0] - marker.line):
                best = (index, column)
    return best
