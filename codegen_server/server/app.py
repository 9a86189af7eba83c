"""The codegen language server: pygls wiring, settings, and how long commands run.

Every codegen command runs as its own asyncio task so that it can be cancelled:
pygls 2.1 answers a `$/cancelRequest` for `workspace/executeCommand` as
cancelled but leaves the command's coroutine running (the request future it
cancels is not the task running the handler). ``CodegenProtocol`` keeps the
running task of each request and cancels it too; the progress bar's cancel
button (`window/workDoneProgress/cancel`) reaches the same task.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import signal
import sys
import weakref
from collections import deque
from pathlib import Path
from typing import Any, Awaitable, BinaryIO, Callable
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from .. import __version__
from ..edits import EditError
from ..model import ChatModel, ModelError
from ..preprompts import Preprompts
from ..redaction import add_secret, redact, secret_settings
from ..secret_env import forget_secrets
from ..store import RunNotFound, RunStore
from ..testing.preflight import TestToolMissing
from ..trust.files import RefusedPath
from ..trust.key import KeyUnavailable
from ..workflows.host import Host, WorkflowError
from ..workflows.written import cancel_report, record_all_written
from . import settings as server_settings
from .convert import error_data, to_json
from .early_initialize import EarlyStart
from .framing import max_message_bytes
from .progress import LspProgress
from .notices import trust_notices_shown
from .tcp import TokenFile, authenticate, first_message, refusal, too_large
from .turns import WriterTurn
from .transport import ReadSummary, prefixed, read_messages, stdin_chunks, stream_chunks

log = logging.getLogger(__name__)

#: Seconds `shutdown` waits for cancelled commands to wind down before it answers.
SHUTDOWN_GRACE = 10.0


class CommandFailed(JsonRpcException):
    """A command could not do its work; the message says why and what to fix."""

    CODE = -32803  # LSP's RequestFailed


class CodegenProtocol(LanguageServerProtocol):
    """pygls's protocol, plus cancellation that reaches running command tasks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_tasks: dict[Any, asyncio.Task] = {}
        self.work_done_tokens: dict[Any, types.ProgressToken] = {}
        #: Commands received whose task has not reached ``run_command`` yet, and those of them
        #: already cancelled: a `$/cancelRequest` can arrive before the task is registered.
        self.commands_not_started: set[Any] = set()
        self.cancelled_before_start: set[Any] = set()
        #: Ids cancelled before their request arrived (the last few only).
        self.cancelled_unknown: deque[Any] = deque(maxlen=64)
        #: Set by the `exit` notification: the reader stops and the process ends with ``exit_code``.
        self.stop_reading = asyncio.Event()
        self.exit_code: int | None = None
        #: A `shutdown` arrived: an `exit` right behind it (before its answer) still ends with 0.
        self.shutdown_requested = False
        #: The `initialize` answered before the server was loaded (see ``early_initialize``).
        self.early: EarlyStart | None = None

    def _handle_request(self, msg_id, method_name, params):  # noqa: ANN001 - pygls's signature
        if method_name == types.SHUTDOWN:
            self.shutdown_requested = True
        if method_name == types.WORKSPACE_EXECUTE_COMMAND:
            token = getattr(params, "work_done_token", None)
            if token is not None:
                self.work_done_tokens[msg_id] = token
            if msg_id in self.cancelled_unknown:
                # Its cancel came first (a client that sends both at once may reorder them).
                self.cancelled_unknown.remove(msg_id)
                self._send_response(msg_id, error=JsonRpcRequestCancelled(
                    f'Request with id "{msg_id}" is canceled').to_response_error())
                return None
            self.commands_not_started.add(msg_id)
        return super()._handle_request(msg_id, method_name, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        """pygls's document update, for documents it was never told about too.

        A change for a document that was never opened (an editor that attached to a
        buffer late) starts tracking it from a whole-document change and is otherwise
        dropped with a log line, instead of a KeyError shown to the user.
        """
        uri = params.text_document.uri
        if unquote(uri) not in self.workspace.text_documents:
            whole = [c for c in params.content_changes if isinstance(c, types.TextDocumentContentChangeWholeDocument)]
            if not whole:
                log.info("ignored an incremental change to %s, a document that was never opened", uri)
                return
            self.workspace.put_text_document(types.TextDocumentItem(
                uri=uri, language_id="", version=params.text_document.version, text=whole[-1].text))
        yield from super().lsp_text_document__did_change(params)

    @lsp_method(types.SHUTDOWN)
    async def lsp_shutdown(self, *args: Any) -> None:
        """Cancel the running commands (nothing is written, their runs end cancelled), then answer null.

        pygls's own shutdown cancels request futures while iterating over the dict their
        callbacks remove themselves from, which failed with "dictionary changed size".
        """
        tasks = [task for task in self.command_tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        # A cold index runs in a thread that cancelling its command does not stop, and the process
        # cannot end before it does. Only if the engine was ever loaded: shutdown must not load it.
        context_engine = sys.modules.get("codegen_server.context.engine")
        if context_engine is not None:
            context_engine.stop_indexing()
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
        current = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._shutdown = True

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> None:
        """Stop reading; the process then ends with 0 after a shutdown, 1 without one (as LSP says)."""
        self.exit_code = 0 if self._shutdown or self.shutdown_requested else 1
        self.stop_reading.set()

    def _send_handler_result(self, future, *, msg_id):  # noqa: ANN001 - pygls's signature
        """Answer a request; one that failed with an error meant for the user (a JSON-RPC error: a rejected
        key, no test command, a bad argument) is one log line, not pygls's traceback (that only at DEBUG).
        A bug's traceback was logged where it was caught (``run_command``)."""
        error = None if future.cancelled() else future.exception()
        if not isinstance(error, JsonRpcException):
            return super()._send_handler_result(future, msg_id=msg_id)
        self._request_futures.pop(msg_id, None)
        log.warning("request %s failed: %s", msg_id, redact(error.message))
        log.debug("request %s failed", msg_id, exc_info=error)
        self._send_response(msg_id, error=error.to_response_error())
        return None

    def _handle_response(self, msg_id, result=None, error=None):  # noqa: ANN001 - pygls's signature
        """A client's answer to a request nobody waits for any more (a preview still open when its command
        was cancelled) is dropped with a line at INFO, not pygls's `InvalidStateError: CANCELLED` traceback."""
        future = self._request_futures.get(msg_id)
        if future is not None and future.done():
            self._request_futures.pop(msg_id, None)
            log.info("dropped the client's answer to request %s: the command that sent it was cancelled", msg_id)
            return
        super()._handle_response(msg_id, result, error)

    def _send_response(self, msg_id, result: Any = None, error: Any = None) -> None:  # noqa: ANN001
        self.commands_not_started.discard(msg_id)  # answered: a later cancel has nothing to stop
        error = without_traceback(error)
        if not self.answered_early(msg_id, result, error):
            super()._send_response(msg_id, result, error)

    def answered_early(self, msg_id: Any, result: Any = None, error: Any = None) -> bool:
        """True when ``msg_id`` is the `initialize` already answered: then this answer is only checked.

        pygls's answer should equal the early one; if it does not (or is an error), the log says
        so, and an error is shown to the user, whose editor believes the session started.
        """
        early = self.early
        if early is None or early.answered_id is None or msg_id != early.answered_id:
            return False
        self.early = None
        ours = None if error is not None else json.loads(json.dumps(result, default=self._serialize_message))
        if ours != early.result:
            log.error("the initialize answer sent before loading the server differs from pygls's (%s); "
                      "regenerate capabilities.json: python -m codegen_server.server.wiring",
                      redact(json.dumps(error if error is not None else ours, default=self._serialize_message)))
        if error is not None:
            self.notify(types.WINDOW_SHOW_MESSAGE, types.ShowMessageParams(
                type=types.MessageType.Error,
                message=f"codegen: the server could not initialize: {redact(str(error.message))}"))
        return True

    def _handle_cancel_notification(self, msg_id):  # noqa: ANN001
        task = self.command_tasks.get(msg_id)
        not_started = task is None and msg_id in self.commands_not_started
        unknown = task is None and not not_started and msg_id not in self._request_futures
        super()._handle_cancel_notification(msg_id)
        if task is not None:
            task.cancel()
        elif not_started:
            self.cancelled_before_start.add(msg_id)
        elif unknown:
            self.cancelled_unknown.append(msg_id)


def without_traceback(error: Any) -> Any:
    """A response error as the client may see it: never a traceback, never a secret.

    pygls answers an exception that escaped a handler with its traceback in `data.traceback`
    (after logging it): the client gets one line and `data.kind` "internal" instead.
    """
    data = getattr(error, "data", None)
    if not (isinstance(data, dict) and "traceback" in data):
        return error
    return types.ResponseError(code=error.code, data=error_data(kind="internal"), message=redact(
        f"codegen failed: {error.message} (an internal error; the daemon's log has the details)"))


class CodegenServer(LanguageServer):
    """The daemon: holds settings and the model; commands live in ``features``."""

    def __init__(self) -> None:
        super().__init__("codegen-server", __version__, protocol_cls=CodegenProtocol)
        self.settings = server_settings.initial_settings()
        forget_secrets()  # the project's tests run below this process: they must not find the key in it
        self.model = ChatModel(self.settings.model)
        #: Over TCP every command's `root` must be a folder the client opened (see ``workspace_root``).
        self.require_opened_root = False
        #: The size limit of one message from the client (None: ``framing.max_message_bytes()``).
        self.max_message: int | None = None
        #: The run stores each running command's workflow uses, by the command's task.
        #: (Weak: a store made outside run_command, as collectFeedback's, goes with its task.)
        self._command_stores: weakref.WeakKeyDictionary[asyncio.Task, list[RunStore]] = weakref.WeakKeyDictionary()
        #: One writing command per workspace at a time (``turns``), by workspace root.
        self._writer_turns: dict[Path, WriterTurn] = {}

    @property
    def codegen_protocol(self) -> CodegenProtocol:
        return self.protocol  # type: ignore[return-value]

    # -- transports: our reader (see ``transport``) instead of pygls's --
    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None,
                 early: EarlyStart | None = None) -> ReadSummary:
        """Serve one client over stdin/stdout until `exit` or the end of input.

        ``early`` holds what was read (and answered) before the server was loaded.
        """
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        fd = (stdin or sys.stdin.buffer).fileno()
        self.codegen_protocol.early = early

        async def serve() -> ReadSummary:
            with trust_notices_shown(self):
                read = stdin_chunks(fd, early.consumed if early else b"")
                return await read_messages(read, self.protocol, self.codegen_protocol.stop_reading,
                                             self.max_message)

        try:
            return asyncio.run(serve())
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int,
                  on_listening: Callable[[str, int, Path], None] | None = None) -> ReadSummary:
        """Listen on ``host:port`` and serve the first client that sends the token, until `exit` or it hangs up.

        Once listening, a new token is written 0600 to ``tcp.token_path(port)`` (removed when the
        daemon ends) and ``on_listening(host, port, path)`` is called (``port`` 0 picks a free one).
        A connection is served only if its first message is an `initialize` with that token (see
        ``tcp``); others are closed and the daemon goes on listening.
        """
        summary = ReadSummary()
        self.require_opened_root = True

        async def serve() -> None:
            finished = asyncio.Event()
            try:
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, finished.set)
            except (NotImplementedError, AttributeError):  # Windows: the token file stays behind a kill
                pass
            token: TokenFile | None = None

            async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                nonlocal summary
                try:
                    if finished.is_set() or self.protocol.writer is not None or token is None:
                        return  # one client per daemon
                    first = await first_message(stream_chunks(reader), max_message=self.max_message
                                                if self.max_message is not None else max_message_bytes())
                    if first.too_large:
                        log.warning("closed a connection whose first message (%d bytes) is over the limit of %d "
                                    "bytes", first.too_large, first.limit)
                        writer.write(too_large(first))
                        await writer.drain()
                        return
                    if first.message is None:
                        log.warning("closed a connection that did not start with an LSP message (an HTTP request?)")
                        return
                    accepted, msg_id = authenticate(first.message, token.token)
                    if not accepted:
                        log.warning("refused a connection whose first message did not carry the token")
                        writer.write(refusal(msg_id, token.path))
                        await writer.drain()
                        return
                    if finished.is_set() or self.protocol.writer is not None:
                        return
                    self.protocol.set_writer(writer)
                    body = json.dumps(first.message).encode()
                    read = prefixed(b"Content-Length: %d\r\n\r\n%s%s" % (len(body), body, first.rest),
                                    stream_chunks(reader))
                    try:
                        summary = await read_messages(read, self.protocol, self.codegen_protocol.stop_reading,
                                             self.max_message)
                    finally:
                        finished.set()
                except OSError:  # the client hung up while we answered it
                    pass
                finally:
                    writer.close()

            with trust_notices_shown(self):
                server = await asyncio.start_server(on_client, host, port)
                try:
                    async with server:
                        bound = server.sockets[0].getsockname()[1]
                        token = TokenFile(bound)
                        add_secret(token.token)
                        if on_listening is not None:
                            on_listening(host, bound, token.path)
                        await finished.wait()
                finally:
                    if token is not None:
                        token.remove()

        try:
            asyncio.run(serve())
        finally:
            self.shutdown()
        return summary

    # -- settings --
    def apply_options(self, options: Any) -> None:
        """Merge editor options into the settings, reporting any problem to the user."""
        for secret in secret_settings(options):  # whatever its type: a list given as apiKey is still a secret
            add_secret(secret)
        merged, problems = server_settings.merge(self.settings, options)
        add_secret(merged.model.api_key)
        if merged.model != self.settings.model:
            old = self.model
            self.model = ChatModel(merged.model)
            asyncio.ensure_future(old.aclose())
        self.settings = merged
        for problem in problems:
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning,
                                                             message=f"codegen: {redact(problem)}"))

    # -- what workflows need --
    def opened_folders(self) -> list[Path]:
        """The folders the client opened (initialize's rootUri/rootPath and workspaceFolders, as
        workspace/didChangeWorkspaceFolders changed them since), resolved."""
        try:
            workspace = self.workspace
        except RuntimeError:  # before initialize
            return []
        paths = [to_fs_path(folder.uri) for folder in workspace.folders.values()] + [workspace.root_path]
        return [Path(path).resolve() for path in dict.fromkeys(paths) if path]

    def workspace_root(self, root: str | None) -> Path:
        """The root a command works in: its `root` argument, else the editor's workspace.

        A `root` must be a folder the client opened, or a folder inside one: a command cannot be
        pointed at any directory the user can write. A client that opened no folder at all may name
        any root over stdio (it started this daemon itself); over TCP never (``require_opened_root``).
        """
        opened = self.opened_folders()
        if root:
            path = Path(to_fs_path(root) if root.startswith("file:") else root).expanduser()
            resolved = path.resolve()  # a symlink inside a workspace folder that leads out of it is outside
            if (opened or self.require_opened_root) and not any(resolved.is_relative_to(f) for f in opened):
                folders = ", ".join(map(str, opened)) or "none"
                raise CommandFailed(f"`root` {path} is not a workspace folder the client opened, nor inside one "
                                    f"(opened: {folders}). Open that folder in the editor first.",
                                    data=error_data(kind="root-not-opened"))
        elif self.workspace.root_path:
            path = Path(self.workspace.root_path)
        else:
            raise CommandFailed("No workspace root: open a folder, or pass `root` to the command.")
        if not path.is_dir():
            raise CommandFailed(f"The workspace root {path} is not a folder.")
        return path.resolve()

    @staticmethod
    def relative_path(uri: str, root: Path) -> str | None:
        """The workspace-relative POSIX path of a document URI, or None when it names no workspace file.

        Editors attach to documents that are not files (`health://`, `untitled:`, `term://`,
        `git:`...), to files outside the workspace, and to folders (a netrw or oil buffer):
        none of them is ever read as, or written to, a workspace file.
        """
        if not uri.startswith("file:"):
            return None
        path = to_fs_path(uri)
        if not path:
            return None
        resolved = Path(path).resolve()
        try:
            relative = resolved.relative_to(root)
        except ValueError:
            return None
        if not relative.parts or resolved.is_dir():
            return None
        return relative.as_posix()

    def open_buffers(self, root: Path) -> dict[str, str]:
        """Text of the documents open in the editor under ``root``, by workspace-relative path."""
        documents = self.workspace.text_documents.items()
        return {rel: doc.source for uri, doc in documents if (rel := self.relative_path(uri, root)) is not None}

    def document_versions(self, root: Path) -> dict[str, int]:
        """The editor's version of each open document under ``root``."""
        documents = self.workspace.text_documents.items()
        return {rel: doc.version for uri, doc in documents
                if doc.version is not None and (rel := self.relative_path(uri, root)) is not None}

    def host(self, root: Path, progress: LspProgress) -> Host:
        """What a workflow runs with; its run store is remembered so ``run_command`` can settle its runs."""
        store = RunStore(root, secret_values=[self.settings.model.api_key or ""])
        task = asyncio.current_task()
        if task is not None:
            self._command_stores.setdefault(task, []).append(store)
        return Host(root=root, model=self.model, store=store, preprompts=Preprompts(root), progress=progress,
                    open_buffers=lambda: self.open_buffers(root))

    def client_can_apply_edits(self) -> bool:
        workspace = self.client_capabilities.workspace
        return bool(workspace and workspace.apply_edit)

    # -- running commands --
    async def run_command(self, title: str, work: Callable[[LspProgress], Awaitable[Any]], *,
                          writer: Path | None = None) -> dict:
        """Run one long command: its own task, with progress, cancellation and clear errors.

        A cancelled command answers ``{cancelled: true, message, runId, written, restoredTo}`` (when
        the cancel came from the progress bar; a `$/cancelRequest` gets the standard RequestCancelled
        error): the run to undo, the files that stay written, where a fix run returned to.
        ``writer``: the workspace a writing command writes; it waits for that workspace's turn.
        ``work`` returns a dataclass or dict; its keys reach the client in camelCase.
        """
        protocol = self.codegen_protocol
        msg_id = protocol.msg_id
        progress = LspProgress(self, title, protocol.work_done_tokens.pop(msg_id, None))
        task = asyncio.current_task()
        if msg_id is not None and task is not None:
            protocol.command_tasks[msg_id] = task
        protocol.commands_not_started.discard(msg_id)
        turn = self._writer_turns.setdefault(writer, WriterTurn()) if writer is not None else None
        waiting_for, holding = "", False
        try:
            if msg_id in protocol.cancelled_before_start:
                protocol.cancelled_before_start.discard(msg_id)
                raise asyncio.CancelledError
            await progress.begin(on_cancel=task.cancel if task else None)
            if turn is not None:
                waiting_for = turn.busy()
                await turn.take(title, progress)
                holding = True
            result = to_json(await work(progress))
            progress.end("done")
            return result
        except asyncio.CancelledError:
            progress.end("cancelled")
            if waiting_for and not holding:  # it never started: refused, said so
                return {"cancelled": True, "runId": None, "written": [], "restoredTo": None,
                        "message": f"{title} was cancelled while waiting for {waiting_for} to finish: "
                                   "it did not start, and nothing was written."}
            await self._settle_runs(task, "cancelled", f"{title} was cancelled")
            return await self._cancelled_answer(task, title)
        except (WorkflowError, ModelError, EditError, RunNotFound) as error:
            progress.end("failed")
            message = redact(str(error))
            await self._settle_runs(task, "failed", message)
            raise CommandFailed(message, data=error_data(error)) from None
        except JsonRpcException as error:
            progress.end("failed")
            await self._settle_runs(task, "failed", str(error))
            raise
        except (RefusedPath, KeyUnavailable) as error:  # state codegen will not use: the user can act on it
            progress.end("failed")
            message = redact(str(error))
            await self._settle_runs(task, "failed", message)
            raise CommandFailed(message, data=error_data(error, "unsafe-state")) from None
        except OSError as error:  # a file that became read-only, a full disk: the user can act on it
            progress.end("failed")
            message, kind = describe_os_error(error)
            message = redact(message)
            log.warning("%s failed: %s", title, message)  # an ordinary event: the traceback only at DEBUG
            log.debug("%s failed", title, exc_info=True)
            await self._settle_runs(task, "failed", message)
            raise CommandFailed(message, data=error_data(error, kind)) from None
        except Exception as error:  # a bug: one line for the user, the traceback for the log
            progress.end("failed")
            log.exception("%s failed", title)
            message = redact(f"{title} failed: {type(error).__name__}: {error} (the daemon's log has the details)")
            await self._settle_runs(task, "failed", message)
            raise CommandFailed(message, data=error_data(error, "internal")) from None
        finally:
            if holding and turn is not None:
                turn.give_back()
            protocol.command_tasks.pop(msg_id, None)
            self._command_stores.pop(task, None)

    async def _cancelled_answer(self, task: asyncio.Task | None, title: str) -> dict:
        """What a cancelled command answers: the truth about what stays written, and the run to undo."""
        title = title.removeprefix("codegen: ")  # each client names codegen itself ("Codegen: ...")
        try:
            report = await cancel_report(self._command_stores.get(task, []) if task else [])
        except (WorkflowError, OSError, RefusedPath) as error:  # the checkpoints cannot be read: say so, not "nothing"
            log.warning("could not tell what %s left written", title, exc_info=True)
            return {"cancelled": True, "runId": None, "written": None, "restoredTo": None,
                    "message": redact(f"{title} was cancelled; what stays written could not be read: {error}")}
        return {"cancelled": True, "message": report.sentence(title), "runId": report.run_id,
                "written": report.written, "restoredTo": report.restored_to}

    async def _settle_runs(self, task: asyncio.Task | None, status: str, reason: str) -> None:
        """No run of a failed or cancelled command is left ``running``."""
        for store in self._command_stores.get(task, []) if task else []:
            try:
                await store.settle(status, reason)
            except (OSError, RefusedPath):  # the workspace became unwritable: the command's own error says more
                log.warning("could not mark the runs of %s as %s", store.root, status, exc_info=True)
        if status == "failed" and task is not None:  # (a cancelled command's answer records it: _cancelled_answer)
            try:
                await record_all_written(self._command_stores.get(task, []))
            except (WorkflowError, OSError, RefusedPath):
                log.warning("could not record what the failed command left written", exc_info=True)

def describe_os_error(error: OSError) -> tuple[str, str]:
    """A sentence and a `data.kind` for a file-system error, without a traceback."""
    where = f" {error.filename}" if error.filename else ""
    reason = error.strerror or str(error)
    if isinstance(error, PermissionError):
        return f"Cannot write{where}: permission denied. Make it writable and run the command again.", "permission"
    if error.errno == errno.ENOSPC:
        return f"Cannot write{where}: the disk is full.", "disk-full"
    if isinstance(error, TestToolMissing):  # says what is missing and what to do
        return str(error), "file-not-found"
    if isinstance(error, FileNotFoundError):
        return f"Cannot find{where}: {reason}.", "file-not-found"
    return f"Cannot read or write{where}: {reason}.", "io"
