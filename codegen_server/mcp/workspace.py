"""Each tool call's Host, and running a workflow for an MCP client: progress, cancellation, errors.

The same engines as the daemon and the CLI: the workflow writes through the edits engine
(paths inside the root, atomic writes, the writer lock shared with every other codegen
process), and its run record through the run store (sealed, secrets redacted).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Awaitable, Callable, TypeVar
from urllib.parse import unquote, urlparse

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from ..edits import EditError, recover
from ..model import ChatModel, ModelError
from ..model.settings import ModelSettings, settings_from_env
from ..preprompts import Preprompts
from ..redaction import redact
from ..secret_env import forget_secrets
from ..store import RunNotFound, RunStore
from ..trust.files import RefusedPath
from ..trust.key import KeyUnavailable
from ..workflows.host import Host, WorkflowError

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Errors a user can act on, reported as a tool error in one line (as the CLI reports them).
USER_ERRORS = (WorkflowError, ModelError, EditError, RunNotFound, RefusedPath, KeyUnavailable)


class McpProgress:
    """A workflow's phases as `notifications/progress` for the call (none when the client asked for none).

    Workflows report phases synchronously; a pump sends them in order from the event loop.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._queue: asyncio.Queue[tuple[int | None, str]] = asyncio.Queue()
        self._sent = 0

    def phase(self, message: str, percentage: int | None = None) -> None:
        self._queue.put_nowait((percentage, message))

    def tokens(self, count: int) -> None:
        pass  # a notification per token would flood the host; phases say enough

    async def pump(self) -> None:
        while True:
            percentage, message = await self._queue.get()
            # MCP wants progress to grow with each notification: the phase count does, a percentage may not.
            self._sent += 1
            try:
                await self._ctx.report_progress(self._sent, None, message if percentage is None
                                                else f"{message} ({percentage}%)")
            except Exception:  # the host went away: the workflow goes on, its result says the rest
                log.debug("progress not sent", exc_info=True)
                return


@dataclass
class Workspace:
    """Where the tools work (a fixed root, or the host's first root) and the model they call."""

    root: Path | None
    settings: ModelSettings

    @classmethod
    def from_env(cls, root: Path | None, *, model: str | None = None, base_url: str | None = None) -> Workspace:
        """The model settings from the environment (as the CLI reads them), then the key leaves the environment:
        the project's tests run below this process and must not find it there."""
        settings = settings_from_env()
        forget_secrets()
        if model:
            settings = replace(settings, model=model)
        if base_url:
            settings = replace(settings, base_url=base_url)
        return cls(root, settings)

    async def root_for(self, ctx: Context) -> Path:
        """``--root``, else the first `file://` root the host lists, else the current folder."""
        if self.root is not None:
            return self.root
        try:
            roots = (await ctx.session.list_roots()).roots
        except Exception:  # a host without roots: the folder it started us in
            roots = []
        for entry in roots:
            url = urlparse(str(entry.uri))
            if url.scheme == "file" and Path(unquote(url.path)).is_dir():
                return Path(unquote(url.path)).resolve()
        return Path.cwd().resolve()

    def host(self, root: Path, progress: McpProgress) -> Host:
        store = RunStore(root, secret_values=[self.settings.api_key or ""])
        return Host(root=root, model=ChatModel(self.settings), store=store, preprompts=Preprompts(root),
                    progress=progress)

    async def run(self, ctx: Context, title: str, work: Callable[[Host], Awaitable[T]]) -> T:
        """Run ``work`` with a fresh Host for this call's root.

        The workflow runs in a task of its own: the client's cancel reaches it once, as a cancel
        reaches a daemon command, so a fix restores its last checkpoint before the call ends (the
        SDK's cancel scope would cancel every await of that cleanup). Errors a user can act on become
        a tool error in one line, without secrets; a run the work started is settled failed or cancelled.
        """
        root = await self.root_for(ctx)
        progress = McpProgress(ctx)
        host = self.host(root, progress)
        pump = asyncio.ensure_future(progress.pump())
        try:
            # Finish or roll back an apply that crashed here, before anything reads the workspace.
            await asyncio.to_thread(recover, root)
            task = asyncio.ensure_future(work(host))
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                task.cancel()
                with anyio.CancelScope(shield=True):
                    await asyncio.wait([task])
                    await host.store.settle("cancelled", f"{title} was cancelled")
                raise
        except USER_ERRORS as error:
            await host.store.settle("failed", redact(str(error)))
            raise ToolError(redact(f"{title}: {error}")) from None
        except OSError as error:  # a file that became read-only, a full disk: the user can act on it
            where = f": {error.filename}" if error.filename else ""
            await host.store.settle("failed", redact(str(error)))
            raise ToolError(redact(f"{title}: {error.strerror or error}{where}; nothing more was done.")) from None
        except (asyncio.CancelledError, ToolError):
            raise
        except Exception as error:  # a bug: one line for the host, the traceback for the log (stderr)
            log.exception("%s failed", title)
            await host.store.settle("failed", redact(str(error)))
            raise ToolError(redact(f"{title}: internal error: {type(error).__name__}: {error}")) from None
        finally:
            pump.cancel()
            with anyio.CancelScope(shield=True):
                await host.model.aclose()
