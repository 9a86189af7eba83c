"""codegen.transcript: a run's transcript as a Markdown file, opened in the editor on request."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from ...store import RunNotFound, RunStore
from ..app import CodegenServer
from ..arguments import command_object, get_bool, get_str

TRANSCRIPT = "codegen.transcript"
log = logging.getLogger(__name__)


async def write_run_transcript(root: Path, run_id: str) -> Path:
    """``transcript.md`` of run ``run_id`` in ``root``, (re)written from what the run recorded."""
    return await asyncio.to_thread(lambda: RunStore(root).open(run_id, read_only=True).write_transcript_sync())


async def show_document(ls: CodegenServer, path: Path) -> bool:
    """Ask the editor to open ``path`` beside the code (`window/showDocument`), if it can; True when shown."""
    window = ls.client_capabilities.window
    support = window.show_document if window is not None else None
    if support is None or not support.support:
        return False
    try:
        shown = await ls.window_show_document_async(types.ShowDocumentParams(uri=path.as_uri(), take_focus=False))
    except Exception as error:  # the editor failed the request: the path is in the result anyway
        log.info("window/showDocument for %s failed: %s", path, error)
        return False
    return bool(shown and shown.success)


def register(server: CodegenServer) -> None:
    @server.command(TRANSCRIPT)
    async def transcript_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{runId, root?, show?}` → `{path, uri, shown}`: the run's transcript (what was asked, every model
        call's request and answer, the outcome) written as `transcript.md` in its folder; with `show`,
        the editor is asked to open it (`window/showDocument`)."""
        args = command_object(TRANSCRIPT, arguments)
        root = ls.workspace_root(get_str(TRANSCRIPT, args, "root"))
        run_id = get_str(TRANSCRIPT, args, "runId", required=True) or ""
        try:
            path = await write_run_transcript(root, run_id)
        except RunNotFound as error:
            raise JsonRpcInvalidParams(f"{TRANSCRIPT}: {error}") from None
        shown = await show_document(ls, path) if get_bool(TRANSCRIPT, args, "show", False) else False
        return {"path": str(path), "uri": path.as_uri(), "shown": shown}
