"""Errors the model wire raises: each message says what to fix, never a traceback."""

from __future__ import annotations


class ModelError(Exception):
    """A model call failed in a way the user can act on.

    ``kind`` is one of: not-configured, auth, not-found, unreachable, rate-limited,
    server-error, timeout, bad-request, stream-dropped.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
