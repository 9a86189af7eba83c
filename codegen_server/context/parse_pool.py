"""Parse many files at once in worker processes, so a cold index uses every core.

Workers are spawned, never forked: the daemon is multi-threaded, and a forked child can inherit
a lock some other thread held. Each worker imports only this module's light dependencies
(tree-sitter, the grammars it meets, the tag extraction), reads its files itself and sends back
the same plain rows ``store`` persists, marshalled, so little crosses the pipe either way.

A pool lives for one refresh: large refreshes (the first index, a branch switch) are rare, and
idle workers kept for the next one would hold tens of megabytes each in a long-lived daemon,
while spawning them costs a fraction of a second next to the seconds of parsing they take over.
This process is one of the parsers: it parses the smallest files, from the other end of the list,
until none is left, so a machine with N cores runs N - 1 workers (spawning one costs ~0.1 s of CPU,
which a worker that only kept this process idle would not pay back).
If the pool cannot start or a worker dies, whatever it did not deliver is parsed in-process,
with a warning: a refresh never loses files to the pool.
"""

from __future__ import annotations

import logging
import marshal
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path

from .store import FileRecord, from_row, gc_paused, to_row
from .tags import extract
from .walk import SourceFile, looks_generated_or_binary

log = logging.getLogger(__name__)

#: Less source than this is parsed in-process. Parsing takes ~0.2 s per MB on one core here and
#: starting two workers ~0.3 s, so below a few MB the pool would cost more than it saves.
PARALLEL_MIN_BYTES = 2_000_000
MAX_WORKERS = 8
#: One task's share of the work: enough source that per-task overhead stays small, small enough
#: that both workers stay busy to the end.
BATCH_BYTES = 256 * 1024
BATCH_FILES = 64
#: Near the end, a batch is this share of the source not handed out yet (this process parses the rest
#: meanwhile), down to MIN_BATCH_BYTES: the last batches are short, and no side waits long for the other.
TAIL_SHARE = 8
MIN_BATCH_BYTES = 16 * 1024
#: Number of parse processes beside this one, which parses too; 0 parses in-process only (the
#: benchmark's serial figure uses it).
WORKERS_ENV = "CODEGEN_INDEX_WORKERS"


class Interrupted(Exception):
    """The parse was told to stop (the daemon is shutting down): nothing of it is kept."""


@dataclass
class ParseResult:
    """Records by path (None for a file that is unreadable, binary or generated) and how many
    worker processes parsed them (0: all in-process)."""

    records: dict[str, FileRecord | None]
    workers: int


