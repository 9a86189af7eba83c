"""`codegen:` marker comments in open documents, published as diagnostics.

Any editor with an LSP client shows them (Emacs eglot, Helix, Zed, Kate...) without a plugin, and
offers their code actions (see ``code_actions``). The markers are found by the parser the markers
workflow uses (``context.markers``): only real comments count, a string holding "codegen:" is no
marker. ``context`` owns the document notifications (pygls takes one handler for each) and calls
``document_changed`` and ``document_closed``. Each change re-reads its document off the event loop
(a text without "codegen:" is not parsed at all); a result for a version the editor has already
replaced is dropped, so the last change always wins.

A marker run (``codegen.applyFeedback {markers: true}``) may leave markers not done, with the model's
reason: their diagnostics then say so ("… — not done: why", a warning), in every editor, in one entry
per marker, open documents and closed files alike, until the marker is edited or removed or the next
marker run over that file reports on it again.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import PositionCodec

from ...context.languages import language_for_path
from ...context.markers import Marker, markers_in_file, markers_in_source
from ..app import CodegenServer

log = logging.getLogger(__name__)

SOURCE = "codegen"
#: The diagnostic's code: a client (or a test) can tell codegen's markers from other diagnostics.
CODE = "marker"
_UTF16 = PositionCodec(types.PositionEncodingKind.Utf16)


@dataclass(frozen=True)
class DocumentMarkers:
    """The markers of one open document, at one version, where it lies, and why a
    marker run left some of them (by marker text; "" when it gave no reason)."""

    version: int | None
    root: Path
    path: str  # in ``root``
    markers: list[Marker]
    not_done: dict[str, str] = field(default_factory=dict)

    def diagnostic(self, marker: Marker) -> types.Diagnostic:
        return to_diagnostic(marker, self.not_done.get(marker.text))

    def diagnostics(self) -> list[types.Diagnostic]:
        return [self.diagnostic(m) for m in self.markers]


#: Per server: the markers last read of each open document, by URI.
_published: weakref.WeakKeyDictionary[CodegenServer, dict[str, DocumentMarkers]] = weakref.WeakKeyDictionary()
#: Per server: the diagnostics the editor was last sent, by URI (open documents and closed files).
_shown: weakref.WeakKeyDictionary[CodegenServer, dict[str, list[types.Diagnostic]]] = weakref.WeakKeyDictionary()
#: Per server: the markers marker runs left not done, by file (absolute), as {marker text: why}.
_not_done: weakref.WeakKeyDictionary[CodegenServer, dict[Path, dict[str, str]]] = weakref.WeakKeyDictionary()


def _folder_of(ls: CodegenServer, uri: str) -> tuple[Path, str] | None:
    """The opened folder holding ``uri`` and the document's path inside it, or None."""
    for root in ls.opened_folders():
        relative = ls.relative_path(uri, root)
        if relative is not None:
            return root, relative
    return None


async def document_markers(ls: CodegenServer, uri: str) -> DocumentMarkers | None:
    """The markers of the open document ``uri`` as it is now; None for a document codegen does not read
    (not a file of an opened folder, or not in a language the parser knows)."""
    placed = _folder_of(ls, uri)
    document = ls.workspace.text_documents.get(unquote(uri))
    if placed is None or document is None:
        return None
    root, relative = placed
    language = language_for_path(relative)
    if language is None:
        return None
    not_done = _not_done.get(ls, {}).get(root / relative, {})
    cached = _published.get(ls, {}).get(uri)
    if cached is not None and cached.version == document.version and cached.root == root:
        return replace(cached, not_done=not_done)
    version, text = document.version, document.source
    if "codegen:" not in text.lower():  # most files, most keystrokes: nothing to parse
        return DocumentMarkers(version, root, relative, [], not_done)
    markers = await asyncio.to_thread(markers_in_source, relative, language, text.encode("utf-8"))
    return DocumentMarkers(version, root, relative, _in_client_units(ls, text, markers), not_done)


def _in_client_units(ls: CodegenServer, text: str, markers: list[Marker]) -> list[Marker]:
    """The markers' columns (UTF-16, as the parser gives them) in the encoding the client chose:
    Neovim 0.11 picks UTF-8 and Emacs 29 UTF-32, where a column after a non-ASCII letter differs."""
    codec = ls.workspace.position_codec
    if codec.encoding in (None, types.PositionEncodingKind.Utf16):
        return markers
    lines = text.split("\n")  # as the parser counts rows (splitlines would also split at \f, \u2028...)

    def column(line: int, character: int) -> int:
        in_chars = _UTF16.position_from_client_units(lines, types.Position(line, character))
        return codec.position_to_client_units(lines, in_chars).character

    return [replace(m, character=column(m.line, m.character), end_character=column(m.end_line, m.end_character))
            for m in markers]


