"""Find the workspace's source files, respecting .gitignore and skipping what is not ours."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from ..trust.ignore_files import read_ignore_lines
from .languages import language_for_path

# Directories that hold vendored, generated or tool state rather than the project's own code.
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".codegen", "node_modules", "vendor", "third_party", "bower_components",
    "__pycache__", ".venv", "venv", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    "site-packages", "dist", "build", "target", ".next", ".gradle", ".idea", ".cache",
})
MAX_FILE_BYTES = 1_000_000
MINIFIED_SUFFIXES = (".min.js", ".min.mjs", ".bundle.js")


@dataclass(frozen=True)
class SourceFile:
    """A file worth indexing: workspace-relative POSIX path, language and the stat key."""

    path: str
    language: str
    mtime_ns: int
    size: int


#: The ignore rules in force in a folder: (folder relative to the root with a trailing slash, its rules).
Specs = list[tuple[str, pathspec.PathSpec]]


def load_ignore(directory: Path) -> pathspec.PathSpec | None:
    """The rules of ``directory``'s .gitignore (read as ``read_ignore_lines`` allows), or None."""
    lines = read_ignore_lines(directory / ".gitignore")
    return None if lines is None else pathspec.GitIgnoreSpec.from_lines(lines)


def walk_sources(root: Path) -> list[SourceFile]:
    """List indexable source files under `root`, sorted by path (see ``iter_sources``)."""
    return list(iter_sources(root))


def iter_sources(root: Path) -> Iterator[SourceFile]:
    """The indexable source files under `root`, sorted by path, as the walk finds them.

    Honours every .gitignore on the way down (each relative to its own directory), skips vendored
    and tool directories, minified bundles and files over MAX_FILE_BYTES. The index consumes the
    walk as it goes, so that a large parse can start its workers before the walk is over.
    """
    # Each entry: (directory relative to root with trailing slash, its ignore spec).
    def visit(directory: Path, rel: str, specs: Specs) -> Iterator[SourceFile]:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        # The listing says whether there is a .gitignore to read: most folders have none (none of
        # Django's 2,458), and trying to open one in each cost a quarter of the walk's CPU time.
        if any(entry.name == ".gitignore" for entry in entries):
            spec = load_ignore(directory)
            if spec is not None:
                specs = specs + [(rel, spec)]
        for entry in entries:
            rel_path = rel + entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name in SKIPPED_DIRS or is_ignored(specs, rel_path + "/"):
                    continue
                yield from visit(Path(entry.path), rel_path + "/", specs)
            elif is_file:
                language = language_for_path(entry.name)
                if language is None or entry.name.endswith(MINIFIED_SUFFIXES):
                    continue
                if is_ignored(specs, rel_path):
                    continue
                info = entry.stat(follow_symlinks=False)
                if info.st_size > MAX_FILE_BYTES:
                    continue
                yield SourceFile(rel_path, language, info.st_mtime_ns, info.st_size)

    return visit(root, "", [])


def is_ignored(specs: Specs, rel_path: str) -> bool:
    """Whether ``rel_path`` (a folder's with a trailing slash) is ignored by ``specs``."""
    ignored = False
    for base, spec in specs:
        if not rel_path.startswith(base):
            continue
        # Later (deeper) .gitignore files override earlier ones, including negations.
        result = spec.check_file(rel_path[len(base):])
        if result.include is not None:
            ignored = result.include
    return ignored


def folder_specs(root: Path, rel: str) -> Specs | None:
    """The rules in force inside folder ``rel`` ("" for the root) as the walk gathers them on its way
    down, or None when the walk never enters it (a skipped or ignored folder on the way)."""
    parts = rel.split("/") if rel else []
    specs: Specs = []
    for depth in range(len(parts) + 1):
        base = "".join(part + "/" for part in parts[:depth])
        spec = load_ignore(root / base if base else root)
        if spec is not None:
            specs.append((base, spec))
        if depth < len(parts) and (parts[depth] in SKIPPED_DIRS or is_ignored(specs, base + parts[depth] + "/")):
            return None
    return specs


def walk_folders(root: Path, rel: str, specs: Specs) -> Iterator[str]:
    """Folder ``rel`` (with ``specs``, its rules from ``folder_specs``) and every folder under it the
    walk enters, parents first. A symlink is never followed: only real folders inside the root."""
    try:
        if not stat.S_ISDIR(os.lstat(root / rel if rel else root).st_mode):
            return  # a link (or a file) by now, not a folder to enter
    except OSError:
        return
    pending: list[tuple[str, Specs]] = [(rel, specs)]
    while pending:
        folder, specs = pending.pop()
        yield folder
        prefix = folder + "/" if folder else ""
        try:
            entries = list(os.scandir(root / folder if folder else root))
        except OSError:
            continue
        for entry in entries:
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            child = prefix + entry.name
            if is_folder and entry.name not in SKIPPED_DIRS and not is_ignored(specs, child + "/"):
                spec = load_ignore(Path(entry.path))
                pending.append((child, specs if spec is None else specs + [(child + "/", spec)]))


def looks_generated_or_binary(head: bytes) -> bool:
    """True for binary content or files that declare themselves generated."""
    if b"\0" in head:
        return True
    first_lines = head[:1024]
    return b"DO NOT EDIT" in first_lines or b"@generated" in first_lines
