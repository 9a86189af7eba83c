"""A real LSP client that behaves like an editor toward codegen-server.

It starts the daemon as a subprocess over stdio (pytest-lsp's client), announces
the capabilities pytest-lsp recorded from a real VS Code or Neovim, keeps open
buffers, and answers `workspace/applyEdit` the way an editor does: it applies
the edit to its buffers (checking document versions) and leaves them unsaved —
or declines, when told to.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument
from pytest_lsp import client_capabilities, make_test_lsp_client

CLIENTS = {"vscode": "visual-studio-code", "neovim": "neovim"}


@dataclass
class Buffer:
    text: str
    version: int | None


@dataclass
class EditorSession:
    """The editor's side of one daemon session."""

    client: object
    root: Path
    accept_edits: bool = True
    #: The failureReason of a declined edit (``codegen:skip`` skips one fix iteration's change).
    decline_reason: str = "declined by the user"
    buffers: dict[str, Buffer] = field(default_factory=dict)
    edits_received: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)
    #: The button the user presses when the daemon asks (window/showMessageRequest).
    consent_answer: str | None = None
    questions: list[str] = field(default_factory=list)
    #: What the daemon registered dynamically (client/registerCapability), as an editor keeps it.
    registrations: list[types.Registration] = field(default_factory=list)
    #: A user looking at the preview: when set, `workspace/applyEdit` is answered only once this event is
    #: set (None: at once). ``previewing`` is set as each preview arrives.
    decided: asyncio.Event | None = None
    previewing: asyncio.Event = field(default_factory=asyncio.Event)
    #: Report the documents an applied edit changed (didOpen for one it opened, didChange for an open
    #: one) before answering, as VS Code does; off, the daemon hears of the edit only from the answer.
    reports_applied_edits: bool = False
    #: A user who reviews file by file: the changes to these workspace-relative paths are left out,
    #: the rest is applied and saved, and the answer is ``applied: true`` with ``codegen:reviewed``, as
    #: the VS Code extension answers (empty: the edit is taken whole).
    leave_out: set[str] = field(default_factory=set)

    async def execute(self, command: str, args: dict | None = None, **params) -> dict:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=[args or {}], **params))

    def open(self, relative: str, text: str | None = None, version: int = 1) -> str:
        path = self.root / relative
        text = path.read_text() if text is None else text
        uri = from_fs_path(str(path))
        self.buffers[uri] = Buffer(text, version)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
        return uri

    def change(self, uri: str, text: str) -> None:
        buffer = self.buffers[uri]
        buffer.text, buffer.version = text, (buffer.version or 0) + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=buffer.version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def open_uri(self, uri: str, text: str, language_id: str = "plaintext", version: int = 1) -> str:
        """Open a document by URI, whatever its scheme (`health://`, `untitled:`, ...), as editors do."""
        self.buffers[uri] = Buffer(text, version)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)))
        return uri

    def change_range(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """An incremental change: replace ``start``..``end`` (line, character) with ``text``."""
        buffer = self.buffers[uri]
        edit = types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(*start), end=types.Position(*end)), text=text)
        document = TextDocument(uri, buffer.text)
        document.apply_change(edit)
        buffer.text, buffer.version = document.source, (buffer.version or 0) + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=buffer.version),
            content_changes=[edit]))

    def files_changed(self, changes: dict[str, types.FileChangeType]) -> None:
        """Report changes on disk (path relative to the root -> kind), as the editor's file watcher does."""
        self.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=from_fs_path(str(self.root / path)), type=kind) for path, kind in changes.items()]))

    def buffer_text(self, relative: str) -> str | None:
        buffer = self.buffers.get(from_fs_path(str(self.root / relative)))
        return None if buffer is None else buffer.text

    # -- workspace/applyEdit, as an editor does it --
    def apply_workspace_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        self.edits_received.append(params)
        if not self.accept_edits:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason=self.decline_reason)
        staged = {uri: Buffer(b.text, b.version) for uri, b in self.buffers.items()}
        touched: list[str] = []
        left_out = {from_fs_path(str(self.root / path)) for path in self.leave_out}
        for change in params.edit.document_changes or []:
            if (change.old_uri if isinstance(change, types.RenameFile) else
                    change.uri if isinstance(change, (types.CreateFile, types.DeleteFile))
                    else change.text_document.uri) in left_out:
                continue
            if isinstance(change, types.CreateFile):
                staged[change.uri] = Buffer("", 0)
            elif isinstance(change, types.DeleteFile):
                staged.pop(change.uri, None)
            elif isinstance(change, types.RenameFile):
                staged[change.new_uri] = staged.pop(change.old_uri, None) or Buffer(self._disk(change.old_uri), 0)
            else:
                uri = change.text_document.uri
                buffer = staged.get(uri) or Buffer(self._disk(uri), None)
                wanted = change.text_document.version
                if wanted is not None and buffer.version is not None and wanted != buffer.version:
                    return types.ApplyWorkspaceEditResult(
                        applied=False, failure_reason=f"version mismatch on {uri}: {wanted} != {buffer.version}")
                document = TextDocument(uri, buffer.text)
                for edit in sorted(change.edits, key=lambda e: (e.range.start.line, e.range.start.character),
                                   reverse=True):
                    document.apply_change(types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text))
                staged[uri] = Buffer(document.source, (buffer.version or 0) + 1)
                touched.append(uri)
        opened, self.buffers = self.buffers, staged
        if self.reports_applied_edits:
            for uri in touched:
                buffer = staged[uri]
                if uri in opened:
                    self.client.text_document_did_change(types.DidChangeTextDocumentParams(
                        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=buffer.version),
                        content_changes=[types.TextDocumentContentChangeWholeDocument(text=buffer.text)]))
                else:
                    self.open_uri(uri, buffer.text, version=buffer.version)
        if self.leave_out:
            for uri in touched:  # the extension saves what the user took
                target = Path(to_fs_path(uri))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(staged[uri].text)
            return types.ApplyWorkspaceEditResult(applied=True, failure_reason="codegen:reviewed")
        return types.ApplyWorkspaceEditResult(applied=True)

    @staticmethod
    def _disk(uri: str) -> str:
        path = Path(to_fs_path(uri))
        return path.read_text() if path.exists() else ""


async def start_editor(root: Path, *, client: str = "vscode", env: dict | None = None,
                       initialization_options: dict | None = None, accept_edits: bool = True,
                       reports_applied_edits: bool = False, leave_out: set[str] | None = None,
                       server_args: list[str] | None = None) -> EditorSession:
    """Spawn codegen-server over stdio and initialize it as ``client`` would."""
    lsp = make_test_lsp_client()
    session = EditorSession(lsp, root, accept_edits, reports_applied_edits=reports_applied_edits,
                            leave_out=leave_out or set())

    @lsp.feature(types.WORKSPACE_APPLY_EDIT)
    async def on_apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        session.previewing.set()
        if session.decided is not None:
            await session.decided.wait()
        return session.apply_workspace_edit(params)

    @lsp.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_question(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        session.questions.append(params.message)
        return next((a for a in params.actions or [] if a.title == session.consent_answer), None)

    @lsp.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(params: types.RegistrationParams) -> None:
        session.registrations.extend(params.registrations)

    server_env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY") and not k.startswith("OPENAI_")}
    server_env.update(env or {})
    await lsp.start_io(sys.executable, "-m", "codegen_server.server", *(server_args or []), env=server_env)
    await lsp.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(CLIENTS.get(client, client)),
        root_uri=from_fs_path(str(root)),
        workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(root)), name=root.name)],
        initialization_options=initialization_options,
    ))
    return session
