"""The native watcher where inotify is not at hand (macOS, Windows): ``watchfiles`` in a thread.

FSEvents and ReadDirectoryChangesW watch a whole tree through one handle, without following the
symlinks in it, so no watch count needs capping there (on Linux, ``inotify_watch`` is used: notify's
inotify backend follows symlinks out of the root). Events reach us a debounce after they happen;
so that a request right after a write sees it, ``catch_up()`` creates a barrier file and waits for
its event: the operating system reports a folder's events in order, so every change made before
the barrier has been reported too.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from pathlib import Path

from ..trust.files import RefusedPath, state_dir
from .walk import SKIPPED_DIRS
from .watch import ChangeTracker

log = logging.getLogger(__name__)

#: Milliseconds the watcher groups events for: short, so the next request sees a save.
DEBOUNCE_MS = 20
#: Where the barrier files come and go (a folder the index never reads), under .codegen.
BARRIER_DIR = "watch"
#: Seconds a refresh waits for the watcher to catch up before it walks the tree instead.
BARRIER_TIMEOUT = 1.0
_BARRIER_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class WatchfilesWatcher:
    """Watches a workspace with ``watchfiles`` in a daemon thread; see the module's docstring."""

    def __init__(self, root: Path, tracker: ChangeTracker) -> None:
        self.root = root
        self.tracker = tracker
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch {root}", daemon=True)
        self._arrived: set[str] = set()
        self._arrival = threading.Condition()
        self._prefix = f".codegen/{BARRIER_DIR}/barrier-"

    def start(self, timeout: float = 10.0) -> bool:
        """Start watching; True once the watcher is listening (events from then on are reported)."""
        self._thread.start()
        return self._ready.wait(timeout) and self.tracker.watching

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def catch_up(self, timeout: float = BARRIER_TIMEOUT) -> bool:
        """Block until every change made before this call has been reported; False if unsure."""
        # A fresh random name, created exclusively and never through a symlink: a cloned
        # repository's planted .codegen/watch/* cannot turn the barrier into a write elsewhere.
        name = f"barrier-{os.getpid()}-{secrets.token_hex(8)}"
        try:
            barrier = state_dir(self.root, BARRIER_DIR, create=True) / name
            os.close(os.open(barrier, _BARRIER_FLAGS, 0o600))
        except (OSError, RefusedPath):
            return False  # a read-only workspace, or a planted .codegen link: the caller walks the tree
        try:
            with self._arrival:
                arrived = self._arrival.wait_for(lambda: name in self._arrived, timeout)
                self._arrived.discard(name)
            return arrived
        finally:
            barrier.unlink(missing_ok=True)

    def _relevant(self, path: str, created: bool) -> str | None:
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return None
        if rel.startswith(self._prefix):
            if not created:
                return None  # its removal, or a touch
            with self._arrival:
                self._arrived.add(rel.rsplit("/", 1)[1])
                self._arrival.notify_all()
            return None
        if any(part in SKIPPED_DIRS for part in rel.split("/")):
            return None
        return rel

    def _run(self) -> None:
        try:
            from watchfiles import Change, watch
        except ImportError:  # an install without it: the tree is walked on each request, as before
            log.warning("watchfiles is not installed; the context index re-walks %s on each request", self.root)
            self._ready.set()
            return
        self.tracker.attach(self.catch_up)
        try:
            # yield_on_timeout lets the first (empty) batch tell us the watcher is listening.
            for changes in watch(self.root, stop_event=self._stop, debounce=DEBOUNCE_MS, step=10,
                                 rust_timeout=200, yield_on_timeout=True, raise_interrupt=False,
                                 ignore_permission_denied=True):
                self._ready.set()
                paths = [rel for change, path in changes
                         if (rel := self._relevant(path, change == Change.added)) is not None]
                if paths:
                    self.tracker.mark(paths)
        except Exception as error:  # a watcher that dies leaves the walk as the fallback, never a stale index
            log.warning("the file watcher on %s stopped: %s", self.root, error)
        finally:
            self._ready.set()
            self.tracker.detach(self.catch_up)
