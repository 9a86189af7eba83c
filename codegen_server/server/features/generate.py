"""codegen.clarify and codegen.generateProject."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from ...edits.paths import read_workspace_text
from ...edits.types import EditLimits
from ...workflows import clarify, generate
from ...workflows import prompt_file as prompt_files
from ...workflows.fix_options import FixOptions
from ..app import CodegenServer
from ..arguments import command_object, get_bool, get_str, get_str_list
from ..client_applier import APPLY_MODES, choose_applier
from ..progress import LspProgress
from .fix import ask_user

CLARIFY = "codegen.clarify"
GENERATE = "codegen.generateProject"
ANSWER_IN_FILE = "Answer them in the file"
SKIP = "Skip: generate now"


async def skip_questions(ls: CodegenServer, path: str, questions: list[str]) -> bool:
    """Ask (`window/showMessageRequest`) whether to answer the model's questions in the prompt file or let
    the model decide them; a client that cannot ask gets them in the file."""
    window = ls.client_capabilities.window
    if not (window and window.show_message):
        return False
    listed = "\n".join(f"- {q}" for q in questions)
    answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
        type=types.MessageType.Info, message=f"The model asks, before generating from {path}:\n{listed}",
        actions=[types.MessageActionItem(title=ANSWER_IN_FILE), types.MessageActionItem(title=SKIP)]))
    return answer is not None and answer.title == SKIP


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
        """`{prompt? | runId? | promptFile?, root?, apply?, allowConfigEdits?, fix?}` → `{runId, files, diff, applied, apply, reason,
        failures, usage, sensitive, tests, fix}`: once applied, the tests run; with `fix: true` failing ones go on
        into the fix loop (the workspace's fix settings; installs and commands are asked about). `promptFile` (a
        document URI): its `codegen:` markers are the prompt, and clarifying questions are written into it as
        markers to answer → `{runId, questions, applied, reason, summary, generated}`."""
        args = command_object(GENERATE, arguments)
        root = ls.workspace_root(get_str(GENERATE, args, "root"))
        run_id = get_str(GENERATE, args, "runId")
        prompt_file = get_str(GENERATE, args, "promptFile")
        prompt = get_str(GENERATE, args, "prompt", required=run_id is None and prompt_file is None)
        applier = choose_applier(ls, root, get_str(GENERATE, args, "apply", choices=APPLY_MODES),
                                 allow_config_edits=get_bool(GENERATE, args, "allowConfigEdits", False))
        defaults = ls.settings.fix
        fix_options = FixOptions(max_iterations=defaults.max_iterations, test_command=defaults.test_command,
                                 allow_test_edits=defaults.allow_test_edits) \
            if get_bool(GENERATE, args, "fix", False) else None

        path = ls.relative_path(prompt_file, root) if prompt_file is not None else None
        if prompt_file is not None and path is None:
            raise JsonRpcInvalidParams(f"{GENERATE}: {prompt_file} is not a file inside the workspace {root}")

        async def work(progress: LspProgress) -> object:
            host = ls.host(root, progress)
            host.consent = lambda action: ask_user(ls, f"codegen wants to {action} in {root.name}. Allow it?")
            if path is not None:
                text = host.open_buffers().get(path)
                if text is None:
                    text = await asyncio.to_thread(read_workspace_text, root, path, EditLimits()) or ""
                return await prompt_files.generate_from_prompt_file(
                    host, applier, path=path, text=text, test_command=defaults.test_command,
                    skip_questions=lambda questions: skip_questions(ls, path, questions))
            return await generate.generate(host, applier, prompt=prompt, run_id=run_id,
                                           test_command=defaults.test_command, fix=fix_options)

        return await ls.run_command("codegen: generate project", work, writer=root)
