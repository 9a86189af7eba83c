"""Which files changed on disk since the last refresh: told by the editor or by a native watcher.

A workspace is stat-walked once, for the first index. After that, while something watches it
(the editor's `workspace/didChangeWatchedFiles`, or `watchfiles` when the editor offers none),
a refresh re-reads only the paths reported changed instead of walking the tree again.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from pathlib import Path
from typing import Callable

from .languages import language_for_path
from .walk import MAX_FILE_BYTES, MINIFIED_SUFFIXES, SKIPPED_DIRS, SourceFile, _ignored, _load_ignore

log = logging.getLogger(__name__)

#: Milliseconds the native watcher groups events for: short, so the next request sees a save.
NATIVE_DEBOUNCE_MS = 20
#: Where the native watcher's barrier files come and go (a folder the index never reads).
BARRIER_DIR = ".codegen/watch"
#: Seconds a refresh waits for the native watcher to catch up before it walks the tree instead.
BARRIER_TIMEOUT = 1.0


class ChangeTracker:
    """Paths reported changed since the last ``take()``; thread-safe.

    Until a watcher is attached (``watching``), or after it lost events, ``take()`` answers
    None: the caller walks the whole tree, as without a watcher.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()
        self._watchers = 0
        self._lost = False
        #: Blocks until the watcher has reported everything that happened before the call (False
        #: when it could not tell); set by a watcher whose events arrive late (the native one).
        self._catch_up: Callable[[], bool] | None = None

    @property
    def watching(self) -> bool:
        with self._lock:
            return self._watchers > 0

    def attach(self, catch_up: Callable[[], bool] | None = None) -> None:
        """A watcher starts reporting; what happened before it is covered by the next full walk.

        ``catch_up`` is for a watcher that reports changes some milliseconds after they happen:
        ``take()`` calls it first, so a change made just before a request is part of its answer.
        """
        with self._lock:
            self._watchers += 1
            self._lost = True
            if catch_up is not None:
                self._catch_up = catch_up

    def detach(self, catch_up: Callable[[], bool] | None = None) -> None:
        with self._lock:
            self._watchers = max(0, self._watchers - 1)
            if catch_up is not None and self._catch_up == catch_up:
                self._catch_up = None

    def mark(self, paths: list[str]) -> None:
        """Workspace-relative POSIX paths created, changed or deleted."""
        with self._lock:
            self._paths.update(paths)

    def lost_events(self) -> None:
        """The watcher may have missed changes (an overflow, a restart): walk once more."""
        with self._lock:
            self._lost = True

    def take(self) -> set[str] | None:
        """The changed paths since the last call, or None when only a full walk can tell."""
        catch_up = self._catch_up
        if catch_up is not None and not catch_up():
            self.lost_events()
        with self._lock:
            paths, self._paths = self._paths, set()
            if self._watchers == 0 or self._lost:
                self._lost = False
                return None
            return paths


def source_file_at(root: Path, rel: str) -> SourceFile | None:
    """The file at ``rel`` as ``walk_sources`` would list it, or None if the walk would skip it."""
    parts = rel.split("/")
    if any(part in SKIPPED_DIRS for part in parts[:-1]):
        return None
    name = parts[-1]
    language = language_for_path(name)
    if language is None or name.endswith(MINIFIED_SUFFIXES):
        return None
    specs = []
    for depth in range(len(parts)):  # each folder on the way down, as the walk visits it
        base = "".join(part + "/" for part in parts[:depth])
        spec = _load_ignore(root / base if base else root)
        if spec is not None:
            specs.append((base, spec))
        if depth < len(parts) - 1 and _ignored(specs, base + parts[depth] + "/"):
            return None  # an ignored folder hides everything under it
    if _ignored(specs, rel):
        return None
    try:
        stat = os.stat(root / rel, follow_symlinks=False)
    except OSError:
        return None
    if not os.path.isfile(root / rel) or os.path.islink(root / rel) or stat.st_size > MAX_FILE_BYTES:
        return None
    return SourceFile(rel, language, stat.st_mtime_ns, stat.st_size)


class NativeWatcher:
    """Watches a workspace with ``watchfiles`` (inotify, FSEvents, ...) in a daemon thread.

    Events reach us a debounce after they happen. So that a request right after a write sees it,
    ``catch_up()`` creates a barrier file and waits for its event: the operating system reports
    a folder's events in order, so every change made before the barrier has been reported too.
    """

    def __init__(self, root: Path, tracker: ChangeTracker) -> None:
        self.root = root
        self.tracker = tracker
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watch {root}", daemon=True)
        self._barriers = itertools.count(1)
        self._arrived: set[str] = set()
        self._arrival = threading.Condition()

    def start(self, timeout: float = 10.0) -> bool:
        """Start watching; True once the watcher is listening (events from then on are reported)."""
        self._thread.start()
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def catch_up(self, timeout: float = BARRIER_TIMEOUT) -> bool:
        """Block until every change made before this call has been reported; False if unsure."""
        folder = self.root / BARRIER_DIR
        name = f"barrier-{os.getpid()}-{next(self._barriers)}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).touch()
        except OSError:
            return False  # a read-only workspace: the caller walks the tree
        try:
            with self._arrival:
                arrived = self._arrival.wait_for(lambda: name in self._arrived, timeout)
                self._arrived.discard(name)
            return arrived
        finally:
            (folder / name).unlink(missing_ok=True)

    def _relevant(self, path: str, created: bool) -> str | None:
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return None
        if rel.startswith(BARRIER_DIR + "/barrier-"):
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
            return
        self.tracker.attach(self.catch_up)
        try:
            # yield_on_timeout lets the first (empty) batch tell us the watcher is listening.
            for changes in watch(self.root, stop_event=self._stop, debounce=NATIVE_DEBOUNCE_MS, step=10,
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
