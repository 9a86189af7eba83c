"""Persist the index under <root>/.codegen/index/ so a restart only re-parses changed files.

A record travels as a `Row` of plain tuples, lists and strings: marshal writes and reads that
layout fast, and the parse workers (``parse_pool``) send the same rows back to the daemon.
"""

from __future__ import annotations

import gc
import marshal
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .tags import Definition, FileTags

# Bump when the record layout or the tag queries change, so old caches are ignored.
FORMAT_VERSION = 1
CACHE_NAME = "tags.marshal"

#: (path, language, mtime_ns, size, definitions as plain tuples, references, imports)
Row = tuple[str, str, int, int, list[tuple[Any, ...]], dict[str, list[int]], list[tuple[int, str]]]


class FileRecord:
    """The index entry of one file: its stat key and its tags."""

    __slots__ = ("path", "mtime_ns", "size", "tags")

    def __init__(self, path: str, mtime_ns: int, size: int, tags: FileTags) -> None:
        self.path = path
        self.mtime_ns = mtime_ns
        self.size = size
        self.tags = tags


def to_row(record: FileRecord) -> Row:
    """The record as marshal-able plain data (a Definition is a tuple subclass marshal refuses)."""
    tags = record.tags
    return (record.path, tags.language, record.mtime_ns, record.size, [tuple(d) for d in tags.definitions],
            tags.references, tags.imports)


def from_row(row: Row) -> FileRecord:
    """The record a row describes."""
    path, language, mtime_ns, size, defs, refs, imports = row
    make = Definition._make
    return FileRecord(path, mtime_ns, size, FileTags(language, [make(d) for d in defs], refs, imports))


def cache_path(root: Path) -> Path:
    return root / ".codegen" / "index" / CACHE_NAME


def load(root: Path, query_digest: str) -> dict[str, FileRecord]:
    """Read the persisted records; an unreadable or outdated cache is treated as empty."""
    try:
        raw = cache_path(root).read_bytes()
    except OSError:
        return {}
    with _gc_paused():
        try:
            data = marshal.loads(raw)
        except (EOFError, ValueError, TypeError):
            return {}
        if not isinstance(data, tuple) or data[:2] != (FORMAT_VERSION, query_digest):
            return {}
        return {row[0]: from_row(row) for row in data[2]}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a cache is read.

    Reading one builds a million small containers, none in a cycle; the collector, triggered by
    the allocations, rescans the growing heap again and again: 0.6 s instead of 0.2 s for a
    5,000-file workspace. Only a collector that was running is resumed.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def save(root: Path, query_digest: str, records: dict[str, FileRecord]) -> None:
    """Write the records atomically (temp file + rename) so a crash never leaves half a cache."""
    from ..store.runs import codegen_dir  # not at import: parse workers load this module too

    rows = [to_row(r) for r in records.values()]
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
