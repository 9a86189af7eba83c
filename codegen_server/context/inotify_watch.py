"""The native watcher on Linux: inotify, one watch per real folder the index walks, read at request time.

A cloned repository is attacker-controlled, so the watcher never follows a symlink: it adds a watch
only on folders it found as real folders inside the root (``walk_folders``), each with
``IN_DONT_FOLLOW | IN_ONLYDIR``; a ``vendor -> /usr`` or ``all -> /`` link costs no watch. It skips
the folders the index skips (tool and vendored folders, ignored ones), and caps the number of
watches (``watch_limit``), since every watch comes out of the user's budget for all programs.
Past the cap, or when inotify is unavailable, it falls back to what happens with no watcher (the
index walks the tree on each request) with one warning.

No thread: the kernel queues an event before the write that caused it returns, so ``catch_up()``
reads what is pending, without blocking, when a request arrives. Every change made before the
request is in its answer; nothing sleeps, and no barrier file is needed.
"""

from __future__ import annotations

import errno
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .walk import SKIPPED_DIRS, folder_specs, walk_folders
from .watch import ChangeTracker

if TYPE_CHECKING:
    from inotify_simple import Event, INotify

log = logging.getLogger(__name__)

#: Folders one workspace may watch at most, whatever the user's budget allows.
MAX_WATCHES = 16_384
#: One workspace takes at most 1/BUDGET_SHARE of the user's inotify budget (max_user_watches,
#: shared by every program the user runs).
BUDGET_SHARE = 2
_MAX_USER_WATCHES = Path("/proc/sys/fs/inotify/max_user_watches")

# inotify(7) event bits, as <sys/inotify.h> defines them.
IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF, IN_UNMOUNT, IN_Q_OVERFLOW, IN_IGNORED = 0x400, 0x800, 0x2000, 0x4000, 0x8000
IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK, IN_ISDIR = 0x1000000, 0x2000000, 0x4000000, 0x40000000
#: What a watch reports: any change to an entry of the folder, or to the folder itself. Only a
#: real folder (IN_ONLYDIR), never a symlink's target (IN_DONT_FOLLOW).
WATCH_MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
              | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
_CAME = IN_CREATE | IN_MOVED_TO
_WENT = IN_DELETE | IN_MOVED_FROM
#: add_watch failures that concern one folder only (gone, replaced by a file or a link, unreadable).
_SKIP_FOLDER = {errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.ELOOP}


