"""Errors the model wire raises: each message says what to fix, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .types import Completion


class ModelError(Exception):
    """A model call failed in a way the user can act on.

    ``kind`` is one of: not-configured, bad-setting, auth, not-found, unreachable, rate-limited,
    server-error, timeout, bad-request, stream-dropped, truncated.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class TruncatedAnswer(ModelError):
    """The answer was still cut off at the output limit after the allowed continuations.

    Nothing of it may be applied: a cut file or diff hunk would be written as if whole.
    ``completion`` holds the partial answer, for the run's record.
    """

    def __init__(self, message: str, completion: "Completion") -> None:
        super().__init__("truncated", message)
        self.completion = completion
