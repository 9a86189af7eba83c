"""Atomic, all-or-nothing writes of computed changes — also across a crash of the writer."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from codegen_server.edits import journal as journal_mod
from codegen_server.edits.journal import BACKUP_SUFFIX, TEMP_SUFFIX, Entry, Journal, aside_name
from codegen_server.edits.lock import workspace_lock
from codegen_server.edits.paths import entry_inside, normalize_rel_path, resolve_inside
from codegen_server.edits.types import EditError, FileChange, StaleFileError

_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _write_temp(temp: Path, data: bytes, mode: int | None, executable: bool) -> None:
    """Create ``temp`` with ``data``: an existing file's mode, else the umask's (as any new file gets)."""
    # os.open applies the umask to 0o666/0o777, unlike mkstemp's fixed 0o600.
    fd = os.open(temp, _TEMP_FLAGS, 0o777 if executable else 0o666)
    try:
        # No fsync, like git and editors: the rename makes the swap atomic for every reader and the
        # journal survives the writer being killed; surviving power loss is not promised.
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(temp, mode)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_changes(root: Path, changes: Sequence[FileChange], *, check_unchanged: bool = True) -> None:
    """Write all changes or none, even if the process is killed half-way.

    Under the workspace's writer lock: each file is checked against the ``old_text`` the change
    was computed from (``check_unchanged``; a mismatch raises StaleFileError), new contents go to
    temp files beside their targets, a journal records the plan, then each target is moved
    aside to a backup and its temp renamed into place. An error undoes every step; a crash is
    undone (or finished) by the next writer or ``codegen`` start (``lock.recover``).
    File modes are kept; new files get the umask's mode (executable if the diff said 100755).
    A deleted or renamed symlink is the link itself: it goes, and the file it points to stays.
    Raises EditError for unsafe paths, and when codegen's writer folder or lock is a symlink.
    """
    with workspace_lock(root):
        _write_locked(Path(os.path.realpath(root)), changes, check_unchanged)


def _write_locked(root: Path, changes: Sequence[FileChange], check_unchanged: bool) -> None:
    jid = secrets.token_hex(4)
    journal = Journal("preparing")
    contents: list[tuple[Path, bytes, int | None, bool]] = []
    for ch in changes:
        rel = normalize_rel_path(ch.path)
        new_rel = normalize_rel_path(ch.new_path) if ch.new_path else rel
        # A path that goes away (deleted, or renamed from) is the entry itself, never a symlink's target.
        leaves = ch.new_text is None or new_rel != rel
        src = entry_inside(root, rel) if leaves else resolve_inside(root, rel)
        dst = resolve_inside(root, new_rel) if new_rel != rel else src
        if check_unchanged:
            on_disk = src.read_bytes().decode("utf-8", "replace") if src.is_file() else None
            if on_disk != ch.old_text:
                raise StaleFileError(f"{ch.path} on disk is not the text the patch was planned against (changed "
                                     "since, or planned from an unsaved editor buffer); nothing written")
            if dst != src and dst.exists():
                raise EditError(f"rename target already exists: {ch.new_path}")
        if leaves:  # deleted, or the source of a rename
            journal.entries.append(Entry(_rel(root, src), None, _backup(root, src, jid)))
        if ch.new_text is None:
            continue
        mode = src.stat().st_mode & 0o7777 if src.exists() else None
        temp = dst.with_name(aside_name(dst.name, jid, TEMP_SUFFIX))
        journal.entries.append(Entry(_rel(root, dst), _rel(root, temp), _backup(root, dst, jid)))
        contents.append((temp, ch.new_text.encode("utf-8"), mode, ch.mode is not None and bool(ch.mode & 0o111)))
        for d in reversed([p for p in [dst.parent, *dst.parent.parents] if not p.exists()]):
            journal.dirs.append(_rel(root, d))
    journal.dirs = list(dict.fromkeys(journal.dirs))
    if not journal.entries:
        return
    journal_mod.save(root, journal)  # before the first temp file, so a crash leaves none behind
    try:
        for rel in journal.dirs:
            (root / rel).mkdir()
        for temp, data, mode, executable in contents:
            _write_temp(temp, data, mode, executable)
        journal.state = "committing"
        journal_mod.save(root, journal)
        for entry in journal.entries:
            if entry.backup is not None:
                os.replace(root / entry.path, root / entry.backup)
            if entry.temp is not None:
                os.replace(root / entry.temp, root / entry.path)
    except BaseException:
        journal_mod.roll_back(root, journal)
        journal_mod.discard(root)
        raise
    journal.state = "complete"
    journal_mod.save(root, journal)
    journal_mod.roll_forward(root, journal)
    journal_mod.discard(root)


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _backup(root: Path, path: Path, jid: str) -> str | None:
    """Where ``path`` is moved aside, if it exists now (a symlink counts)."""
    if not os.path.lexists(path):
        return None
    return _rel(root, path.with_name(aside_name(path.name, jid, BACKUP_SUFFIX)))
