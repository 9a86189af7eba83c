"""Workspace path safety: every path a patch names must stay inside the root and out of .git/."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from codegen_server.edits.types import EditError, EditLimits

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def normalize_rel_path(raw: str) -> str:
    """Turn a path as a model wrote it into a clean workspace-relative POSIX path.

    Raises EditError for absolute paths, ``..`` components and anything inside ``.git/``.
    """
    path = raw.strip().replace("\\", "/")
    if not path:
        raise EditError("empty file path in patch")
    if path.startswith("/") or _WINDOWS_DRIVE.match(raw.strip()):
        raise EditError(f"absolute path refused: {raw!r} (paths must be relative to the workspace)")
    parts = [p for p in PurePosixPath(path).parts if p not in ("", ".")]
    if not parts:
        raise EditError(f"path names no file: {raw!r}")
    if ".." in parts:
        raise EditError(f"path escapes the workspace via '..': {raw!r}")
    if ".git" in parts:
        raise EditError(f"writes into .git/ are refused: {raw!r}")
    return "/".join(parts)


def resolve_inside(root: Path, rel: str) -> Path:
    """Absolute path of ``rel`` under ``root``; refuses symlinks that lead outside the root."""
    root_real = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root_real, rel))
    if target != root_real and not target.startswith(root_real.rstrip(os.sep) + os.sep):
        raise EditError(f"path resolves outside the workspace (symlink?): {rel!r} -> {target}")
    if ".git" in Path(os.path.relpath(target, root_real)).parts:
        raise EditError(f"path resolves into .git/: {rel!r}")
    return Path(target)


def read_workspace_text(root: Path, rel: str, limits: EditLimits) -> str | None:
    """The UTF-8 text of a workspace file, or None if it does not exist.

    Raises EditError for files over the size limit, non-UTF-8 files, and non-regular files.
    """
    target = resolve_inside(root, rel)
    if not target.exists():
        return None
    if not target.is_file():
        raise EditError(f"not a regular file: {rel!r}")
    size = target.stat().st_size
    if size > limits.max_file_bytes:
        raise EditError(f"file too large to edit: {rel!r} is {size} bytes (limit {limits.max_file_bytes})")
    data = target.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(f"file is not UTF-8 text, refusing to edit it: {rel!r} ({exc.reason} at byte {exc.start})") from None
