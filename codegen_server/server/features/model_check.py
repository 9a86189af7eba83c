"""codegen.testModel: one short request to the configured model, for an editor's connection test."""

from __future__ import annotations

from typing import Any

from ...workflows.model_check import check_model
from ..app import CodegenServer
from ..arguments import command_object, get_str
from ..progress import LspProgress

TEST_MODEL = "codegen.testModel"


def register(server: CodegenServer) -> None:
    @server.command(TEST_MODEL)
    async def test_model_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{root?}` → `{model, endpoint, answer, seconds}`: the configured model answered a one-line request.
        A model that does not answer fails as any model call does (error `data.kind`: not-configured, auth,
        not-found, unreachable, timeout, ...). No run is recorded."""
        args = command_object(TEST_MODEL, arguments)
        root = ls.workspace_root(get_str(TEST_MODEL, args, "root"))

        async def work(progress: LspProgress):
            return await check_model(ls.host(root, progress))

        return await ls.run_command("codegen: testing the model", work)
