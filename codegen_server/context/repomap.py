"""The repo map: file paths with the signatures of their most relevant definitions, bodies elided.

The map holds the largest prefix of the ranking whose exact token count fits the budget, then
up to SKIP_AHEAD later candidates that still fit one by one (the next candidate may be a long
signature; a few shorter ones after it may fit). Rendering and counting the whole map for every
tried prefix is what used to cost most, so the prefix is found in two passes:

1. An estimate: the ranking is walked once, adding each candidate's lines (its signature, its
   enclosing class if not shown yet, a file header, the "⋮" between distant lines), each line's
   count remembered by its text. Token counts are (very nearly) additive over lines, so this lands
   on or next to the cut.
2. Exact counts from there: the map is held as one text block per file; a block starts a line
   with a printable ASCII character (its path), where the tokenizer always cuts (``tokens``), so
   the map's exact count is the sum of its blocks' counts. Moving the cut by one candidate
   re-renders and recounts one block, until the prefix fits and one more would not.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from .rank import Graph, Ranking
from .store import FileRecord
from .tags import Definition
from .tokens import count_tokens

SKIP_AHEAD = 12
ELISION = "⋮"
#: A block whose path starts like this begins where the tokenizer always cuts (see ``tokens``).
_CUT_BEFORE = re.compile(r"[!-~]")
#: Remembered counts of lines and blocks, keyed by text; cleared past this many characters.
MAX_REMEMBERED_CHARS = 8_000_000
_remembered: dict[str, int] = {}
_remembered_chars = 0


@dataclass
class RepoMap:
    """A rendered map and what it holds."""

    text: str
    tokens: int
    files: list[str]
    definitions: int


def _count(text: str) -> int:
    """count_tokens, remembered: warm maps count the same lines and blocks again and again."""
    global _remembered_chars
    count = _remembered.get(text)
    if count is None:
        if _remembered_chars > MAX_REMEMBERED_CHARS:
            _remembered.clear()
            _remembered_chars = 0
        count = _remembered[text] = count_tokens(text)
        _remembered_chars += len(text)
    return count


def _estimated(line: str) -> int:
    """A line's estimated share of a map's tokens: its own count (the exact pass corrects any error)."""
    return _count(line)


def _gaps(definitions: list[Definition], before: int | None, index: int) -> int:
    """1 if the map shows an elision line between shown definition ``before`` and ``index``."""
    if before is None:
        return 0
    definition = definitions[index]
    return int(definition.parent < 0 and definition.line > definitions[before].line + 1)


@dataclass
class _FileBlock:
    """The shown definitions of one file (indexes, ascending: the file's order) and their text."""

    path: str
    definitions: list[Definition]
    shown: list[int] = field(default_factory=list)
    text: str | None = None  # rendered lazily, dropped on change
    counts: dict[bool, int] = field(default_factory=dict)  # last block or not -> tokens

    def changed(self) -> None:
        self.text = None
        self.counts.clear()

    def tokens(self, last: bool) -> int:
        """Exact tokens of this block as the map's last block, or followed by the blank line before the next."""
        count = self.counts.get(last)
        if count is None:
            count = self.counts[last] = _count(self.render() if last else self.render() + "\n")
        return count

    def render(self) -> str:
        if self.text is None:
            definitions = self.definitions
            out = [f"{self.path}:"]
            previous = None
            for index in self.shown:
                if _gaps(definitions, previous, index):
                    out.append(ELISION)
                out.append(definitions[index].signature)
                previous = index
            out.append("")
            self.text = "\n".join(out)
        return self.text


class _Layout:
    """A map under construction: file blocks in order of first appearance in the ranking.

    File order equals the old render's order (files by their best candidate's score) because the
    ranking is sorted by score and a file's first candidate is its best.
    """

    def __init__(self, records: dict[str, FileRecord], graph: Graph) -> None:
        self.records = records
        self.graph = graph
        self.blocks: dict[int, _FileBlock] = {}
        self.order: list[int] = []  # file ids
        self._separable = True  # every block after the first starts where the tokenizer cuts

    def new_definitions(self, candidate: int) -> tuple[int, list[int]]:
        """(file id, definitions a candidate would add): itself and enclosing ones not yet shown."""
        fid = int(self.graph.cand_file[candidate])
        index = int(self.graph.cand_def[candidate])
        block = self.blocks.get(fid)
        shown = block.shown if block is not None else []
        definitions = block.definitions if block is not None else self.records[self.graph.files[fid]].tags.definitions
        added: list[int] = []
        # Show the enclosing class (etc.) of a member, so a method is never orphaned.
        while index >= 0 and not _contains(shown, index) and index not in added:
            added.append(index)
            index = definitions[index].parent
        return fid, added

    def add(self, fid: int, added: list[int]) -> None:
        block = self.blocks.get(fid)
        if block is None:
            path = self.graph.files[fid]
            block = self.blocks[fid] = _FileBlock(path, self.records[path].tags.definitions)
            self.order.append(fid)
            if len(self.order) > 1 and not _CUT_BEFORE.match(path):
                self._separable = False
        for index in added:
            block.shown.insert(bisect_left(block.shown, index), index)
        if added:
            block.changed()

    def remove(self, fid: int, added: list[int]) -> None:
        """Undo ``add(fid, added)``; the most recent add first."""
        block = self.blocks[fid]
        for index in added:
            block.shown.pop(bisect_left(block.shown, index))
        block.changed()
        if not block.shown:
            del self.blocks[fid]
            self.order.remove(fid)
            self._separable = all(_CUT_BEFORE.match(self.graph.files[f]) for f in self.order[1:])

    def text(self) -> str:
        # Blocks end with a line break; a blank line between files.
        return "\n".join(self.blocks[fid].render() for fid in self.order)

    def tokens(self) -> int:
        """Exact token count of ``text()``."""
        if not self.order:
            return 0
        if not self._separable:
            return count_tokens(self.text())
        last = self.order[-1]
        return sum(self.blocks[fid].tokens(fid == last) for fid in self.order)

    def files(self) -> list[str]:
        return [self.graph.files[fid] for fid in self.order]


def _contains(ordered: list[int], value: int) -> bool:
    position = bisect_left(ordered, value)
    return position < len(ordered) and ordered[position] == value


class _Estimate:
    """The ranking walked once: each prefix's definitions to add, and its estimated token count."""

    def __init__(self, records: dict[str, FileRecord], graph: Graph, order: _Order) -> None:
        self.layout = _Layout(records, graph)
        self.order = order
        self.steps: list[tuple[int, list[int]]] = []  # per candidate in order: (file id, added)
        self.totals: list[int] = [0]  # estimated tokens of each prefix
        self._elision = _estimated(ELISION + "\n")

    def extend(self) -> bool:
        """Walk one more candidate; False at the end of the ranking."""
        candidates = self.order.first(len(self.steps) + 1)
        if len(self.steps) >= len(candidates):
            return False
        layout = self.layout
        fid, added = layout.new_definitions(candidates[len(self.steps)])
        block = layout.blocks.get(fid)
        cost = 0
        if block is None:
            path = layout.graph.files[fid]
            # The blank line between files mostly merges into the line break before it: not counted.
            cost += _estimated(f"{path}:\n")
            definitions = layout.records[path].tags.definitions
            shown: list[int] = []
        else:
            definitions, shown = block.definitions, block.shown
        shown = list(shown)
        for index in added:
            position = bisect_left(shown, index)
            before = shown[position - 1] if position else None
            after = shown[position] if position < len(shown) else None
            elisions = _gaps(definitions, before, index)
            if after is not None:
                elisions += _gaps(definitions, index, after) - _gaps(definitions, before, after)
            cost += _estimated(definitions[index].signature + "\n") + elisions * self._elision
            shown.insert(position, index)
        layout.add(fid, added)
        self.steps.append((fid, added))
        self.totals.append(self.totals[-1] + cost)
        return True


class _Order:
    """The first candidates of a ranking, fetched as far as the map needs (sorting all costs more)."""

    def __init__(self, ranking: Ranking, wanted: int) -> None:
        self.ranking = ranking
        self.wanted = wanted
        self.items: list[int] = []

    def first(self, count: int) -> list[int]:
        if len(self.items) < min(count, self.wanted):
            fetch = min(self.wanted, max(count, 2 * len(self.items), 256))
            self.items = self.ranking.top(fetch).tolist()
        return self.items


def build_repo_map(records: dict[str, FileRecord], graph: Graph, ranking: Ranking, budget: int) -> RepoMap:
    """The largest top-ranked map whose exact token count is within `budget`, then up to
    SKIP_AHEAD later candidates that still fit."""
    size = ranking.size()
    if budget <= 0 or size == 0:
        return RepoMap("", 0, [], 0)
    # Every rendered definition costs at least one token, so more than `budget` never fits.
    limit = min(size, budget)
    order = _Order(ranking, limit + 1 + SKIP_AHEAD)
    estimate = _Estimate(records, graph, order)
    while estimate.totals[-1] <= budget and len(estimate.steps) < limit and estimate.extend():
        pass
    cut = max(k for k, total in enumerate(estimate.totals) if total <= budget)

    layout = _Layout(records, graph)
    for fid, added in estimate.steps[:cut]:
        layout.add(fid, added)
    tokens = layout.tokens()
    if tokens > budget:
        while tokens > budget:  # the estimate was low: drop candidates until the prefix fits
            cut -= 1
            layout.remove(*estimate.steps[cut])
            tokens = layout.tokens()
    else:
        while cut < limit:  # the estimate was high (or exact): add while one more still fits
            if cut == len(estimate.steps) and not estimate.extend():
                break
            layout.add(*estimate.steps[cut])
            more = layout.tokens()
            if more > budget:
                layout.remove(*estimate.steps[cut])
                break
            cut, tokens = cut + 1, more

    chosen = cut
    for candidate in order.first(cut + 1 + SKIP_AHEAD)[cut + 1:cut + 1 + SKIP_AHEAD]:
        fid, added = layout.new_definitions(candidate)
        layout.add(fid, added)
        more = layout.tokens()
        if more <= budget:
            chosen, tokens = chosen + 1, more
        else:
            layout.remove(fid, added)
    return RepoMap(layout.text(), tokens, layout.files(), chosen)
