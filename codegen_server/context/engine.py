"""The context engine's front door: index, repo map and focused context behind one call."""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .culprits import FAILURE_SECTIONS, failure_pieces, suspect_pieces
from .failures import FailureTrace, parse_test_output
from .focus import RANGE_SECTIONS, range_pieces
from .graph_update import update_graph
from .index import IndexStats, WorkspaceIndex
from .output import trim_output
from .pieces import Piece, pack, render
from .rank import Focus, Graph, Ranking, focus_from_text, rank
from .repomap import build_repo_map
from .resolve import Resolver, is_test_path
from .spectrum import Suspect
from .store import FileRecord
from .task_files import TASK_SECTIONS, task_file_pieces
from .tokens import count_tokens, preload, truncate_to_budget
from .walk import walk_sources
from .watch import ChangeTracker

TEST_FILE_FOCUS = 0.2  # how much a quoted test's file steers the map, next to 1.0 for quoted product code
MAP_SHARE = 0.1  # the least share of the budget kept for the repo map when focused context is there
OUTPUT_SHARE = 0.3  # runner output nobody could parse into failures: at most this share, head and tail
MAP_TITLE = "## Repository map (signatures only, bodies elided)"
#: Said once above quoted code, so a model copies context lines without the number column.
QUOTING_NOTE = "(Code is quoted with its line numbers; `>` marks the lines in question. Neither is part of the files.)"


@dataclass
class ContextResult:
    """What would be sent to the model, and how it was made."""

    text: str
    tokens: int
    budget: int
    files: list[str]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    sections: list[str] = field(default_factory=list)
    failures: list[FailureTrace] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text, "tokens": self.tokens, "budget": self.budget, "files": self.files,
            "timings": self.timings, "sections": self.sections,
            "failures": [
                {"test_id": f.test_id, "runner": f.runner, "message": f.message,
                 "frames": [{"path": fr.path, "line": fr.line, "function": fr.function} for fr in f.frames]}
                for f in self.failures
            ],
        }


