"""Atomic, all-or-nothing writes of computed changes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from codegen_server.edits.paths import normalize_rel_path, resolve_inside
from codegen_server.edits.types import EditError, FileChange


def _temp_beside(target: Path, data: bytes, mode: int | None) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".codegen-tmp", dir=target.parent)
    try:
        # No fsync, like git and editors: the rename makes the swap atomic for every reader;
        # surviving power loss mid-write is not promised.
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(name, mode)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def write_changes(root: Path, changes: Sequence[FileChange], *, check_unchanged: bool = True) -> None:
    """Write all changes or none.

    New contents go to temp files beside their targets first; then each target is moved aside
    to a backup and the temp file renamed into place. On any error every step is undone, so the
    tree is as before. ``check_unchanged`` refuses (EditError) when a file on disk no longer
    holds the ``old_text`` the change was computed from. File modes are kept.
    """
    plan: list[tuple[Path, Path | None, Path | None]] = []  # (target, temp with new content, source to remove)
    made_dirs: list[Path] = []
    temps: list[Path] = []
    try:
        for ch in changes:
            src = resolve_inside(root, normalize_rel_path(ch.path))
            dst = resolve_inside(root, normalize_rel_path(ch.new_path)) if ch.new_path else src
            if check_unchanged:
                on_disk = src.read_bytes().decode("utf-8", "replace") if src.is_file() else None
                if on_disk != ch.old_text:
                    raise EditError(f"{ch.path} on disk is not the text the patch was planned against (changed since, "
                                    "or planned from an unsaved editor buffer); nothing written")
                if dst != src and dst.exists():
                    raise EditError(f"rename target already exists: {ch.new_path}")
            if ch.new_text is None:
                plan.append((src, None, src))
                continue
            mode = src.stat().st_mode & 0o7777 if src.exists() else None
            missing = [p for p in [dst.parent, *dst.parent.parents] if not p.exists()]
            for d in reversed(missing):
                d.mkdir()
                made_dirs.append(d)
            tmp = _temp_beside(dst, ch.new_text.encode("utf-8"), mode)
            temps.append(tmp)
            plan.append((dst, tmp, src if dst != src else None))
    except BaseException:
        for t in temps:
            t.unlink(missing_ok=True)
        for d in reversed(made_dirs):
            d.rmdir()
        raise
    _commit(plan, made_dirs)


def _commit(plan: list[tuple[Path, Path | None, Path | None]], made_dirs: list[Path]) -> None:
    """Swap temp files in, keeping backups; on failure replay the undo log backwards."""
    undo: list[tuple[str, Path, Path | None]] = []  # ("restore", path, backup) or ("unlink", path, None)
    try:
        for target, tmp, remove in plan:
            for path in dict.fromkeys(p for p in (target, remove) if p is not None):
                if path.exists() or path.is_symlink():
                    backup = path.with_name(f".{path.name}.codegen-bak")
                    os.replace(path, backup)
                    undo.append(("restore", path, backup))
            if tmp is not None:
                os.replace(tmp, target)
                undo.append(("unlink", target, None))
    except BaseException:
        for action, path, backup in reversed(undo):
            if action == "unlink":
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)  # type: ignore[arg-type]
        for _, tmp, _ in plan:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        for d in reversed(made_dirs):
            if d.exists() and not any(d.iterdir()):
                d.rmdir()
        raise
    for action, _, backup in undo:
        if action == "restore":
            backup.unlink(missing_ok=True)  # type: ignore[union-attr]
