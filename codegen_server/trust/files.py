"""Reading and writing the files codegen uses for itself, without being led out of the workspace.

- ``read_regular``: a regular file's bytes, never through a symlink (``O_NOFOLLOW``), never a device
  or a FIFO (``/dev/zero`` would exhaust memory, ``/dev/stdin`` would read the daemon's own LSP pipe),
  and never more than a cap.
- ``state_dir``: ``<root>/.codegen/...``, each folder on the way a real folder (a symlinked
  ``.codegen`` would make every write land wherever it points).
- ``write_state``: an atomic write by rename, which replaces a planted symlink instead of writing
  through it.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

STATE_DIR = ".codegen"
#: What a state file may weigh unless its reader says otherwise.
DEFAULT_LIMIT = 64 * 1024 * 1024

_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class RefusedPath(Exception):
    """A file or folder codegen would use for itself is not a plain one inside the workspace."""

    def __init__(self, path: Path | str, why: str) -> None:
        super().__init__(f"{path} {why}")
        self.path = Path(path)
        self.why = why


def read_regular(path: Path, limit: int = DEFAULT_LIMIT) -> bytes | None:
    """The bytes of the regular file at ``path``, or None when there is none.

    Raises RefusedPath for a symlink, anything but a regular file, or a file over ``limit`` bytes.
    """
    if not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):  # Windows: no O_NOFOLLOW
        raise RefusedPath(path, "is a symbolic link, which codegen does not follow here")
    try:
        fd = os.open(path, _READ_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(path):
            raise RefusedPath(path, "is a symbolic link, which codegen does not follow here") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedPath(path, "is not a regular file")
        if info.st_size > limit:
            raise RefusedPath(path, f"is larger than codegen reads ({info.st_size} bytes, limit {limit})")
        # One read takes a file that does not grow whole (a 17 MB index cache: one buffer, not 17
        # chunks and a join); the loop goes on only for one that grew, and never past the cap.
        first = os.read(fd, info.st_size + 1)
        chunks: list[bytes] = [first]
        total = len(first)
        if total > limit:
            raise RefusedPath(path, f"grew past what codegen reads (limit {limit} bytes)")
        while chunk := os.read(fd, min(1 << 20, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise RefusedPath(path, f"grew past what codegen reads (limit {limit} bytes)")
        return first if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def state_dir(root: Path, *parts: str, create: bool = False) -> Path:
    """``<root>/.codegen/<parts...>``; every folder on the way must be a real folder, not a symlink.

    With ``create``, missing folders are made. Raises RefusedPath when a symlink or a file stands
    where a folder should be: codegen keeps its state only inside the workspace.
    """
    path = root
    for name in (STATE_DIR, *parts):
        path = path / name
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            if not create:
                return root.joinpath(STATE_DIR, *parts)
            try:
                os.mkdir(path)
                continue
            except FileExistsError:
                info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            raise RefusedPath(path, "is a symbolic link; codegen keeps its state only in a real folder inside "
                                    "the workspace: remove the link")
        if not stat.S_ISDIR(info.st_mode):
            raise RefusedPath(path, "is not a folder; codegen keeps its state there: remove or rename it")
    return path


def write_state(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temp file renamed over it); a symlink there is replaced.

    ``path``'s folder must come from ``state_dir`` (or be otherwise known to be a real folder).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
