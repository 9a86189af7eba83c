"""codegen.context, and the document sync that keeps the context index current while typing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import to_fs_path

from ...workflows.context import DEFAULT_BUDGET, gather_context
from ..app import CodegenServer, CommandFailed
from ..arguments import command_object, get_int, get_line_range, get_str, get_str_list
from . import marker_diagnostics

CONTEXT = "codegen.context"


def _workspace_path(ls: CodegenServer, uri: str) -> tuple[Path, str] | None:
    """(root, path inside it) for a document under the editor's workspace, else None."""
    if not ls.workspace.root_path:
        return None
    root = Path(ls.workspace.root_path).resolve()
    rel = ls.relative_path(uri, root)
    return None if rel is None else (root, rel)


def register(server: CodegenServer) -> None:
    @server.command(CONTEXT)
    async def context_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{task?, uri?, range?, budget?, testOutput?, root?}` → `{text, tokens, files, timings, ...}`."""
        args = dict(command_object(CONTEXT, arguments))
        root = ls.workspace_root(get_str(CONTEXT, args, "root"))
        uri = get_str(CONTEXT, args, "uri")
        path = to_fs_path(uri) if uri else None
        line_range = get_line_range(CONTEXT, args)
        if line_range and not path:
            raise JsonRpcInvalidParams(f"{CONTEXT}: `range` needs `uri`")
        open_files = list(ls.open_buffers(root))
        try:
            result = await asyncio.to_thread(
                gather_context, root,
                task=get_str(CONTEXT, args, "task") or "",
                path=path, line_range=line_range,
                test_output=get_str(CONTEXT, args, "testOutput"),
                open_files=open_files + get_str_list(CONTEXT, args, "openFiles"),
                budget=get_int(CONTEXT, args, "budget", DEFAULT_BUDGET),
            )
        except (ValueError, OSError) as error:  # a range past the end, a file that cannot be read
            raise CommandFailed(str(error)) from None
        return result.to_dict()

    # pygls updates its own copy of each document first; we then hand the full text to the
    # index, which re-parses only that file, incrementally from its previous tree.
    def sync(ls: CodegenServer, uri: str) -> None:
        from ...context import engine_for  # loads tree-sitter, numpy and the tokenizer: not at start-up

        located = _workspace_path(ls, uri)
        if located is not None:
            root, rel = located
            engine_for(root).update_document(rel, ls.workspace.get_text_document(uri).source)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls: CodegenServer, params: types.DidOpenTextDocumentParams) -> None:
        sync(ls, params.text_document.uri)
        marker_diagnostics.document_changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: CodegenServer, params: types.DidChangeTextDocumentParams) -> None:
        sync(ls, params.text_document.uri)
        marker_diagnostics.document_changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: CodegenServer, params: types.DidCloseTextDocumentParams) -> None:
        from ...context import engine_for

        marker_diagnostics.document_closed(ls, params.text_document.uri)
        located = _workspace_path(ls, params.text_document.uri)
        if located is not None:
            engine_for(located[0]).close_document(located[1])
