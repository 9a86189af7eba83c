"""Errors the model wire raises: each message says what to fix, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .types import Completion


class ModelError(Exception):
    """A model call failed in a way the user can act on.

    ``kind`` is one of: not-configured, bad-setting, auth, not-found, unreachable, rate-limited,
    server-error, timeout, bad-request, stream-dropped, truncated, answer-too-large, call-too-long.
    ``setting`` (like "model.apiKey") and ``env`` (like "OPENAI_API_KEY") name what fixes it, if one
    setting does: each client words its own advice from them (the JSON-RPC error's `data`).
    """

    def __init__(self, kind: str, message: str, *, setting: str | None = None, env: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.setting = setting
        self.env = env


class TruncatedAnswer(ModelError):
    """The answer was still cut off at the output limit after the allowed continuations.

    Nothing of it may be applied: a cut file or diff hunk would be written as if whole.
    ``completion`` holds the partial answer, for the run's record.
    """

    def __init__(self, message: str, completion: "Completion") -> None:
        super().__init__("truncated", message, setting="model.maxTokens", env="CODEGEN_MODEL_MAX_TOKENS")
        self.completion = completion
