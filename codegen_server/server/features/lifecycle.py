"""Settings from initialize and didChangeConfiguration."""

from __future__ import annotations

from lsprotocol import types

from ..app import CodegenServer


def register(server: CodegenServer) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: CodegenServer, params: types.InitializeParams) -> None:
        ls.apply_options(params.initialization_options)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_configuration(ls: CodegenServer, params: types.DidChangeConfigurationParams) -> None:
        ls.apply_options(params.settings)
