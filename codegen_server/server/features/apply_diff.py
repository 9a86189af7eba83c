"""codegen.applyDiff: apply a diff a tool already holds, through the same engine and preview."""

from __future__ import annotations

from typing import Any

from ...workflows.apply_run import apply_run
from ..app import CodegenServer
from ..arguments import command_object, get_bool, get_str
from ..client_applier import APPLY_MODES, choose_applier
from ..progress import LspProgress

APPLY_DIFF = "codegen.applyDiff"


def register(server: CodegenServer) -> None:
    @server.command(APPLY_DIFF)
    async def apply_diff_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{diff, root?, apply?, salvage?, allowConfigEdits?}` → `{runId, files, applied, failures, diff, sensitive}`:
        a run of kind `apply` that `codegen.undo` reverses."""
        args = command_object(APPLY_DIFF, arguments)
        root = ls.workspace_root(get_str(APPLY_DIFF, args, "root"))
        diff = get_str(APPLY_DIFF, args, "diff", required=True) or ""
        salvage = get_bool(APPLY_DIFF, args, "salvage", False)
        applier = choose_applier(ls, root, get_str(APPLY_DIFF, args, "apply", choices=APPLY_MODES),
                                 allow_config_edits=get_bool(APPLY_DIFF, args, "allowConfigEdits", False))

        async def work(progress: LspProgress) -> dict:
            return await apply_run(ls.host(root, progress), diff, salvage=salvage, applier=applier)

        return await ls.run_command("codegen: apply diff", work, writer=root)