def watch_limit() -> int:
    """How many folders one workspace may watch: a share of the user's budget, at most MAX_WATCHES."""
    try:
        budget = int(_MAX_USER_WATCHES.read_text().strip())
    except (OSError, ValueError):
        return MAX_WATCHES
    return max(1, min(MAX_WATCHES, budget // BUDGET_SHARE))


class _Fallback(Exception):
    """Watching cannot go on (the cap, the user's budget); the message says why."""


class InotifyWatcher:
    """Watches a workspace with inotify; see the module's docstring. Thread-safe."""

    def __init__(self, root: Path, tracker: ChangeTracker, limit: int | None = None) -> None:
        self.root = root
        self.tracker = tracker
        self.limit = watch_limit() if limit is None else limit
        self._lock = threading.Lock()
        self._inotify: INotify | None = None
        self._folders: dict[int, str] = {}  # watch descriptor -> folder relative to the root ("" for it)
        self._watches: dict[str, int] = {}  # the reverse

    @property
    def watches(self) -> int:
        """How many folders are watched."""
        with self._lock:
            return len(self._watches)

    def start(self) -> bool:
        """Watch every folder the index walks; False (after one warning) when it falls back to walking."""
        with self._lock:
            try:
                self._open()
            except ImportError:
                log.warning("inotify_simple is not installed; the context index re-walks %s on each request",
                            self.root)
                return False
            except (OSError, _Fallback) as error:
                self._give_up(error)
                return False
            log.info("watching %d folders of %s for changes", len(self._watches), self.root)
        self.tracker.attach(self.catch_up)
        return True

    def stop(self) -> None:
        with self._lock:
            if self._close():
                self.tracker.detach(self.catch_up)

    def catch_up(self) -> bool:
        """Report every change made before this call (pending events are read, not waited for);
        False when the watcher has fallen back, or may have missed changes."""
        with self._lock:
            if self._inotify is None:
                return False
            try:
                complete = self._handle(self._inotify.read(timeout=0))
            except (OSError, _Fallback) as error:
                self._give_up(error)
                self.tracker.detach(self.catch_up)
                return False
            return complete

    # -- under the lock ------------------------------------------------------------------------
    def _handle(self, events: list[Event]) -> bool:
        """Mark the paths ``events`` name; False if some were lost (the kernel's queue overflowed)."""
        rescan = False
        changed: list[str] = []
        for event in events:
            if event.mask & IN_Q_OVERFLOW:
                # Folders may have been made, moved or deleted unseen: watch the tree afresh, walk it once.
                self._close()
                self._open()
                return False
            folder = self._folders.get(event.wd)
            if folder is None:
                continue  # a watch already forgotten
            if event.mask & IN_IGNORED:
                self._forget_watch(event.wd)
                continue
            if event.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT):
                if folder == "":
                    raise _Fallback("the folder itself was moved or deleted")
                continue  # the parent's watch reports the folder's own path
            if not event.name:
                continue
            rel = f"{folder}/{event.name}" if folder else event.name
            if event.name in SKIPPED_DIRS:
                continue
            if event.mask & IN_ISDIR:
                if event.mask & _WENT:
                    self._forget_tree(rel)
                if event.mask & _CAME:
                    self._watch_tree(rel)
            if event.name == ".gitignore":
                rescan = True  # folders it ignored may be walked now
            changed.append(rel)
        if rescan:
            self._watch_tree("")
        if changed:
            self.tracker.mark(changed)
        return True

    def _open(self) -> None:
        """A new inotify instance watching the tree (raises ImportError, OSError or _Fallback)."""
        from inotify_simple import INotify

        self._inotify = INotify()
        self._watch_tree("")

    def _watch_tree(self, rel: str) -> None:
        """Watch folder ``rel`` and every folder under it that the index walks and is not watched yet."""
        specs = folder_specs(self.root, rel)
        if specs is None:
            return  # a skipped or ignored folder
        assert self._inotify is not None
        for folder in walk_folders(self.root, rel, specs):
            if folder in self._watches:
                continue
            if len(self._watches) >= self.limit:
                raise _Fallback(f"it has more than {self.limit} folders to watch (the most one workspace may "
                                f"take of the user's inotify watches, fs.inotify.max_user_watches)")
            try:
                wd = self._inotify.add_watch(self.root / folder if folder else self.root, WATCH_MASK)
            except OSError as error:
                if error.errno in _SKIP_FOLDER:
                    continue  # gone since it was listed, or a link now: nothing to watch there
                if error.errno == errno.ENOSPC:
                    raise _Fallback("the user's inotify watches are used up (fs.inotify.max_user_watches)") from None
                raise
            stale = self._folders.get(wd)
            if stale is not None:  # the same folder under another name (moved): one watch, the new name
                self._watches.pop(stale, None)
            self._folders[wd] = folder
            self._watches[folder] = wd

    def _forget_tree(self, rel: str) -> None:
        """Drop the watches of folder ``rel`` and everything under it (deleted, or moved away)."""
        prefix = rel + "/"
        for folder in [f for f in self._watches if f == rel or f.startswith(prefix)]:
            wd = self._watches.pop(folder)
            self._folders.pop(wd, None)
            try:
                self._inotify.rm_watch(wd)  # a moved folder is still watched where it went
            except OSError:
                pass  # already gone with its folder

    def _forget_watch(self, wd: int) -> None:
        folder = self._folders.pop(wd, None)
        if folder is not None and self._watches.get(folder) == wd:
            del self._watches[folder]

    def _give_up(self, error: BaseException) -> None:
        self._close()
        why = error if isinstance(error, _Fallback) else f"inotify failed ({error})"
        log.warning("not watching %s for changes: %s; the context index walks the tree on each request instead",
                    self.root, why)

    def _close(self) -> bool:
        if self._inotify is None:
            return False
        self._inotify.close()  # the kernel drops every watch with it
        self._inotify: INotify | None = None
        self._folders.clear()
        self._watches.clear()
        return True
