"""`codegen:` marker comments in open documents, published as diagnostics.

Any editor with an LSP client shows them (Emacs eglot, Helix, Zed, Kate...) without a plugin, and
offers their code actions (see ``code_actions``). The markers are found by the parser the markers
workflow uses (``context.markers``): only real comments count, a string holding "codegen:" is no
marker. ``context`` owns the document notifications (pygls takes one handler for each) and calls
``document_changed`` and ``document_closed``. Each change re-reads its document off the event loop
(a text without "codegen:" is not parsed at all); a result for a version the editor has already
replaced is dropped, so the last change always wins.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import PositionCodec

from ...context.languages import language_for_path
from ...context.markers import Marker, markers_in_source
from ..app import CodegenServer

log = logging.getLogger(__name__)

SOURCE = "codegen"
#: The diagnostic's code: a client (or a test) can tell codegen's markers from other diagnostics.
CODE = "marker"
_UTF16 = PositionCodec(types.PositionEncodingKind.Utf16)


@dataclass(frozen=True)
class DocumentMarkers:
    """The markers of one open document, at one version, and the workspace folder it lies in."""

    version: int | None
    root: Path
    markers: list[Marker]


#: Per server: the markers last published for each open document, by URI.
_published: weakref.WeakKeyDictionary[CodegenServer, dict[str, DocumentMarkers]] = weakref.WeakKeyDictionary()


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
    cached = _published.get(ls, {}).get(uri)
    if cached is not None and cached.version == document.version and cached.root == root:
        return cached
    version, text = document.version, document.source
    if "codegen:" not in text.lower():  # most files, most keystrokes: nothing to parse
        return DocumentMarkers(version, root, [])
    markers = await asyncio.to_thread(markers_in_source, relative, language, text.encode("utf-8"))
    return DocumentMarkers(version, root, _in_client_units(ls, text, markers))


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


def to_diagnostic(marker: Marker) -> types.Diagnostic:
    return types.Diagnostic(range=marker_range(marker), message=marker.text,
                            severity=types.DiagnosticSeverity.Information, source=SOURCE, code=CODE)


async def publish(ls: CodegenServer, uri: str) -> None:
    """Publish the markers of ``uri`` unless the document changed (or closed) meanwhile."""
    found = await document_markers(ls, uri)
    if found is None:
        return
    document = ls.workspace.text_documents.get(unquote(uri))
    if document is None or document.version != found.version:
        return  # a newer change is being read: its result is the one to show
    published = _published.setdefault(ls, {})
    previous = published.get(uri)
    published[uri] = found
    if (previous.markers if previous else []) == found.markers:
        return  # typing elsewhere in the file moved nothing: no need to repaint the editor
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
        uri=uri, version=found.version, diagnostics=[to_diagnostic(m) for m in found.markers]))


#: The publishing tasks running (the event loop keeps only weak references to tasks).
_running: set[asyncio.Task] = set()


def document_changed(ls: CodegenServer, uri: str) -> None:
    """After pygls updated ``uri`` (opened or changed): publish its markers, off this notification."""
    task = asyncio.ensure_future(publish(ls, uri))
    _running.add(task)
    task.add_done_callback(_running.discard)


def document_closed(ls: CodegenServer, uri: str) -> None:
    """A closed document's markers are no longer followed as the file changes: take them away."""
    previous = _published.get(ls, {}).pop(uri, None)
    if previous is not None and previous.markers:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

