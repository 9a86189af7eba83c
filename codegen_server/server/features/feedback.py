"""codegen.applyFeedback: a review comment on a range becomes a previewed change."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from ...workflows import feedback
from ..app import CodegenServer
from ..arguments import command_object, get_line_range, get_str
from ..client_applier import APPLY_MODES, choose_applier
from ..progress import LspProgress

APPLY_FEEDBACK = "codegen.applyFeedback"


def register(server: CodegenServer) -> None:
    @server.command(APPLY_FEEDBACK)
    async def apply_feedback_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{uri, range, comment, root?, apply?}` → `{runId, explanation, files, diff, applied, ...}`."""
        args = command_object(APPLY_FEEDBACK, arguments)
        root = ls.workspace_root(get_str(APPLY_FEEDBACK, args, "root"))
        uri = get_str(APPLY_FEEDBACK, args, "uri", required=True) or ""
        comment = get_str(APPLY_FEEDBACK, args, "comment", required=True) or ""
        path = ls.relative_path(uri, root)
        if path is None:
            raise JsonRpcInvalidParams(f"{APPLY_FEEDBACK}: {uri} is not inside the workspace {root}")
        line_range = get_line_range(APPLY_FEEDBACK, args, required=True)
        applier = choose_applier(ls, root, get_str(APPLY_FEEDBACK, args, "apply", choices=APPLY_MODES))

        async def work(progress: LspProgress) -> feedback.FeedbackResult:
            return await feedback.apply_feedback(ls.host(root, progress), applier, path=path,
                                                 line_range=line_range, comment=comment)

        return await ls.run_command("codegen: apply feedback", work)

