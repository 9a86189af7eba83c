"""One warning per piece of workspace state codegen refused to trust or read.

Engines call ``ignored``; it logs once per file (per process) on the ``codegen.trust`` logger.
Whoever faces the user shows those records: the daemon as `window/showMessage`, the CLI on stderr.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

LOGGER_NAME = "codegen.trust"
log = logging.getLogger(LOGGER_NAME)
_seen: set[tuple[str, str]] = set()
_lock = threading.Lock()


def ignored(path: Path | str, why: str, remedy: str) -> None:
    """Say once that ``path`` was ignored because ``why``, and what the user can do (``remedy``)."""
    key = (str(path), why)
    with _lock:
        if key in _seen:
            return
        _seen.add(key)
    log.warning("ignored %s: %s. %s", path, why, remedy)
