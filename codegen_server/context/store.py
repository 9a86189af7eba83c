"""Persist the index under <root>/.codegen/index/ so a restart only re-parses changed files.

A record travels as a `Row` of plain tuples, lists and strings: marshal writes and reads that
layout fast, and the parse workers (``parse_pool``) send the same rows back to the daemon. The
cache file is sealed with this user's key (``trust.state``), since a cloned repository can carry
any ``.codegen/index/`` it likes and ``marshal`` must never read bytes codegen did not write.
"""

from __future__ import annotations

import gc
import logging
import marshal
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..trust.files import STATE_DIR, RefusedPath, state_dir
from ..trust.notices import ignored
from ..trust.state import load_bytes, save_bytes
from .tags import Definition, FileTags

log = logging.getLogger(__name__)

# Bump when the record layout or the tag queries change, so old caches are ignored.
FORMAT_VERSION = 1
CACHE_NAME = "tags.marshal"
#: What the seal says the file is.
PURPOSE = "context-index"
#: The largest cache read back: ~15x the 17 MB of a 5,200-file, 1.8M-line workspace (scale_bench).
CACHE_LIMIT = 256 * 1024 * 1024
REMEDY = "codegen indexes the workspace again and writes its own cache (.codegen/index/ is safe to delete)"

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
    return root / STATE_DIR / "index" / CACHE_NAME


def cache_exists(root: Path) -> bool:
    """Whether a cache file is there (a regular file: a planted link or FIFO is to be replaced)."""
    try:
        return stat.S_ISREG(os.lstat(cache_path(root)).st_mode)
    except OSError:
        return False


def load(root: Path, query_digest: str) -> dict[str, FileRecord]:
    """The persisted records; a cache that is absent, outdated or not ours reads as empty.

    The cache is sealed (``trust.state``): one that came with the files, is a link, a device or a
    FIFO, or is damaged is ignored with one warning, and ``marshal`` (not safe on hostile input)
    only ever reads bytes this user's codegen wrote.
    """
    try:
        path = state_dir(root, "index") / CACHE_NAME
        payload = load_bytes(path, PURPOSE, REMEDY, CACHE_LIMIT)
    except RefusedPath as error:
        ignored(error.path, error.why, REMEDY)
        return {}
    except OSError as error:  # codegen's key cannot be read (the message says what to do), or I/O
        log.warning("not reading the context index cache of %s: %s", root, error)
        return {}
    if payload is None:
        return {}
    with gc_paused():
        try:
            data = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            data = None
        if not (isinstance(data, tuple) and len(data) == 3 and isinstance(data[2], list)):
            ignored(path, "it is not an index cache this codegen can read", REMEDY)
            return {}
        if data[:2] != (FORMAT_VERSION, query_digest):
            return {}  # written before the format or the tag queries changed: re-parse
        try:
            return {row[0]: from_row(_checked(row)) for row in data[2]}
        except (_Malformed, TypeError):  # TypeError: from_row met a definition of the wrong length
            ignored(path, "a record in it is malformed", REMEDY)
            return {}


class _Malformed(Exception):
    """A cache row that is not what ``to_row`` writes."""


def _checked(row: Any) -> Row:
    """``row``, if it has the shape ``Row`` describes; raises _Malformed otherwise.

    Only the layout is checked (a definition of the wrong length fails in ``from_row``): the rows
    come from a sealed cache, so this guards against a layout this code does not know, and checking
    each of a million values would cost more than the whole load.
    """
    if not (type(row) is tuple and len(row) == 7 and type(row[0]) is str and type(row[1]) is str
            and type(row[2]) is int and type(row[3]) is int and type(row[4]) is list
            and type(row[5]) is dict and type(row[6]) is list):
        raise _Malformed
    return row


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a cache is read (or a tree parsed: ``parse_pool``).

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
    """Write the records sealed and atomically (temp file + rename): a crash never leaves half a cache.

    Raises OSError when it cannot be written; a symlinked .codegen or index folder is never written
    through (one warning, nothing saved).
    """
    from ..store.runs import codegen_dir  # not at import: parse workers load this module too

    payload = marshal.dumps((FORMAT_VERSION, query_digest, [to_row(r) for r in records.values()]))
    try:
        folder = state_dir(root, "index", create=True)
    except RefusedPath as error:
        ignored(error.path, error.why, REMEDY)
        return
    if len(payload) > CACHE_LIMIT:  # it would be refused when read back
        log.info("the context index of %s (%d bytes) is too large to cache", root, len(payload))
        return
    codegen_dir(root)
    save_bytes(folder / CACHE_NAME, payload, PURPOSE)
