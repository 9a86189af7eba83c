"""Computed file changes as an LSP WorkspaceEdit the editor previews before applying.

Edits are minimal (only changed line ranges, so cursors, folds and marks elsewhere survive),
carry the editor's document version (a stale edit is rejected instead of clobbering newer
typing), and all reference one change annotation with ``needsConfirmation``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pygls.workspace import PositionCodec

from ..edits.types import FileChange

ANNOTATION_ID = "codegen"
_UTF16 = PositionCodec(types.PositionEncodingKind.Utf16)


def _lines(text: str) -> list[str]:
    """Lines with their endings; only \\n, \\r\\n and \\r end a line, as in LSP."""
    out: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\n" or c == "\r":
            end = i + 2 if c == "\r" and i + 1 < n and text[i + 1] == "\n" else i + 1
            out.append(text[start:end])
            start = i = end
        else:
            i += 1
    if start < n:
        out.append(text[start:])
    return out


def _position(lines: list[str], k: int) -> types.Position:
    """The position where line ``k`` starts; past the end, the end of the document."""
    if k < len(lines):
        return types.Position(line=k, character=0)
    if not lines:
        return types.Position(line=0, character=0)
    last = lines[-1]
    if last.endswith(("\n", "\r")):
        return types.Position(line=len(lines), character=0)
    return types.Position(line=len(lines) - 1, character=_UTF16.client_num_units(last))


def minimal_edits(old: str, new: str) -> list[types.AnnotatedTextEdit]:
    """Line-range edits turning ``old`` into ``new`` (UTF-16 positions)."""
    a, b = _lines(old), _lines(new)
    edits: list[types.AnnotatedTextEdit] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        edits.append(types.AnnotatedTextEdit(
            annotation_id=ANNOTATION_ID,
            range=types.Range(start=_position(a, i1), end=_position(a, i2)),
            new_text="".join(b[j1:j2]),
        ))
    return edits


def _uri(root: Path, rel: str) -> str:
    return from_fs_path(str(root / rel)) or (root / rel).as_uri()


def to_workspace_edit(
    changes: Sequence[FileChange],
    root: Path,
    *,
    versions: Mapping[str, int],
    label: str,
    needs_confirmation: bool = True,
) -> types.WorkspaceEdit:
    """A WorkspaceEdit with file operations and versioned, minimal, annotated text edits.

    ``versions`` maps workspace-relative paths of open documents to the editor's version;
    other documents get version None (the editor applies them to the file as it is).
    """
    ops: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = []
    for ch in changes:
        uri = _uri(root, ch.path)
        if ch.kind == "create":
            ops.append(types.CreateFile(uri=uri, annotation_id=ANNOTATION_ID))
            if ch.new_text:
                ops.append(types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                    edits=minimal_edits("", ch.new_text)))
        elif ch.kind == "delete":
            ops.append(types.DeleteFile(uri=uri, annotation_id=ANNOTATION_ID))
        elif ch.kind == "rename":
            new_uri = _uri(root, ch.new_path or ch.path)
            ops.append(types.RenameFile(old_uri=uri, new_uri=new_uri, annotation_id=ANNOTATION_ID))
            if ch.old_text is not None and ch.new_text is not None and ch.old_text != ch.new_text:
                ops.append(types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=new_uri, version=None),
                    edits=minimal_edits(ch.old_text, ch.new_text)))
        else:
            ops.append(types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=versions.get(ch.path)),
                edits=minimal_edits(ch.old_text or "", ch.new_text or "")))
    annotation = types.ChangeAnnotation(label=label, needs_confirmation=needs_confirmation)
    return types.WorkspaceEdit(document_changes=ops, change_annotations={ANNOTATION_ID: annotation})
