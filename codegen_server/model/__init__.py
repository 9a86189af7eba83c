"""The model wire: an OpenAI-compatible chat client with streaming, retries and usage accounting.

The names below load on first use (PEP 562), so reading the settings (``codegen --help``) or a
message type does not load the client and asyncio; the client loads ``openai`` only when a
model is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import ChatModel
    from .errors import ModelError, TruncatedAnswer
    from .settings import ModelSettings
    from .types import Completion, Continuation, Message, TokenCallback, Usage

_HOMES = {
    "ChatModel": "client", "ModelError": "errors", "TruncatedAnswer": "errors", "ModelSettings": "settings",
    "Completion": "types", "Continuation": "types", "Message": "types", "TokenCallback": "types", "Usage": "types",
}

__all__ = ["ChatModel", "Completion", "Continuation", "Message", "ModelError", "ModelSettings", "TokenCallback",
           "TruncatedAnswer", "Usage"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
