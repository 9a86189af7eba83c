"""codegen.clarify and codegen.generateProject."""

from __future__ import annotations

from typing import Any

from ...workflows import clarify, generate
from ...workflows.fix_options import FixOptions
from ..app import CodegenServer
from ..arguments import command_object, get_bool, get_str, get_str_list
from ..client_applier import APPLY_MODES, choose_applier
from ..progress import LspProgress
from .fix import ask_user

CLARIFY = "codegen.clarify"
GENERATE = "codegen.generateProject"


def register(server: CodegenServer) -> None:
    @server.command(CLARIFY)
    async def clarify_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{prompt, root?}` starts; `{runId, answers, root?}` continues → `{runId, questions, done, ...}`."""
        args = command_object(CLARIFY, arguments)
        root = ls.workspace_root(get_str(CLARIFY, args, "root"))
        run_id = get_str(CLARIFY, args, "runId")
        answers = get_str_list(CLARIFY, args, "answers")
        prompt = get_str(CLARIFY, args, "prompt", required=run_id is None)

        async def work(progress: LspProgress) -> dict:
            host = ls.host(root, progress)
            if run_id:
                return await clarify.answer(host, run_id, answers)
            return await clarify.start(host, prompt or "")

        return await ls.run_command("codegen: clarify", work)

    @server.command(GENERATE)
    async def generate_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{prompt? | runId?, root?, apply?, allowConfigEdits?, fix?}` → `{runId, files, diff, applied, apply, reason,
        failures, usage, sensitive, tests, fix}`: once applied, the tests run; with `fix: true` failing ones go on
        into the fix loop (the workspace's fix settings; installs and commands are asked about)."""
        args = command_object(GENERATE, arguments)
        root = ls.workspace_root(get_str(GENERATE, args, "root"))
        run_id = get_str(GENERATE, args, "runId")
        prompt = get_str(GENERATE, args, "prompt", required=run_id is None)
        applier = choose_applier(ls, root, get_str(GENERATE, args, "apply", choices=APPLY_MODES),
                                 allow_config_edits=get_bool(GENERATE, args, "allowConfigEdits", False))
        defaults = ls.settings.fix
        fix_options = FixOptions(max_iterations=defaults.max_iterations, test_command=defaults.test_command,
                                 allow_test_edits=defaults.allow_test_edits) \
            if get_bool(GENERATE, args, "fix", False) else None

        async def work(progress: LspProgress) -> dict:
            host = ls.host(root, progress)
            host.consent = lambda action: ask_user(ls, f"codegen wants to {action} in {root.name}. Allow it?")
            return await generate.generate(host, applier, prompt=prompt, run_id=run_id,
                                           test_command=defaults.test_command, fix=fix_options)

        return await ls.run_command("codegen: generate project", work)
