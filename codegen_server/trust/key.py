"""The per-user key that seals codegen's state: 32 random bytes in a 0600 file outside every workspace.

It lives in the user's state directory (``$XDG_STATE_HOME/codegen/key``, by default
``~/.local/state/codegen/key``), created on first use. A key that another user could read or
replace would let them forge state, so a key file that is a symlink, not owned by this user, or
readable by others is refused, as ssh refuses a private key with loose permissions.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
import threading
from pathlib import Path

KEY_BYTES = 32
_lock = threading.Lock()
_cached: tuple[Path, bytes] | None = None


class KeyUnavailable(OSError):
    """The key cannot be read or created; the message says where and what to do."""


def state_home() -> Path:
    """The folder codegen keeps per-user state in (never inside a workspace)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "codegen"
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base / "codegen"


def user_key() -> bytes:
    """This user's key, created (0600, in a 0700 folder) the first time it is needed."""
    global _cached
    path = state_home() / "key"
    with _lock:
        if _cached is not None and _cached[0] == path:
            return _cached[1]
        key = _read(path)
        if key is None:
            key = _create(path)
        _cached = (path, key)
        return key


def _read(path: Path) -> bytes | None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise KeyUnavailable(f"cannot read codegen's key {path}: {error.strerror} (a symlink is refused); "
                             "remove it and codegen makes a new one") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyUnavailable(f"codegen's key {path} is not a regular file; remove it")
        if hasattr(os, "getuid"):
            if info.st_uid != os.getuid():
                raise KeyUnavailable(f"codegen's key {path} belongs to another user; remove it")
            if info.st_mode & 0o077:
                raise KeyUnavailable(f"codegen's key {path} can be read by others (mode "
                                     f"{stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {path}` or remove it")
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise KeyUnavailable(f"codegen's key {path} is damaged ({len(key)} bytes); remove it")
    return key


def _create(path: Path) -> bytes:
    """Write a new key beside its final name, then link it there: of two racing creators one wins."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_BYTES))
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(tmp)
    except OSError as error:
        raise KeyUnavailable(f"cannot create codegen's key in {path.parent}: {error.strerror}. codegen needs a "
                             "private writable folder for it: set XDG_STATE_HOME to one") from None
    key = _read(path)
    assert key is not None
    return key