def marker_range(marker: Marker) -> types.Range:
    return types.Range(start=types.Position(marker.line, marker.character),
                       end=types.Position(marker.end_line, marker.end_character))


def to_diagnostic(marker: Marker, not_done: str | None = None) -> types.Diagnostic:
    """The marker's diagnostic; ``not_done``: a marker run left it, for that reason ("": none given)."""
    if not_done is None:
        return types.Diagnostic(range=marker_range(marker), message=marker.text,
                                severity=types.DiagnosticSeverity.Information, source=SOURCE, code=CODE)
    message = f"{marker.text} — not done" + (f": {not_done}" if not_done else "")
    return types.Diagnostic(range=marker_range(marker), message=message,
                            severity=types.DiagnosticSeverity.Warning, source=SOURCE, code=CODE)


async def publish(ls: CodegenServer, uri: str) -> None:
    """Publish the markers of ``uri`` unless the document changed (or closed) meanwhile."""
    found = await document_markers(ls, uri)
    if found is None:
        return
    document = ls.workspace.text_documents.get(unquote(uri))
    if document is None or document.version != found.version:
        return  # a newer change is being read: its result is the one to show
    _published.setdefault(ls, {})[uri] = found
    texts = {m.text for m in found.markers}
    if any(text not in texts for text in found.not_done):
        # A marker left not done was edited or removed: what the run said of it no longer holds.
        left = {text: why for text, why in found.not_done.items() if text in texts}
        _set_not_done(ls, found.root / found.path, left)
    _show(ls, uri, found.diagnostics(), found.version)


def _show(ls: CodegenServer, uri: str, diagnostics: list[types.Diagnostic], version: int | None = None) -> None:
    """Send ``uri``'s diagnostics, unless the editor has exactly these already (typing elsewhere in
    the file moved nothing: no need to repaint it)."""
    shown = _shown.setdefault(ls, {})
    if shown.get(uri, []) == diagnostics:
        return
    if diagnostics:
        shown[uri] = diagnostics
    else:
        shown.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, version=version,
                                                                        diagnostics=diagnostics))


def _set_not_done(ls: CodegenServer, file: Path, left: dict[str, str]) -> None:
    files = _not_done.setdefault(ls, {})
    if left:
        files[file] = left
    else:
        files.pop(file, None)


#: The publishing tasks running (the event loop keeps only weak references to tasks).
_running: set[asyncio.Task] = set()


def document_changed(ls: CodegenServer, uri: str) -> None:
    """After pygls updated ``uri`` (opened or changed): publish its markers, off this notification."""
    task = asyncio.ensure_future(publish(ls, uri))
    _running.add(task)
    task.add_done_callback(_running.discard)


def document_closed(ls: CodegenServer, uri: str) -> None:
    """A closed document's markers are no longer followed as the file changes: take them away, but
    for those a marker run left not done, which stay listed where they were last seen."""
    previous = _published.get(ls, {}).pop(uri, None)
    if previous is not None:
        _show(ls, uri, [d for d in previous.diagnostics() if d.severity == types.DiagnosticSeverity.Warning])


def markers_left(ls: CodegenServer, root: Path, remaining: list[dict], path: str | None = None) -> None:
    """A marker run over ``root`` (or its file ``path`` only) ended, leaving ``remaining`` (the result's
    ``markers.remaining``: path, text, note?): what an earlier run said of those files is replaced,
    and their diagnostics are sent again, off this command."""
    scope = (root / path) if path is not None else root
    files = _not_done.setdefault(ls, {})
    before = {file for file in files if file == scope or scope in file.parents}
    for file in before:
        del files[file]
    for entry in remaining:
        files.setdefault(root / entry["path"], {})[entry["text"]] = entry.get("note", "")
    task = asyncio.ensure_future(_show_files(ls, before | {root / entry["path"] for entry in remaining}))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _show_files(ls: CodegenServer, files: set[Path]) -> None:
    """Send the diagnostics of ``files`` again: an open one's markers as the editor has them, a closed
    one's not-done markers as they are on disk."""
    open_files = {}
    for uri in list(ls.workspace.text_documents):
        placed = _folder_of(ls, uri)
        if placed is not None:
            open_files[placed[0] / placed[1]] = uri
    for file in files:
        if file in open_files:
            await publish(ls, open_files[file])
            continue
        left = _not_done.get(ls, {}).get(file, {})
        diagnostics = await asyncio.to_thread(_closed_file_diagnostics, ls, file, left) if left else []
        _show(ls, file.as_uri(), diagnostics)


def _closed_file_diagnostics(ls: CodegenServer, file: Path, left: dict[str, str]) -> list[types.Diagnostic]:
    """The diagnostics of a closed file's markers that a run left not done, as the file is on disk."""
    found = markers_in_file(file)
    if found is None:
        return []
    text, markers = found
    return [to_diagnostic(m, left[m.text]) for m in _in_client_units(ls, text, markers) if m.text in left]
