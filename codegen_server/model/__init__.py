"""The model wire: an OpenAI-compatible chat client with streaming, retries and usage accounting."""

from .client import ChatModel
from .errors import ModelError, TruncatedAnswer
from .settings import ModelSettings
from .types import Completion, Continuation, Message, TokenCallback, Usage

__all__ = ["ChatModel", "Completion", "Continuation", "Message", "ModelError", "ModelSettings", "TokenCallback",
           "TruncatedAnswer", "Usage"]
