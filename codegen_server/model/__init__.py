"""The model wire: an OpenAI-compatible chat client with streaming, retries and usage accounting."""

from .client import ChatModel, Completion, Message, TokenCallback
from .errors import ModelError
from .settings import ModelSettings

__all__ = ["ChatModel", "Completion", "Message", "ModelError", "ModelSettings", "TokenCallback"]
