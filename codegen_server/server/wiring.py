"""The daemon assembled: the server class (``app``) with every feature (``features``) registered.

``app`` knows no feature, and each feature knows only ``app``'s server class: they meet here, so the
protocol layer has no import circle. Run as a module, this writes ``capabilities.json``, the answer
``early_initialize`` gives before the server is loaded.
"""

from __future__ import annotations

import json
from typing import Any

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder

from .app import CodegenServer
from .early_initialize import CAPABILITIES_FILE, DEFAULT_ENCODING
from .features import register_all


def create_server() -> CodegenServer:
    """A server with every feature registered."""
    server = CodegenServer()
    register_all(server)
    return server


def registered_capabilities() -> dict[str, Any]:
    """The capabilities pygls builds from the registered features, for a client that declares will-save.

    Slow (it loads the server): for writing ``capabilities.json``, not for start-up.
    """
    server = create_server()
    features = server.protocol.fm
    capabilities = ServerCapabilitiesBuilder(
        types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(will_save=True, will_save_wait_until=True))),
        set({**features.features, **features.builtin_features}), features.feature_options,
        list(features.commands), server._text_document_sync_kind, server._notebook_document_sync,
        DEFAULT_ENCODING,
    ).build()
    unstructured = server.protocol._converter.unstructure(capabilities)
    unstructured.pop("positionEncoding", None)  # chosen per client at start-up
    return unstructured


if __name__ == "__main__":
    CAPABILITIES_FILE.write_text(json.dumps(registered_capabilities(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {CAPABILITIES_FILE}")
