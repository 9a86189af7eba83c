"""This platform's native watcher of a workspace: inotify on Linux, watchfiles elsewhere.

Its own module so that the watchers, which report into ``watch.ChangeTracker``, and the choice
between them do not import each other.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Protocol

from .watch import ChangeTracker


class NativeWatcher(Protocol):
    """A watcher of one workspace that reports into a ChangeTracker while it runs."""

    def start(self) -> bool:
        """Start watching; True once changes from now on are reported, False if it fell back."""

    def stop(self) -> None:
        """Stop watching; the tracker's next ``take()`` walks the tree again."""


def native_watcher(root: Path, tracker: ChangeTracker) -> NativeWatcher:
    """This platform's native watcher of ``root`` (not started)."""
    if sys.platform.startswith("linux"):
        from .inotify_watch import InotifyWatcher

        return InotifyWatcher(root, tracker)
    from .watchfiles_watch import WatchfilesWatcher

    return WatchfilesWatcher(root, tracker)
