"""One writer at a time per workspace, across threads and processes.

The lock is an ``flock`` on ``.codegen/writer/lock``: the kernel drops it when its holder dies
(``kill -9`` included), so a crashed writer never blocks the next one. Whoever takes the lock
first finishes or rolls back a crashed writer's journal (see ``journal``) before writing.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codegen_server.edits import journal

# (real root, thread) -> how deep this thread holds the lock: a thread that holds it may call
# write_changes again (plan-and-write holds it around the write), and a second flock of the same
# file from this thread would wait for itself.
_held: dict[tuple[str, int], int] = {}


@contextmanager
def workspace_lock(root: Path) -> Iterator[None]:
    """Hold the workspace's writer lock (blocking); recover a crashed writer's journal first."""
    key = (os.path.realpath(root), threading.get_ident())
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    directory = journal.writer_dir(root, create=True)
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held[key] = 1
        try:
            journal.recover_locked(Path(key[0]))
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def recover(root: Path) -> bool:
    """Finish or roll back an apply that crashed in ``root``; True if there was one.

    Cheap when there is nothing to do (one stat, nothing created); called at the start of the
    daemon and of every ``codegen`` command.
    """
    if not journal.pending(root):
        return False
    with workspace_lock(root):
        pass  # taking the lock recovers
    return True
