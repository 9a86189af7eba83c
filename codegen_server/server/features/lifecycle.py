"""Settings from initialize and didChangeConfiguration; crash recovery once the session starts."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from ...edits import recover
from ..app import CodegenServer
from . import watch

log = logging.getLogger(__name__)


def register(server: CodegenServer) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: CodegenServer, params: types.InitializeParams) -> None:
        ls.apply_options(params.initialization_options)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_configuration(ls: CodegenServer, params: types.DidChangeConfigurationParams) -> None:
        ls.apply_options(params.settings)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: CodegenServer, params: types.InitializedParams) -> None:
        # A multi-file apply killed half-way is finished or rolled back before any command reads the files.
        folders = [to_fs_path(f.uri) for f in ls.workspace.folders.values()] or [ls.workspace.root_path]
        for folder in folders:
            if folder and Path(folder).is_dir():
                try:
                    if await asyncio.to_thread(recover, Path(folder)):
                        log.warning("recovered an interrupted apply in %s", folder)
                except OSError as error:
                    log.error("could not recover an interrupted apply in %s: %s", folder, error)
        await watch.start_watching(ls)  # file changes reach the context index from now on
