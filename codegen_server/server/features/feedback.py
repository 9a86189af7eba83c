"""Review feedback: codegen.applyFeedback, codegen.collectFeedback and codegen.memory."""

from __future__ import annotations

import asyncio
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from ...store import memory
from ...workflows import feedback
from ...workflows.host import SilentProgress
from ..app import CodegenServer
from ..arguments import command_object, get_bool, get_int, get_line_range, get_str
from ..client_applier import APPLY_MODES, choose_applier
from ..progress import LspProgress
from . import marker_diagnostics

APPLY_FEEDBACK = "codegen.applyFeedback"
COLLECT_FEEDBACK = "codegen.collectFeedback"
MEMORY = "codegen.memory"


def register(server: CodegenServer) -> None:
    @server.command(APPLY_FEEDBACK)
    async def apply_feedback_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{uri, range, comment, runId?, remember?, verify?, root?, apply?, allowConfigEdits?}` or `{markers: true,
        uri? (that file's markers only), verify?, root?, apply?, allowConfigEdits?}` → `{runId, explanation, question, changed, files, diff, applied,
        tests, markers, sensitive, ...}`."""
        args = command_object(APPLY_FEEDBACK, arguments)
        root = ls.workspace_root(get_str(APPLY_FEEDBACK, args, "root"))
        applier = choose_applier(ls, root, get_str(APPLY_FEEDBACK, args, "apply", choices=APPLY_MODES),
                                 allow_config_edits=get_bool(APPLY_FEEDBACK, args, "allowConfigEdits", False))
        verify = get_bool(APPLY_FEEDBACK, args, "verify", False)
        test_command = ls.settings.fix.test_command

        if get_bool(APPLY_FEEDBACK, args, "markers", False):
            marked_uri = get_str(APPLY_FEEDBACK, args, "uri")
            marked = ls.relative_path(marked_uri, root) if marked_uri else None
            if marked_uri and marked is None:
                raise JsonRpcInvalidParams(f"{APPLY_FEEDBACK}: {marked_uri} is not a file inside the workspace {root}")

            async def markers_work(progress: LspProgress) -> feedback.FeedbackResult:
                result = await feedback.apply_marker_feedback(ls.host(root, progress), applier, path=marked,
                                                              verify=verify, test_command=test_command)
                if result.markers is not None:  # the editor's diagnostics say which are left, and why
                    marker_diagnostics.markers_left(ls, root, result.markers["remaining"], path=marked)
                return result

            return await ls.run_command("codegen: apply marker comments", markers_work, writer=root)

        uri = get_str(APPLY_FEEDBACK, args, "uri", required=True) or ""
        comment = get_str(APPLY_FEEDBACK, args, "comment", required=True) or ""
        path = ls.relative_path(uri, root)
        if path is None:
            raise JsonRpcInvalidParams(f"{APPLY_FEEDBACK}: {uri} is not a file inside the workspace {root}")
        line_range = get_line_range(APPLY_FEEDBACK, args, required=True)
        reply_to = get_str(APPLY_FEEDBACK, args, "runId")
        remember = get_bool(APPLY_FEEDBACK, args, "remember", False)

        async def work(progress: LspProgress) -> feedback.FeedbackResult:
            return await feedback.apply_feedback(ls.host(root, progress), applier, path=path, line_range=line_range,
                                                 comment=comment, reply_to=reply_to, remember=remember,
                                                 verify=verify, test_command=test_command)

        return await ls.run_command("codegen: apply feedback", work, writer=root)

    @server.command(COLLECT_FEEDBACK)
    async def collect_feedback_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{root?}` → `{markers: [{path, uri, line, range, text, scope}]}`: the `codegen:` marker comments."""
        args = command_object(COLLECT_FEEDBACK, arguments)
        root = ls.workspace_root(get_str(COLLECT_FEEDBACK, args, "root"))
        markers = await feedback.collect_feedback(ls.host(root, SilentProgress()))
        return {"markers": markers}

    @server.command(MEMORY)
    async def memory_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{root?, add?, forget?}` → `{path, entries}`: the preferences every prompt in the workspace includes."""
        args = command_object(MEMORY, arguments)
        root = ls.workspace_root(get_str(MEMORY, args, "root"))
        add = get_str(MEMORY, args, "add")
        forget = get_int(MEMORY, args, "forget", 0, minimum=0) if "forget" in args else None
        try:
            if add is not None:
                entries = await asyncio.to_thread(memory.remember, root, add)
            elif forget is not None:
                entries = await asyncio.to_thread(memory.forget, root, forget)
            else:
                entries = await asyncio.to_thread(memory.read_entries, root)
        except (ValueError, IndexError) as error:
            raise JsonRpcInvalidParams(f"{MEMORY}: {error}") from None
        return {"path": str(memory.memory_path(root)), "entries": entries}
