"""Extract definitions, references and imports from one source file with tree-sitter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import tree_sitter as ts

from .languages import grammar, tag_query

# Definition kinds whose nested functions are methods.
CONTAINER_KINDS = frozenset({"class", "struct", "interface", "trait", "impl", "enum"})
MAX_SIGNATURE_CHARS = 240
COMMENT_MARKERS = {"python": ("#",)}
C_STYLE_COMMENTS = ("//", "/*", "*")


class Definition(NamedTuple):
    """One named definition in a file. Lines are 0-based, end inclusive."""

    name: str
    kind: str
    line: int
    end_line: int
    signature: str  # the header line(s), collapsed to one line, with the original indentation
    parent: int  # index of the enclosing definition in the same file, -1 at top level


@dataclass
class FileTags:
    """Everything the index keeps about one file's content."""

    language: str
    definitions: list[Definition] = field(default_factory=list)
    references: dict[str, list[int]] = field(default_factory=dict)  # name -> 0-based lines
    imports: list[tuple[int, str]] = field(default_factory=list)  # (line, statement text)


def parse(language: str, source: bytes, old_tree: ts.Tree | None = None) -> ts.Tree:
    """Parse `source`, reusing `old_tree` (already edited) when given."""
    parser = ts.Parser(grammar(language))
    return parser.parse(source, old_tree) if old_tree is not None else parser.parse(source)


def extract(language: str, source: bytes, tree: ts.Tree | None = None) -> FileTags:
    """Run the language's tag query over the tree and collect definitions, references, imports."""
    if tree is None:
        tree = parse(language, source)
    matches = ts.QueryCursor(tag_query(language)).matches(tree.root_node)
    raw_defs: dict[int, tuple[int, int, str, str, ts.Node]] = {}  # name start byte -> def
    ref_nodes: list[ts.Node] = []
    imports: list[tuple[int, str]] = []
    for _, caps in matches:
        if "name" in caps:
            kind_key = next(k for k in caps if k.startswith("definition."))
            node = caps[kind_key][0]
            name = caps["name"][0]
            kind = kind_key[11:]
            name_start = name.start_byte
            previous = raw_defs.get(name_start)
            # The same name can match a generic pattern (constant) and a specific one (function).
            if previous is None or previous[2] == "constant":
                text = source[name_start:name.end_byte].decode("utf-8", "replace")
                raw_defs[name_start] = (node.start_byte, -node.end_byte, kind, text, node)
        elif "reference" in caps:
            ref_nodes.extend(caps["reference"])
        elif "import" in caps:
            node = caps["import"][0]
            imports.append((node.start_point.row, " ".join(node.text.decode("utf-8", "replace").split())[:300]))

    tags = FileTags(language)
    tags.imports = sorted(set(imports))
    definitions = tags.definitions
    end_bytes: list[int] = []  # parallel to definitions
    stack: list[int] = []  # indexes of the definitions enclosing the current one
    name_positions = set()
    for name_start, (start, _, kind, name, node) in sorted(raw_defs.items(), key=lambda item: item[1][:2]):
        if kind != "impl":  # `impl Foo` is a use of Foo, not its definition
            name_positions.add(name_start)
        while stack and end_bytes[stack[-1]] <= start:
            stack.pop()
        parent = stack[-1] if stack else -1
        if kind == "function" and parent >= 0 and definitions[parent].kind in CONTAINER_KINDS:
            kind = "method"
        definitions.append(
            Definition(name, kind, node.start_point.row, _end_row(node), signature(source, node, language, name), parent)
        )
        end_bytes.append(node.end_byte)
        stack.append(len(definitions) - 1)

    references = tags.references
    for node in ref_nodes:
        start = node.start_byte
        if start in name_positions:
            continue
        # Sliced from the source rather than node.text, and the row read once: this loop runs for
        # every call and type name of the workspace.
        name = source[start:node.end_byte].decode("utf-8", "replace")
        row = node.start_point.row
        lines = references.get(name)
        if lines is None:
            references[name] = [row]
        elif lines[-1] != row:
            lines.append(row)
    for lines in references.values():
        lines.sort()
    return tags


def signature(source: bytes, node: ts.Node, language: str, name_text: str) -> str:
    """The definition's header: text up to its body, on one line, keeping the first line's indent."""
    start = node.start_byte
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None and body.start_byte > start else node.end_byte
    line_start = source.rfind(b"\n", 0, start) + 1
    prefix = source[line_start:start]
    indent = prefix[: len(prefix) - len(prefix.lstrip())].decode("utf-8", "replace")
    header = source[start:end].decode("utf-8", "replace")
    markers = COMMENT_MARKERS.get(language, C_STYLE_COMMENTS)
    if "\n" not in header:  # most headers: one line (the same result as below, sooner)
        text = "" if header.lstrip().startswith(markers) else " ".join(header.split())
    else:
        lines = header.split("\n")
        if body is None:
            # One line, unless the name only comes at the end (`typedef struct {...} name;`).
            lines = lines[:1] if name_text in lines[0] else [lines[0], "…", lines[-1]]
        # Comments between the header and the body are not part of the signature.
        text = " ".join(" ".join(line.split()) for line in lines if not line.lstrip().startswith(markers)).strip()
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[: MAX_SIGNATURE_CHARS - 1] + "…"
    return indent + text


def _end_row(node: ts.Node) -> int:
    """Last row of a node; nodes that swallow their trailing newline (#define) end a row earlier."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point.row else row
