"""One writer at a time per workspace, across threads and processes.

The lock is an ``flock`` on ``.codegen/writer/lock``: the kernel drops it when its holder dies
(``kill -9`` included), so a crashed writer never blocks the next one. Whoever takes the lock
first finishes or rolls back a crashed writer's journal (see ``journal``) before writing.

The writer folder and the lock are workspace files a cloned repository can plant: the folder
must be a real one (``trust.files.state_dir``) and the lock is opened without following a
symlink, so neither leads a write, a lock file or a deletion outside the workspace.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codegen_server.edits import journal
from codegen_server.edits.types import EditError
from codegen_server.trust.files import RefusedPath
from codegen_server.trust.notices import ignored

# (real root, thread) -> how deep this thread holds the lock: a thread that holds it may call
# write_changes again (plan-and-write holds it around the write), and a second flock of the same
# file from this thread would wait for itself.
_held: dict[tuple[str, int], int] = {}

_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class UnsafeWriterState(EditError):
    """The writer folder or its lock is not a plain one inside the workspace: nothing is written."""

    #: What the daemon's error data says (`data.kind`), as for any state codegen refuses to use.
    kind = "unsafe-state"

    def __init__(self, error: RefusedPath) -> None:
        super().__init__(f"codegen writes nothing in this workspace while {error}")
        self.path, self.why = error.path, error.why


@contextmanager
def workspace_lock(root: Path) -> Iterator[bool]:
    """Hold the workspace's writer lock (blocking); recover a crashed writer's journal first.

    Yields whether a crashed writer's journal was recovered on the way in.

    Raises UnsafeWriterState (an EditError) when ``.codegen``, ``.codegen/writer`` or the lock is
    a symlink or not what it should be.
    """
    key = (os.path.realpath(root), threading.get_ident())
    if key in _held:
        _held[key] += 1
        try:
            yield False
        finally:
            _held[key] -= 1
        return
    try:
        fd = _open_lock(journal.writer_dir(Path(key[0]), create=True) / "lock")
    except RefusedPath as error:
        raise UnsafeWriterState(error) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held[key] = 1
        try:
            yield journal.recover_locked(Path(key[0]))
        finally:
            del _held[key]
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _open_lock(path: Path) -> int:
    """The lock file's descriptor; never through a symlink (a planted ``lock -> /elsewhere`` creates nothing)."""
    try:
        fd = os.open(path, _LOCK_FLAGS, 0o644)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EMLINK) or os.path.islink(path):
            raise RefusedPath(path, "is a symbolic link; codegen's writer lock must be a plain file: "
                                    "remove it") from None
        if error.errno == errno.EISDIR:
            raise RefusedPath(path, "is a folder; codegen's writer lock must be a plain file: remove it") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RefusedPath(path, "is not a plain file; codegen's writer lock must be one: remove it")
    return fd


def recover(root: Path) -> bool:
    """Finish or roll back an apply that crashed in ``root``; True if there was one.

    Cheap when there is nothing to do (a few stats, nothing created); called at the start of
    the daemon and of every ``codegen`` command. A writer folder or lock that is a symlink, and
    any journal that is not this user's codegen's own, is named in a warning and not acted on.
    """
    try:
        if not journal.pending(root):
            return False
        with workspace_lock(root) as recovered:
            return recovered
    except RefusedPath as error:
        _unsafe(error.path, error.why)
    except UnsafeWriterState as error:
        _unsafe(error.path, error.why)
    return False


def _unsafe(path: Path, why: str) -> None:
    ignored(path, f"it {why}", "codegen recovers no interrupted apply there and writes nothing in this "
                               "workspace until it is removed")