class ContextEngine:
    """Index of one workspace plus the ranked map and focused context built from it.

    Thread-safety: `refresh()` may run in a worker thread while `update_document()` runs on the
    event loop; the index serialises its own state and the graph is rebuilt under a lock.
    """

    def __init__(self, root: Path) -> None:
        self.index = WorkspaceIndex(Path(root))
        self.root = self.index.root
        self._graph: Graph | None = None
        self._graph_records: dict[str, FileRecord] = {}
        self._graph_generation = -1
        self._resolver: Resolver | None = None
        self._resolver_generation = -1
        #: Files changed on disk, as a watcher reports them; without one each refresh walks the tree.
        self.changes = ChangeTracker()
        self._graph_lock = threading.Lock()
        self._refreshed = False

    def refresh(self) -> IndexStats:
        """(Re)index from disk; unchanged files come from the persisted cache.

        Once indexed, while a watcher reports changes, only the files it reported are re-read.
        """
        changed, walked = self.changes.take_with_walk()  # taken before the walk: what it reported, the walk sees
        # The map after the first index counts tokens: the tokenizer loads in a thread while the files
        # parse, not during the walk, whose GIL it would mostly hold (delaying the parse workers' start).
        listed_hook = None if self._refreshed else preload
        if not self._refreshed:
            changed = None
        elif walked is not None:
            self.index.refresh(walked)  # the walk made when the watcher started; ``changed``: what came after
        stats = self.index.refresh_paths(changed) if changed is not None else None
        if stats is None:
            stats = self.index.refresh(listed_hook=listed_hook)
        self._refreshed = True
        return stats

    def watch_started(self) -> None:
        """A watcher has just attached: walk the tree now, off the request path, so that the next
        refresh need not (what the walk cannot have seen, the watcher reports)."""
        self.changes.settle(walk_sources(self.root))

    def update_document(self, path: str, text: str) -> None:
        """Apply an editor buffer (didOpen/didChange): incremental re-parse of that file only."""
        self.index.update_document(path, text)

    def close_document(self, path: str) -> None:
        """The editor closed the buffer: the disk is the truth again for that file."""
        self.index.close_document(path)

    def _resolver_for(self) -> Resolver:
        """The current records' resolver, kept while the index does not change and built only when
        focused context needs it (its name tables take longer to build than a warm map)."""
        with self._graph_lock:
            generation = self.index.generation
            if self._resolver is None or self._resolver_generation != generation:
                self._resolver = Resolver(self.index, self.index.records())
                self._resolver_generation = generation
            return self._resolver

    def graph(self) -> Graph:
        """The reference graph of the current records."""
        return self._graph_and_records()[0]

    def _graph_and_records(self) -> tuple[Graph, dict[str, FileRecord]]:
        """The graph and the records it was built from (the map renders those, not newer ones)."""
        with self._graph_lock:
            if self._graph is None or self._graph_generation != self.index.generation:
                generation = self.index.generation
                records = self.index.records()
                self._graph = update_graph(self._graph, self._graph_records, records)
                self._graph_records = records
                self._graph_generation = generation
            return self._graph, self._graph_records

    def build(
        self,
        *,
        task: str = "",
        path: str | None = None,
        line_range: tuple[int, int] | None = None,
        test_output: str | None = None,
        reported: Sequence[FailureTrace] = (),
        open_files: Sequence[str] = (),
        whole_files: bool = False,
        budget: int = 4096,
        suspects: Sequence[Suspect] = (),
    ) -> ContextResult:
        """Context for a task within `budget` tokens (exact count, never over).

        `line_range` is 1-based and inclusive, within `path`. `test_output` is a test runner's
        output; its failures become focused sections (`reported`, the failures the runner's own
        report lists, stand in when none can be read from the output). `whole_files` (a task that
        changes the workspace): the files the task most likely touches, whole, with their tests.
        `suspects` (lines ranked by a coverage run of the failing tests, `spectrum.ochiai`): the
        functions ranked first among the failures' culprits.
        The rest of the budget holds the repo map, personalised towards the task text, `path`,
        `open_files` and the failing tests' files.
        """
        if budget < 0:
            raise ValueError("budget must be >= 0")
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if not self._refreshed:
            self.refresh()
            timings["index"] = time.perf_counter() - started

        step = time.perf_counter()
        pieces: list[Piece] = []
        failures = (parse_test_output(test_output) if test_output else []) or list(reported)
        if failures:
            pieces += failure_pieces(self._resolver_for(), failures, test_output, suspects)
        elif test_output and test_output.strip():
            # Output no parser understood (a crash, a build error): the model still needs to read it.
            raw = trim_output(test_output, int(budget * OUTPUT_SHARE), listed=False)
            pieces.append(Piece("Test output", f"```\n{raw}\n```"))
            if suspects:
                pieces += suspect_pieces(self._resolver_for(), suspects)
        if path is not None and line_range is not None:
            pieces += range_pieces(self._resolver_for(), path, line_range[0], line_range[1])
        if whole_files:
            graph, _ = self._graph_and_records()
            focus = self._task_focus(graph, task, path, open_files)
            pieces += task_file_pieces(self._resolver_for(), graph, focus, rank(graph, focus))
        focused_budget = budget - int(budget * MAP_SHARE) if pieces else 0
        packed = pack(pieces, focused_budget)
        focused, titles = render(packed, FAILURE_SECTIONS + RANGE_SECTIONS + TASK_SECTIONS)
        if packed.chosen and any(piece.span is not None for piece, _ in packed.chosen):
            focused = f"{QUOTING_NOTE}\n\n{focused}"
        timings["focus"] = time.perf_counter() - step

        step = time.perf_counter()
        graph, records = self._graph_and_records()
        focus = self._task_focus(graph, task, path, open_files)
        for piece, _ in packed.chosen:
            for file in piece.files:
                # The map's room is better spent on the code under test than on the rest of a test file.
                focus.files.setdefault(file, TEST_FILE_FOCUS if is_test_path(file) else 1.0)
            focus.identifiers |= {name for name in piece.identifiers if name in graph.name_ids}
        # Definitions (and files) quoted whole above need not take room in the map again.
        quoted = {piece.key for piece, form in packed.chosen if piece.key is not None and form is piece.text}
        whole = {piece.span[0] for piece, form in packed.chosen
                 if piece.span is not None and form is piece.text and piece.span[1] == 0 and piece.section in TASK_SECTIONS}
        ranking = rank(graph, focus, _quoted_candidates(graph, records, quoted, whole))
        timings["rank"] = time.perf_counter() - step

        step = time.perf_counter()
        text, map_files, tokens = self._fit(records, graph, ranking, focused, budget)
        timings["map"] = time.perf_counter() - step
        timings["total"] = time.perf_counter() - started

        files: list[str] = []
        for file in packed.files + map_files:
            if file not in files:
                files.append(file)
        titles = titles + ([MAP_TITLE[3:]] if map_files else [])
        return ContextResult(text, tokens, budget, files, timings, titles, failures)

    def _task_focus(self, graph: Graph, task: str, path: str | None, open_files: Sequence[str]) -> Focus:
        """What the ranking leans towards: what the task names, the file in question, the open files."""
        focus = focus_from_text(graph, task)
        for extra in [path, *open_files]:
            if extra:
                focus.files[self.index.relative(extra)] = 1.0
        return focus

    def _fit(
        self, records: dict[str, FileRecord], graph: Graph, ranking: Ranking, focused: str, budget: int
    ) -> tuple[str, list[str], int]:
        """Focused text plus the biggest repo map that keeps the whole within budget, and its token count."""
        prefix = focused + "\n\n" if focused else ""
        remaining = budget - count_tokens(prefix + MAP_TITLE + "\n")
        while remaining > 0:
            repo_map = build_repo_map(records, graph, ranking, remaining)
            if not repo_map.text:
                break
            text = f"{prefix}{MAP_TITLE}\n{repo_map.text}"
            tokens = count_tokens(text)
            if tokens <= budget:
                return text, repo_map.files, tokens
            remaining -= tokens - budget  # joining can merge or split tokens at the seams; shrink and retry
        text = truncate_to_budget(focused, budget)
        return text, [], count_tokens(text)


