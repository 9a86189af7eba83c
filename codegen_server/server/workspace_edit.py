"""Computed file changes as an LSP WorkspaceEdit the editor previews before applying.

Edits are minimal (only changed line ranges, so cursors, folds and marks elsewhere survive),
carry the editor's document version (a stale edit is rejected instead of clobbering newer
typing), and all reference one change annotation with ``needsConfirmation`` — except the edits
to a file that makes an editor, a shell or git run code (``edits.sensitive``): each such file
gets an annotation of its own whose label starts with a warning and says what the file does,
and which always needs confirmation.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pygls.workspace import PositionCodec

from ..edits.sensitive import flag_changes
from ..edits.types import FileChange

ANNOTATION_ID = "codegen"
SENSITIVE_ANNOTATION = "codegen.runsCode"
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


def minimal_edits(old: str, new: str, annotation_id: str = ANNOTATION_ID) -> list[types.AnnotatedTextEdit]:
    """Line-range edits turning ``old`` into ``new`` (UTF-16 positions), under ``annotation_id``."""
    a, b = _lines(old), _lines(new)
    edits: list[types.AnnotatedTextEdit] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        edits.append(types.AnnotatedTextEdit(
            annotation_id=annotation_id,
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
    description: str = "",
    needs_confirmation: bool = True,
) -> types.WorkspaceEdit:
    """A WorkspaceEdit with file operations and versioned, minimal, annotated text edits.

    ``versions`` maps workspace-relative paths of open documents to the editor's version;
    other documents get version None (the editor applies them to the file as it is). The
    annotation's ``label`` names the run and its ``description`` carries the model's explanation,
    diagnosis or summary (README "The editor contract"), so a client shows why beside the preview.
    """
    annotations = {ANNOTATION_ID: types.ChangeAnnotation(label=label, needs_confirmation=needs_confirmation,
                                                         description=description.strip() or None)}
    marked: dict[str, str] = {}  # path -> its own annotation id
    for n, flag in enumerate(flag_changes(changes)):
        marked[flag.path] = f"{SENSITIVE_ANNOTATION}.{n}"
        annotations[marked[flag.path]] = types.ChangeAnnotation(
            label=f"Warning: {flag.path} can run code — {flag.why}", needs_confirmation=True,
            description=f"Warning: {flag.why}. Review this change before accepting it.")
    ops: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = []
    for ch in changes:
        uri = _uri(root, ch.path)
        note = marked.get(ch.new_path or ch.path, ANNOTATION_ID)
        if ch.kind == "create":
            ops.append(types.CreateFile(uri=uri, annotation_id=note))
            if ch.new_text:
                ops.append(types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                    edits=minimal_edits("", ch.new_text, note)))
        elif ch.kind == "delete":
            ops.append(types.DeleteFile(uri=uri, annotation_id=note))
        elif ch.kind == "rename":
            new_uri = _uri(root, ch.new_path or ch.path)
            ops.append(types.RenameFile(old_uri=uri, new_uri=new_uri, annotation_id=note))
            if ch.old_text is not None and ch.new_text is not None and ch.old_text != ch.new_text:
                ops.append(types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=new_uri, version=None),
                    edits=minimal_edits(ch.old_text, ch.new_text, note)))
        else:
            ops.append(types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=versions.get(ch.path)),
                edits=minimal_edits(ch.old_text or "", ch.new_text or "", note)))
    return types.WorkspaceEdit(document_changes=ops, change_annotations=annotations)
