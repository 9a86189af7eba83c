"""codegen.fixTests and codegen.undo."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from ...workflows import fix, undo
from ...workflows.host import DiskApplier
from ..app import CodegenServer
from ..arguments import command_object, get_bool, get_int, get_str
from ..client_applier import APPLY_MODES, choose_applier
from ..progress import LspProgress

FIX = "codegen.fixTests"
UNDO = "codegen.undo"


def register(server: CodegenServer) -> None:
    @server.command(FIX)
    async def fix_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{root?, maxIterations?, testCommand?, autoAccept?, apply?, allowTestEdits?, allowInstall?,
        allowCommands?, allowConfigEdits?, tokenBudget?, testTimeout?, localize?}` → `{runId, green, stopped, iterations,
        summary, ...}`."""
        args = command_object(FIX, arguments)
        root = ls.workspace_root(get_str(FIX, args, "root"))
        defaults = ls.settings.fix
        options = fix.FixOptions(
            max_iterations=get_int(FIX, args, "maxIterations", defaults.max_iterations, minimum=1),
            token_budget=get_int(FIX, args, "tokenBudget", fix.FixOptions.token_budget, minimum=1),
            test_command=get_str(FIX, args, "testCommand") or defaults.test_command,
            test_timeout=float(get_int(FIX, args, "testTimeout", int(fix.FixOptions.test_timeout), minimum=1)),
            allow_test_edits=get_bool(FIX, args, "allowTestEdits", defaults.allow_test_edits),
            localize=get_bool(FIX, args, "localize", True),
        )
        auto_accept = get_bool(FIX, args, "autoAccept", defaults.auto_accept)
        apply_mode = get_str(FIX, args, "apply", choices=APPLY_MODES)
        allow_config_edits = get_bool(FIX, args, "allowConfigEdits", False)
        applier = DiskApplier(root, allow_config_edits=allow_config_edits) if auto_accept else \
            choose_applier(ls, root, apply_mode, allow_config_edits=allow_config_edits)
        allow_install = get_bool(FIX, args, "allowInstall", False)
        allow_commands = get_bool(FIX, args, "allowCommands", False)

        async def consent(action: str) -> bool:
            if (allow_install and action.startswith("install ")) or (allow_commands and action.startswith("run ")):
                return True
            return await ask_user(ls, f"codegen wants to {action} in {root.name}. Allow it?")

        async def work(progress: LspProgress) -> dict:
            host = ls.host(root, progress)
            host.consent = consent
            return await fix.fix(host, applier, options)

        return await ls.run_command("codegen: fix until tests pass", work, writer=root)

    @server.command(UNDO)
    async def undo_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{runId?, checkpoint?, root?}` → `{runId, restoredTo, written, removed}`; the default checkpoint is the
        start, the default run the latest (by start time) that left files changed."""
        args = command_object(UNDO, arguments)
        root = ls.workspace_root(get_str(UNDO, args, "root"))
        run_id = get_str(UNDO, args, "runId")
        checkpoint = get_str(UNDO, args, "checkpoint") or "start"

        async def work(progress: LspProgress) -> dict:
            return await undo.undo(ls.host(root, progress), run_id, checkpoint)

        return await ls.run_command("codegen: undo", work, writer=root)


async def ask_user(ls: CodegenServer, question: str) -> bool:
    """`window/showMessageRequest` with Allow/Deny; a client that cannot ask never allows."""
    window = ls.client_capabilities.window
    if not (window and window.show_message):
        return False
    answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
        type=types.MessageType.Warning, message=question,
        actions=[types.MessageActionItem(title="Allow"), types.MessageActionItem(title="Deny")]))
    return answer is not None and answer.title == "Allow"
