"""The model wire: an OpenAI-compatible chat client with streaming, retries and usage accounting.

The names below load on first use (PEP 562), so reading the settings (``codegen --help``) or a
message type does not load the client and asyncio; the client loads ``openai`` only when a
model is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .client import ChatModel
    from .errors import ModelError, TruncatedAnswer
    from .settings import ModelSettings
    from .types import Completion, Continuation, Message, RetryCallback, TokenCallback, Usage

_HOMES = {
    "ChatModel": "client", "ModelError": "errors", "TruncatedAnswer": "errors", "ModelSettings": "settings",
    "Completion": "types", "Continuation": "types", "Message": "types", "RetryCallback": "types",
    "TokenCallback": "types", "Usage": "types",
}

__all__ = ["ChatModel", "Completion", "Continuation", "Message", "ModelError", "ModelSettings", "RetryCallback",
           "TokenCallback", "TruncatedAnswer", "Usage"]


__getattr__ = lazy_exports(__name__, _HOMES)
