"""Persist the index under <root>/.codegen/index/ so a restart only re-parses changed files."""

from __future__ import annotations

import marshal
import os
import tempfile
from pathlib import Path

from ..store.runs import codegen_dir
from .tags import Definition, FileTags

# Bump when the record layout or the tag queries change, so old caches are ignored.
FORMAT_VERSION = 1
CACHE_NAME = "tags.marshal"


class FileRecord:
    """The index entry of one file: its stat key and its tags."""

    __slots__ = ("path", "mtime_ns", "size", "tags")

    def __init__(self, path: str, mtime_ns: int, size: int, tags: FileTags) -> None:
        self.path = path
        self.mtime_ns = mtime_ns
        self.size = size
        self.tags = tags


def cache_path(root: Path) -> Path:
    return root / ".codegen" / "index" / CACHE_NAME


def load(root: Path, query_digest: str) -> dict[str, FileRecord]:
    """Read the persisted records; an unreadable or outdated cache is treated as empty."""
    try:
        data = marshal.loads(cache_path(root).read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, tuple) or data[:2] != (FORMAT_VERSION, query_digest):
        return {}
    records: dict[str, FileRecord] = {}
    make = Definition._make
    for path, language, mtime_ns, size, defs, refs, imports in data[2]:
        tags = FileTags(language, [make(d) for d in defs], refs, imports)
        records[path] = FileRecord(path, mtime_ns, size, tags)
    return records


def save(root: Path, query_digest: str, records: dict[str, FileRecord]) -> None:
    """Write the records atomically (temp file + rename) so a crash never leaves half a cache."""
    rows = [
        (r.path, r.tags.language, r.mtime_ns, r.size, [tuple(d) for d in r.tags.definitions],
         r.tags.references, r.tags.imports)
        for r in records.values()
    ]
    target = cache_path(root)
    codegen_dir(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tags-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            marshal.dump((FORMAT_VERSION, query_digest, rows), handle)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
