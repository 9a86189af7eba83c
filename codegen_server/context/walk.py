"""Find the workspace's source files, respecting .gitignore and skipping what is not ours."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pathspec

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


def _load_ignore(directory: Path) -> pathspec.PathSpec | None:
    ignore_file = directory / ".gitignore"
    try:
        lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def walk_sources(root: Path) -> list[SourceFile]:
    """List indexable source files under `root`, sorted by path.

    Honours every .gitignore on the way down (each relative to its own directory), skips vendored
    and tool directories, minified bundles and files over MAX_FILE_BYTES.
    """
    found: list[SourceFile] = []
    # Each entry: (directory relative to root with trailing slash, its ignore spec).
    def visit(directory: Path, rel: str, specs: list[tuple[str, pathspec.PathSpec]]) -> None:
        spec = _load_ignore(directory)
        if spec is not None:
            specs = specs + [(rel, spec)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            rel_path = rel + entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name in SKIPPED_DIRS or _ignored(specs, rel_path + "/"):
                    continue
                visit(Path(entry.path), rel_path + "/", specs)
            elif is_file:
                language = language_for_path(entry.name)
                if language is None or entry.name.endswith(MINIFIED_SUFFIXES):
                    continue
                if _ignored(specs, rel_path):
                    continue
                stat = entry.stat(follow_symlinks=False)
                if stat.st_size > MAX_FILE_BYTES:
                    continue
                found.append(SourceFile(rel_path, language, stat.st_mtime_ns, stat.st_size))

    visit(root, "", [])
    return found


def _ignored(specs: list[tuple[str, pathspec.PathSpec]], rel_path: str) -> bool:
    ignored = False
    for base, spec in specs:
        if not rel_path.startswith(base):
            continue
        # Later (deeper) .gitignore files override earlier ones, including negations.
        result = spec.check_file(rel_path[len(base):])
        if result.include is not None:
            ignored = result.include
    return ignored


def looks_generated_or_binary(head: bytes) -> bool:
    """True for binary content or files that declare themselves generated."""
    if b"\0" in head:
        return True
    first_lines = head[:1024]
    return b"DO NOT EDIT" in first_lines or b"@generated" in first_lines