def worker_count() -> int:
    """How many parse processes to start beside this one: $CODEGEN_INDEX_WORKERS, else one fewer than the
    cores this process may run on (this process parses as well)."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured:
        try:
            return max(0, int(configured))
        except ValueError:
            log.warning("ignoring %s=%r: not a whole number", WORKERS_ENV, configured)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(MAX_WORKERS, cores - 1)


def parse_file(root: Path, path: str, language: str, mtime_ns: int, size: int) -> FileRecord | None:
    """The record of one file read from disk, or None if it is unreadable, binary or generated."""
    try:
        source = (root / path).read_bytes()
    except OSError:
        return None
    if looks_generated_or_binary(source[:8192]):
        return None
    return FileRecord(path, mtime_ns, size, extract(language, source))


def parse_files(root: Path, files: Iterable[SourceFile], workers: int, stop: threading.Event | None = None,
                listed_hook: Callable[[], None] | None = None) -> ParseResult:
    """Parse `files` under `root`: here and in `workers` processes when there are enough of them, else here.

    `files` may be a walk still under way (an iterator): the workers are started as soon as it has
    listed PARALLEL_MIN_BYTES of source, so that their start-up (~0.1 s) overlaps the rest of the walk.
    `listed_hook` is called once every file is listed, before any is parsed: work started there
    (the engine loads its tokenizer in a thread) no longer slows the walk down.
    Raises Interrupted soon after `stop` is set (between files, or between a pool's batches).
    """
    # The records are a million small containers, none in a cycle: the collector, triggered by their
    # allocation, would rescan the growing heap ~90 times on Django (~0.04 s of this process's time).
    with gc_paused():
        return _parse_files(root, files, workers, stop or threading.Event(), listed_hook)


def _parse_files(root: Path, files: Iterable[SourceFile], workers: int, stop: threading.Event,
                 listed_hook: Callable[[], None] | None) -> ParseResult:
    """``parse_files``, with the collector paused."""
    listed: list[SourceFile] = []
    pool = _list_files(files, workers, listed)
    if listed_hook is not None:
        listed_hook()
    results: dict[str, FileRecord | None] = {}
    used = 0
    if pool is not None:
        used = workers
        log.info("parsing %d files under %s in %d worker processes", len(listed), root, used)
        try:
            failure = _parse_in_pool(pool, root, _jobs(listed), used, results, stop)
        except (OSError, RuntimeError) as error:  # no processes to be had (limits, a sandbox)
            failure = error
        if failure is not None:
            log.warning("parse workers failed (%s: %s); parsing %d of %d files in-process",
                        type(failure).__name__, failure, len(listed) - len(results), len(listed))
    for file in listed:
        if stop.is_set():
            raise Interrupted(f"parsing {root} stopped")
        if file.path not in results:
            results[file.path] = parse_file(root, file.path, file.language, file.mtime_ns, file.size)
    return ParseResult(results, used)


def _list_files(files: Iterable[SourceFile], workers: int, listed: list[SourceFile]) -> ProcessPoolExecutor | None:
    """Append `files` to `listed`; the pool started once they reach PARALLEL_MIN_BYTES, if `workers`
    allow one and it can start, else None (the files are parsed in-process)."""
    pool = None
    weight = 0
    try:
        for file in files:
            listed.append(file)
            weight += file.size
            if pool is None and workers >= 1 and weight >= PARALLEL_MIN_BYTES:
                pool = _start_pool(workers)
                if pool is None:
                    workers = 0  # it could not start: not again
    except BaseException:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    return pool


def _start_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool whose `workers` processes are being spawned now (the executor spawns one per task
    submitted while none is idle), or None if no process can be had (limits, a sandbox)."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)
    try:
        for _ in range(workers):
            pool.submit(_started)
    # BrokenProcessPool is a RuntimeError. ValueError: a worker died while the next one was being
    # spawned, and the pool closed the pipes the new one was to inherit ("bad value(s) in fds_to_keep").
    except (OSError, RuntimeError, ValueError) as error:
        log.warning("parse workers failed to start (%s: %s); parsing in-process", type(error).__name__, error)
        _kill_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)
        return None
    return pool


Job = tuple[str, str, int, int]  # (path, language, mtime_ns, size): what a worker needs of a SourceFile


def _jobs(files: list[SourceFile]) -> deque[Job]:
    """The files as jobs, the biggest first: workers take them from the front, this process from the back."""
    return deque((f.path, f.language, f.mtime_ns, f.size) for f in sorted(files, key=lambda f: f.size, reverse=True))


def _parse_in_pool(pool: ProcessPoolExecutor, root: Path, pending: deque[Job], workers: int,
                   results: dict[str, FileRecord | None], stop: threading.Event) -> BaseException | None:
    """Fill `results` from `pool` (of `workers`) and this process, then shut the pool down; the first
    failure, if any batch was not delivered.

    Each worker is kept a batch ahead, no more, with batches from the front of `pending` (the biggest
    files); a batch is BATCH_BYTES at most, and near the end a TAIL_SHARE of the source not handed
    out yet, so that the workers' last batches end about when this process runs out of files. This
    process parses the files at the other end (the smallest) one by one from the start (while the
    workers spawn) until none is left, collecting the workers' results between its files. Jobs
    never handed out after a failure are left to the caller. Once `stop` is set, the batches not
    started are dropped and Interrupted is raised.
    """
    failure: BaseException | None = None
    futures: dict[Future[bytes], list[Job]] = {}
    left = sum(job[3] for job in pending)  # bytes in `pending`

    def next_batch() -> list[Job]:
        nonlocal left
        limit = max(MIN_BATCH_BYTES, min(BATCH_BYTES, left // TAIL_SHARE))
        batch = [pending.popleft()]
        weight = batch[0][3]
        while pending and len(batch) < BATCH_FILES and weight + pending[0][3] <= limit:
            batch.append(pending.popleft())
            weight += batch[-1][3]
        left -= weight
        return batch

    def feed() -> BaseException | None:
        try:
            while pending and len(futures) < 2 * workers:
                batch = next_batch()
                futures[pool.submit(_parse_batch, str(root), batch)] = batch
        except BrokenProcessPool as error:  # a worker died while batches were being handed out
            return error
        return None

    def collect(done: set[Future[bytes]]) -> None:
        nonlocal failure
        for future in done:
            batch = futures.pop(future)
            try:
                rows = marshal.loads(future.result())
            except Exception as error:  # a dead worker (BrokenProcessPool) or an error while parsing
                failure = failure or error
                continue
            for (path, *_), row in zip(batch, rows):
                results[path] = None if row is None else from_row(row)

    try:
        failure = feed()
        while pending and failure is None:
            if stop.is_set():
                raise Interrupted(f"parsing {root} stopped")
            path, language, mtime_ns, size = pending.pop()
            left -= size
            results[path] = parse_file(root, path, language, mtime_ns, size)
            collect({future for future in futures if future.done()})
            if failure is None:
                failure = feed()
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            if stop.is_set():
                raise Interrupted(f"parsing {root} stopped")
            collect(done)
            if failure is None:
                failure = feed()
    finally:
        if failure is not None:
            _kill_workers(pool)
        # On an interrupt too: queued batches are dropped, running ones are short. Healthy workers
        # exit on their own once told to, and the pool's thread reaps them: waiting for their exit
        # here would hold the first map back by ~15 ms.
        pool.shutdown(wait=failure is not None, cancel_futures=True)
    return failure


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill whatever is left of a broken pool's workers, so that its shutdown returns.

    When a worker dies while another is still being spawned (on submit), Python 3.11's pool
    terminates the workers it knows of, then waits for all of them, including the one spawned
    just after, which was never told to stop: shutdown would wait forever. The pool keeps its
    workers in a private mapping; nothing public lists them.
    """
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()


def _init_worker() -> None:
    # Ctrl-C reaches the whole process group; the parent stops the pool, so workers ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: BaseProcess) -> None:
    """End this worker when its parent dies (a killed daemon must not leave parsers behind)."""
    parent.join()
    os._exit(1)


def _started() -> None:
    """A task that does nothing: submitted so that the pool spawns its workers before the first batch."""


def _parse_batch(root: str, jobs: list[Job]) -> bytes:
    """In a worker: the marshalled rows of `jobs` (None for each file not indexed)."""
    base = Path(root)
    rows = []
    for path, language, mtime_ns, size in jobs:
        record = parse_file(base, path, language, mtime_ns, size)
        rows.append(None if record is None else to_row(record))
    return marshal.dumps(rows)
