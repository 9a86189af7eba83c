"""codegen.runs: the workspace's runs, for the clients' pickers (undo, reply)."""

from __future__ import annotations

import asyncio
from typing import Any

from ...store import RunStore
from ..app import CodegenServer
from ..arguments import command_object, get_str, get_str_list
from ..convert import to_json

RUNS = "codegen.runs"


def register(server: CodegenServer) -> None:
    @server.command(RUNS)
    async def runs_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{root?, kinds?}` → `{runs: [{id, kind, status, created, started, title, description, files, written,
        undoable, asked, path, lines}]}`, newest first (by `started`): `written` the files that differ from the
        run's start, `undoable` whether `codegen.undo` can return to it, `asked` the whole prompt or comment,
        `path`/`lines` a feedback run's place.

        Only runs codegen wrote for this user are listed: a run folder that came with a cloned
        repository (a far-future id, say) never reaches a picker.
        """
        args = command_object(RUNS, arguments)
        root = ls.workspace_root(get_str(RUNS, args, "root"))
        kinds = get_str_list(RUNS, args, "kinds") or None
        runs = await asyncio.to_thread(RunStore(root).list_runs, kinds)
        return {"runs": to_json(runs)}
