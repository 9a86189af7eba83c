"""Which files changed on disk since the last refresh: told by the editor or by a native watcher.

A workspace is stat-walked once, for the first index. After that, while something watches it
(the editor's `workspace/didChangeWatchedFiles`, or a native watcher when the editor offers none),
a refresh re-reads only the paths reported changed instead of walking the tree again.

The native watcher is inotify on Linux (``inotify_watch``: only real folders inside the root, a
capped number of them, events read at request time) and ``watchfiles`` elsewhere
(``watchfiles_watch``). One that cannot start leaves the walk on each request, as without a watcher.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

from .languages import language_for_path
from .walk import MAX_FILE_BYTES, MINIFIED_SUFFIXES, SourceFile, folder_specs, is_ignored


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
        #: A walk made after the last attach (``settle``): it stands in for the walk ``_lost`` asks for.
        self._walked: list[SourceFile] | None = None
        #: Reports everything that happened before the call (False when it could not tell); set
        #: by a watcher whose events are not pushed to us as they happen (the native ones).
        self._catch_up: Callable[[], bool] | None = None

    @property
    def watching(self) -> bool:
        with self._lock:
            return self._watchers > 0

    def attach(self, catch_up: Callable[[], bool] | None = None) -> None:
        """A watcher starts reporting; what happened before it is covered by the next full walk.

        ``catch_up`` is for a watcher whose events wait to be collected: ``take()`` calls it
        first, so a change made just before a request is part of its answer.
        """
        with self._lock:
            self._watchers += 1
            self._lost = True
            self._walked = None
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
            self._walked = None

    def settle(self, walked: list[SourceFile]) -> None:
        """``walked``: the workspace walked after the watcher attached (off the request path).

        With the changes reported since, it tells what a walk at request time would: the next
        ``take_with_walk()`` hands it over instead of asking for a walk.
        """
        with self._lock:
            if self._lost and self._watchers > 0:
                self._walked = walked

    def take(self) -> set[str] | None:
        """The changed paths since the last call, or None when only a full walk can tell."""
        paths, walked = self.take_with_walk()
        return None if walked is not None else paths

    def take_with_walk(self) -> tuple[set[str] | None, list[SourceFile] | None]:
        """The changed paths since the last call (None: only a full walk can tell), and a walk made
        since the watcher attached when there is one: then the paths are those changed since it."""
        catch_up = self._catch_up
        if catch_up is not None and not catch_up():
            self.lost_events()
        with self._lock:
            paths, self._paths = self._paths, set()
            walked, self._walked = self._walked, None
            if self._watchers == 0 or self._lost:
                self._lost = False
                return (paths, walked) if walked is not None and self._watchers else (None, None)
            return paths, None


def source_file_at(root: Path, rel: str) -> SourceFile | None:
    """The file at ``rel`` as ``walk_sources`` would list it, or None if the walk would skip it."""
    folder, _, name = rel.rpartition("/")
    language = language_for_path(name)
    if language is None or name.endswith(MINIFIED_SUFFIXES):
        return None
    specs = folder_specs(root, folder)  # None: a skipped or ignored folder hides everything under it
    if specs is None or is_ignored(specs, rel):
        return None
    try:
        stat = os.stat(root / rel, follow_symlinks=False)
    except OSError:
        return None
    if not os.path.isfile(root / rel) or os.path.islink(root / rel) or stat.st_size > MAX_FILE_BYTES:
        return None
    return SourceFile(rel, language, stat.st_mtime_ns, stat.st_size)
