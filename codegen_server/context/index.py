"""The workspace index: tags for every source file, refreshed from disk or from editor buffers."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import tree_sitter as ts

from . import store
from .languages import QUERY_DIR, language_for_path
from .parse_pool import parse_files, worker_count
from .store import FileRecord
from .tags import FileTags, extract, parse
from .walk import MAX_FILE_BYTES, SourceFile, iter_sources

log = logging.getLogger(__name__)

MAX_OPEN_TREES = 64  # syntax trees kept for incremental re-parsing of edited documents
#: Seconds without a change a background save waits for, so that it runs between requests.
SAVE_DELAY = 1.0


@dataclass
class IndexStats:
    """What a refresh did."""

    files: int
    parsed: int
    reused: int
    removed: int
    definitions: int
    seconds: float
    workers: int = 0  # processes that parsed the changed files (0: parsed in-process)


@dataclass
class _OpenDocument:
    source: bytes
    tree: ts.Tree
    language: str


def _query_digest() -> str:
    digest = hashlib.sha256()
    # The extraction code and the queries decide what a record holds; a change invalidates the cache.
    for query in sorted(QUERY_DIR.glob("*.scm")) + [Path(__file__).with_name("tags.py")]:
        digest.update(query.name.encode() + query.read_bytes())
    return digest.hexdigest()[:16]


class WorkspaceIndex:
    """Tags of every indexable file under `root`.

    `refresh()` re-parses only files whose (mtime_ns, size) changed since the persisted cache, so
    an edit made outside the editor is noticed. `update_document()` applies an editor buffer,
    re-parsing incrementally from the previous syntax tree. Safe to call from several threads.
    """

    def __init__(self, root: Path, *, workers: int | None = None) -> None:
        self.root = root.resolve()
        #: Parse processes for a refresh with many changed files (parse_pool); None: one per core.
        self.workers = worker_count() if workers is None else workers
        self._lock = threading.RLock()
        self._records: dict[str, FileRecord] = {}
        self._open: OrderedDict[str, _OpenDocument] = OrderedDict()
        self._digest = _query_digest()
        self._loaded = False
        self.generation = 0  # bumped on every change, so derived data (the graph) knows it is stale
        #: Set when the process is ending: a refresh in progress raises parse_pool.Interrupted.
        self.stopping = threading.Event()
        #: Write the cache in a thread of its own, so that no request waits for it (the shared engines).
        self.save_in_background = False
        self._save_lock = threading.Lock()
        self._write_lock = threading.Lock()  # one write at a time: the saver's, or flush()'s at exit
        self._unsaved: dict[str, FileRecord] | None = None
        self._unsaved_at = 0.0
        self._saver: threading.Thread | None = None

    # -- reading -----------------------------------------------------------------------------
    def records(self) -> dict[str, FileRecord]:
        """A snapshot of the current records (path -> record)."""
        with self._lock:
            return dict(self._records)

    def get(self, path: str) -> FileRecord | None:
        with self._lock:
            return self._records.get(self.relative(path))

    def relative(self, path: str | Path) -> str:
        """Workspace-relative POSIX path for an absolute or relative path."""
        candidate = Path(path)
        if candidate.is_absolute():
            try:
                return candidate.resolve().relative_to(self.root).as_posix()
            except ValueError:
                return candidate.as_posix()
        return candidate.as_posix().removeprefix("./")

    def source(self, path: str) -> bytes | None:
        """The current text of a file: the editor buffer if open, else the disk content."""
        rel = self.relative(path)
        with self._lock:
            document = self._open.get(rel)
            if document is not None:
                return document.source
        try:
            return (self.root / rel).read_bytes()
        except OSError:
            return None

    # -- refreshing from disk ----------------------------------------------------------------
    def refresh(self, walked: list[SourceFile] | None = None,
                listed_hook: Callable[[], None] | None = None) -> IndexStats:
        """Bring the index up to date with the disk, reusing cached tags of unchanged files.

        ``walked``: the tree as a walk made a moment ago found it (``walk_sources``), instead of walking now.
        ``listed_hook``: called once the walk is over, before the parse (``parse_pool.parse_files``).
        """
        started = time.perf_counter()
        with self._lock:
            if not self._loaded:
                self._records = store.load(self.root, self._digest)
                self._loaded = True
            previous = dict(self._records)
            open_paths = set(self._open)
        kept: dict[str, FileRecord] = {}
        listed: list[SourceFile] = []  # every file the walk found

        def changed_files() -> Iterator[SourceFile]:
            """The files to parse, handed over as the walk finds them (a large parse starts its
            workers before the walk is over); those whose cached tags still hold go to ``kept``."""
            for source_file in iter_sources(self.root) if walked is None else walked:
                listed.append(source_file)
                old = previous.get(source_file.path)
                if source_file.path in open_paths and old is not None:
                    kept[source_file.path] = old  # the editor buffer is newer than the disk
                elif old is not None and (old.mtime_ns, old.size) == (source_file.mtime_ns, source_file.size):
                    kept[source_file.path] = old
                else:
                    yield source_file

        result = parse_files(self.root, changed_files(), self.workers, self.stopping, listed_hook)
        fresh: dict[str, FileRecord] = {}
        for source_file in listed:  # in the walk's (sorted) order, as before the parse was batched
            record = kept.get(source_file.path)
            if record is None:
                record = result.records[source_file.path]
            if record is not None:
                fresh[source_file.path] = record
        reused = len(kept)
        parsed = len(fresh) - reused
        removed = len(set(previous) - set(fresh))
        with self._lock:
            # Keep buffers applied by update_document while we were walking.
            for path in open_paths | set(self._open):
                if path in self._records:
                    fresh[path] = self._records[path]
            changed = parsed or removed or len(fresh) != len(self._records)
            self._records = fresh
            if changed:
                self.generation += 1
            records = dict(self._records)
        if changed or not store.cache_exists(self.root):
            self._save(records)
        definitions = sum(len(r.tags.definitions) for r in records.values())
        return IndexStats(len(records), parsed, reused, removed, definitions, time.perf_counter() - started,
                          result.workers)

    def refresh_paths(self, paths: set[str]) -> IndexStats | None:
        """Bring only ``paths`` (workspace-relative, reported changed by a file watcher) up to date.

        None when a full ``refresh()`` is needed instead: before the first one, or when a path is
        a folder or a .gitignore (what it holds, or what is ignored, is not known from the path).
        """
        from .watch import source_file_at  # the watcher's view of walk_sources, for one path

        started = time.perf_counter()
        with self._lock:
            if not self._loaded:
                return None
            known = set(self._records)
            open_paths = set(self._open)
        removed = 0
        updates: dict[str, FileRecord | None] = {}
        changed_files: list[SourceFile] = []
        for rel in sorted(paths):
            if rel.rsplit("/", 1)[-1] == ".gitignore" or any(path.startswith(rel + "/") for path in known):
                return None
            if (self.root / rel).is_dir():
                return None
            if rel in open_paths:
                continue  # the editor buffer is newer than the disk
            source_file = source_file_at(self.root, rel)
            old = self._records.get(rel)
            if source_file is None:
                if old is not None:
                    updates[rel] = None
                    removed += 1
            elif old is None or (old.mtime_ns, old.size) != (source_file.mtime_ns, source_file.size):
                changed_files.append(source_file)
        # A burst of changes (a branch switch under a watcher) is parsed in workers like a walk's.
        result = parse_files(self.root, changed_files, self.workers, self.stopping)
        for source_file in changed_files:
            record = updates[source_file.path] = result.records[source_file.path]
            removed += record is None and source_file.path in self._records
        parsed = sum(record is not None for record in result.records.values())
        with self._lock:
            for rel, record in updates.items():
                if rel in self._open:
                    continue
                if record is None:
                    self._records.pop(rel, None)
                else:
                    self._records[rel] = record
            if updates:
                self.generation += 1
            records = dict(self._records)
        if updates:
            self._save(records)
        definitions = sum(len(r.tags.definitions) for r in records.values())
        return IndexStats(len(records), parsed, len(records) - parsed, removed, definitions,
                          time.perf_counter() - started, result.workers)

    # -- the cache ---------------------------------------------------------------------------
    def _save(self, records: dict[str, FileRecord]) -> None:
        """Persist ``records``; with ``save_in_background``, later in a thread, the latest only.

        The write waits for SAVE_DELAY without changes (ten times that at most), so that it
        (pure Python for the most part: it holds the GIL) runs between requests, not beside one;
        ``flush()`` writes at once (at exit).
        """
        if not self.save_in_background:
            self._write(records)
            return
        with self._save_lock:
            self._unsaved = records  # a save still waiting is replaced: only the newest matters
            self._unsaved_at = time.monotonic()
            if self._saver is None:
                self._saver = threading.Thread(target=self._save_later, name="codegen-index-save", daemon=True)
                self._saver.start()

    def _save_later(self) -> None:
        first = time.monotonic()
        while True:
            time.sleep(SAVE_DELAY)
            with self._save_lock:
                if self._unsaved is None:
                    self._saver = None
                    return
                # Changes still coming (an editing session): wait for a quiet second, a while at most.
                busy = time.monotonic() - self._unsaved_at < SAVE_DELAY
            if busy and time.monotonic() - first < SAVE_DELAY * 10:
                continue
            self.flush()
            first = time.monotonic()

    def flush(self) -> None:
        """Write the records a background save still holds, now."""
        with self._write_lock:
            with self._save_lock:
                records, self._unsaved = self._unsaved, None
            if records is not None:
                self._write(records)

    def _write(self, records: dict[str, FileRecord]) -> None:
        try:
            store.save(self.root, self._digest, records)
        except OSError as error:  # a read-only workspace still gets an in-memory index
            log.warning("cannot write the context index cache under %s: %s", self.root, error)

    # -- editor buffers ----------------------------------------------------------------------
    def update_document(self, path: str, text: str) -> FileTags | None:
        """Apply an editor buffer: re-parse incrementally from the previous tree and re-tag.

        Returns the new tags, or None if the path is not an indexable source file.
        """
        rel = self.relative(path)
        language = language_for_path(rel)
        if language is None:
            return None
        source = text.encode("utf-8")
        if len(source) > MAX_FILE_BYTES:
            return None
        with self._lock:
            document = self._open.get(rel)
            if document is not None and document.language == language:
                if document.source == source:
                    return self._records[rel].tags if rel in self._records else None
                old_tree = document.tree
                old_tree.edit(**compute_edit(document.source, source))
                tree = parse(language, source, old_tree)
            else:
                tree = parse(language, source)
            tags = extract(language, source, tree)
            self._open[rel] = _OpenDocument(source, tree, language)
            self._open.move_to_end(rel)
            while len(self._open) > MAX_OPEN_TREES:
                self._open.popitem(last=False)
            old = self._records.get(rel)
            self._records[rel] = FileRecord(rel, old.mtime_ns if old else 0, old.size if old else 0, tags)
            self.generation += 1
            return tags

    def close_document(self, path: str) -> None:
        """Forget an editor buffer; the next refresh reads the file from disk again."""
        rel = self.relative(path)
        with self._lock:
            if self._open.pop(rel, None) is not None and rel in self._records:
                # Force a re-read: the buffer may never have been saved.
                record = self._records[rel]
                self._records[rel] = FileRecord(rel, -1, -1, record.tags)


def _point(source: bytes, offset: int) -> tuple[int, int]:
    row = source.count(b"\n", 0, offset)
    column = offset - (source.rfind(b"\n", 0, offset) + 1)
    return row, column


def compute_edit(old: bytes, new: bytes) -> dict[str, object]:
    """The single tree-sitter edit turning `old` into `new` (common prefix and suffix kept)."""
    limit = min(len(old), len(new))
    start = 0
    # Compare in chunks first: long common prefixes are the normal case for a keystroke.
    chunk = 4096
    while start + chunk <= limit and old[start:start + chunk] == new[start:start + chunk]:
        start += chunk
    while start < limit and old[start] == new[start]:
        start += 1
    old_end, new_end = len(old), len(new)
    while (
        old_end - chunk >= start and new_end - chunk >= start
        and old[old_end - chunk:old_end] == new[new_end - chunk:new_end]
    ):
        old_end -= chunk
        new_end -= chunk
    while old_end > start and new_end > start and old[old_end - 1] == new[new_end - 1]:
        old_end -= 1
        new_end -= 1
    return {
        "start_byte": start,
        "old_end_byte": old_end,
        "new_end_byte": new_end,
        "start_point": _point(old, start),
        "old_end_point": _point(old, old_end),
        "new_end_point": _point(new, new_end),
    }
