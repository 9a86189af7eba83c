"""Warnings about workspace state codegen ignored (``trust.notices``) shown to the user.

Engines log them on the `codegen.trust` logger, from the event loop or from worker threads
(files are read in ``asyncio.to_thread``); each becomes a `window/showMessage` warning, sent
from the event loop, besides its line in the daemon's log.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from lsprotocol import types

from ..redaction import redact
from ..trust.notices import LOGGER_NAME

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer


class ShowTrustNotices(logging.Handler):
    """Each record becomes a `window/showMessage` warning, whatever thread logged it."""

    def __init__(self, server: LanguageServer, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.WARNING)
        self.server = server
        self.loop = loop

    def emit(self, record: logging.LogRecord) -> None:
        message = redact(f"codegen: {record.getMessage()}")
        try:
            self.loop.call_soon_threadsafe(self._show, message)
        except RuntimeError:  # the loop is closed: the daemon is ending, the log has the line
            pass

    def _show(self, message: str) -> None:
        if self.server.protocol.writer is None:  # no client yet (TCP): the log has it
            return
        self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))


@contextmanager
def trust_notices_shown(server: LanguageServer) -> Iterator[None]:
    """While serving (call it on the event loop): `codegen.trust` records reach the client."""
    logger = logging.getLogger(LOGGER_NAME)
    handler = ShowTrustNotices(server, asyncio.get_running_loop())
    logger.addHandler(handler)
    # Shown to the user even when the log shows only errors (--log-level ERROR).
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