def _quoted_candidates(graph: Graph, records: dict[str, FileRecord], quoted: set[tuple[str, int]],
                       whole: set[str] = frozenset()) -> np.ndarray | None:
    """Which candidates are definitions (path, first line) already quoted whole, or in ``whole`` files
    quoted whole; None if none are."""
    if not quoted and not whole:
        return None
    hidden = np.zeros(len(graph.cand_file), dtype=bool)
    for path in whole:
        fid = graph.file_ids.get(path)
        if fid is not None:
            low, high = np.searchsorted(graph.cand_file, [fid, fid + 1])
            hidden[low:high] = True
    for path, line in quoted:
        fid = graph.file_ids.get(path)
        if fid is None:
            continue
        definitions = records[path].tags.definitions
        # A file's candidates are one block of the candidate arrays.
        low, high = np.searchsorted(graph.cand_file, [fid, fid + 1])
        for candidate in range(low, high):
            if definitions[graph.cand_def[candidate]].line == line:
                hidden[candidate] = True
    return hidden


_engines: dict[Path, ContextEngine] = {}
_engines_lock = threading.Lock()


def engine_for(root: str | Path) -> ContextEngine:
    """The shared engine of a workspace root (one per resolved path per process)."""
    key = Path(root).resolve()
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            if not _engines:
                atexit.register(flush_caches)
            engine = _engines[key] = ContextEngine(key)
            engine.index.save_in_background = True  # a request (the daemon's, the CLI's) never waits for it
        return engine


def flush_caches() -> None:
    """Write every index cache a background save still holds (the process is ending)."""
    with _engines_lock:
        engines = list(_engines.values())
    for engine in engines:
        engine.index.flush()


def stop_indexing() -> None:
    """Stop every refresh in progress (the process is ending); they raise parse_pool.Interrupted."""
    with _engines_lock:
        engines = list(_engines.values())
    for engine in engines:
        engine.index.stopping.set()
