"""The repo map: file paths with the signatures of their most relevant definitions, bodies elided."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rank import Graph, Ranking
from .store import FileRecord
from .tokens import count_tokens

SKIP_AHEAD = 12


@dataclass
class RepoMap:
    """A rendered map and what it holds."""

    text: str
    tokens: int
    files: list[str]
    definitions: int


def render(records: dict[str, FileRecord], graph: Graph, chosen: np.ndarray, scores: np.ndarray) -> tuple[str, list[str]]:
    """Render the chosen candidates grouped by file (most relevant file first, lines in order)."""
    by_file: dict[int, list[int]] = {}
    best: dict[int, float] = {}
    for candidate in chosen.tolist():
        fid = int(graph.cand_file[candidate])
        by_file.setdefault(fid, []).append(int(graph.cand_def[candidate]))
        best.setdefault(fid, float(scores[candidate]))
    out: list[str] = []
    paths: list[str] = []
    for fid in sorted(by_file, key=lambda f: -best[f]):
        path = graph.files[fid]
        definitions = records[path].tags.definitions
        shown: set[int] = set()
        for index in by_file[fid]:
            # Show the enclosing class (etc.) of a member, so a method is never orphaned.
            while index >= 0 and index not in shown:
                shown.add(index)
                index = definitions[index].parent
        paths.append(path)
        out.append(f"{path}:")
        previous_end = -1
        for index in sorted(shown, key=lambda i: definitions[i].line):
            definition = definitions[index]
            if previous_end >= 0 and definition.line > previous_end + 1 and definitions[index].parent < 0:
                out.append("⋮")
            out.append(definition.signature)
            previous_end = definition.line
        out.append("")
    return "\n".join(out), paths


def build_repo_map(records: dict[str, FileRecord], graph: Graph, ranking: Ranking, budget: int) -> RepoMap:
    """The largest top-ranked map whose exact token count is within `budget`."""
    order = ranking.order
    if budget <= 0 or len(order) == 0:
        return RepoMap("", 0, [], 0)
    # Every rendered definition costs at least one token, so more than `budget` never fits.
    low, high = 0, min(len(order), budget)
    best_text, best_paths, best_tokens = "", [], 0
    while low < high:
        middle = (low + high + 1) // 2
        text, paths = render(records, graph, order[:middle], ranking.scores)
        tokens = count_tokens(text)
        if tokens <= budget:
            low = middle
            best_text, best_paths, best_tokens = text, paths, tokens
        else:
            high = middle - 1
    # The next candidate may be a long signature; a few shorter ones after it may still fit.
    chosen = list(order[:low])
    for candidate in order[low + 1:low + 1 + SKIP_AHEAD]:
        text, paths = render(records, graph, np.array(chosen + [candidate]), ranking.scores)
        tokens = count_tokens(text)
        if tokens <= budget:
            chosen.append(candidate)
            best_text, best_paths, best_tokens = text, paths, tokens
    return RepoMap(best_text, best_tokens, best_paths, len(chosen))
