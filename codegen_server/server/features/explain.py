"""codegen.explain: the model explains the selected code; nothing is edited."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from ...workflows import explain
from ..app import CodegenServer
from ..arguments import command_object, get_line_range, get_str
from ..progress import LspProgress

EXPLAIN = "codegen.explain"


def register(server: CodegenServer) -> None:
    @server.command(EXPLAIN)
    async def explain_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{uri, range, question?, root?}` → `{runId, explanation}`: the model's explanation (Markdown) of the
        range's code, with what it uses and what calls it; also in the run's transcript (codegen.transcript)."""
        args = command_object(EXPLAIN, arguments)
        root = ls.workspace_root(get_str(EXPLAIN, args, "root"))
        uri = get_str(EXPLAIN, args, "uri", required=True) or ""
        path = ls.relative_path(uri, root)
        if path is None:
            raise JsonRpcInvalidParams(f"{EXPLAIN}: {uri} is not a file inside the workspace {root}")
        line_range = get_line_range(EXPLAIN, args, required=True)
        question = get_str(EXPLAIN, args, "question") or ""

        async def work(progress: LspProgress) -> explain.ExplainResult:
            return await explain.explain(ls.host(root, progress), path=path, line_range=line_range, question=question)

        return await ls.run_command("codegen: explain", work)
