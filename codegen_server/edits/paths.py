"""Workspace path safety: every path a patch names must stay inside the root, out of .git/ and .codegen/."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path, PurePosixPath

from codegen_server.edits.types import EditError, EditLimits

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
# .git/ is the user's history; .codegen/ holds runs and checkpoint manifests that undo trusts.
_PROTECTED = {".git": ".git/", ".codegen": ".codegen/"}
# The 8.3 short names Windows may give those folders ("GIT~1" opens ".git").
_SHORT_NAMES = {"git~1": ".git", "codege~1": ".codegen"}
# Code points HFS+ ignores in a name (as git's is_hfs_dotgit does): ".g\u200cit" opens ".git" on macOS.
_HFS_IGNORED = re.compile("[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")


def protected_name(name: str) -> str | None:
    """The protected folder (".git/" or ".codegen/") a path component opens on some filesystem, or None.

    Case-insensitive filesystems (macOS, Windows) open ``.GIT``; Windows drops trailing dots
    and spaces (``.git.``, ``.git ``) and reads ``.git::$INDEX_ALLOCATION`` as the folder
    itself; HFS+ ignores some invisible code points: each of those names is the folder.
    """
    folded = _HFS_IGNORED.sub("", name).partition(":")[0].rstrip(". ").lower()
    folded = _SHORT_NAMES.get(folded, folded)
    return _PROTECTED.get(folded)


def normalize_rel_path(raw: str) -> str:
    """Turn a path as a model wrote it into a clean workspace-relative POSIX path.

    Raises EditError for NUL or control characters, absolute paths, ``..`` components and
    anything inside ``.git/`` or ``.codegen/`` (in any letter case or spelling that opens them).
    """
    if any(ord(c) < 32 or c == "\x7f" for c in raw):
        raise EditError(f"path has a NUL or control character, refused: {raw!r}")
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
    for part in parts:
        shown = protected_name(part)
        if shown:
            raise EditError(f"writes into {shown} are refused: {raw!r}")
    return "/".join(parts)


def resolve_inside(root: Path, rel: str) -> Path:
    """Absolute path of ``rel`` under ``root``; refuses symlinks that lead outside the root, into
    .git/ or .codegen/, and symlink loops."""
    root_real = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root_real, rel))
    if target != root_real and not target.startswith(root_real.rstrip(os.sep) + os.sep):
        raise EditError(f"path resolves outside the workspace (symlink?): {rel!r} -> {target}")
    for part in Path(os.path.relpath(target, root_real)).parts:
        shown = protected_name(part)
        if shown:
            raise EditError(f"path resolves into {shown}: {rel!r}")
    try:
        os.stat(target)
    except OSError as error:
        # realpath leaves a loop unresolved; stat names it (ELOOP) instead of a later "File exists".
        if error.errno == errno.ELOOP:
            raise EditError(f"path goes through a symlink loop: {rel!r}") from None
        if error.errno == errno.ENOTDIR:
            raise EditError(f"a folder on the path is a file: {rel!r}") from None
    return Path(target)


def entry_inside(root: Path, rel: str) -> Path:
    """Absolute path of ``rel`` itself under ``root``: its folder resolved like ``resolve_inside``,
    its last component not followed.

    Deleting or renaming ``rel`` acts on this path: when ``rel`` is a symlink, the link goes, and
    the file it points to stays as it is. ``rel`` must be normalized (``normalize_rel_path``).
    """
    folder, _, name = rel.rpartition("/")
    parent = resolve_inside(root, folder) if folder else Path(os.path.realpath(root))
    return parent / name


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
