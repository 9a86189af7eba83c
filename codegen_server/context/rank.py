"""Rank definitions by personalized PageRank over the file-level reference graph.

Nodes are files. Each reference to a name defined in another file adds an edge
referencing-file -> defining-file, labelled with the name. PageRank personalised towards the
files in focus (named in the task, open, edited, failing) ranks files; each definition then gets
the rank flowing into it along the edges carrying its name, plus a share of its file's rank.
"""

from __future__ import annotations

import builtins
import math
import re
import weakref
from bisect import bisect_left
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np

from .store import FileRecord

DAMPING = 0.85
ITERATIONS = 40
#: PageRank stops once the ranks move less than this per file on average (L1): the sum over the
#: whole graph grows with its size, so a fixed total would ask more of a large graph than a small one.
TOLERANCE_PER_FILE = 1e-9
MAX_DEFINERS = 40  # names defined in more files than this are too ambiguous to link
NESTED_PARENT_KINDS = frozenset({"function", "method"})  # definitions inside these are internals
MENTION_BOOST = 10.0
WEAK_MENTION_BOOST = 2.0
LOW_PRIOR_KINDS = frozenset({"constant", "field", "macro", "prototype"})


@dataclass(eq=False)  # compared by identity: tables derived from a graph are kept per graph
class Graph:
    """Arrays describing the reference graph, rebuilt (or spliced) when the index changes.

    Index arrays are np.intp: numpy gathers and bincounts with them without converting first.
    """

    files: list[str]
    file_ids: dict[str, int]
    names: list[str]
    name_ids: dict[str, int]
    definers: dict[str, list[int]]
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_name: np.ndarray
    edge_weight: np.ndarray
    edge_key: np.ndarray  # index of (dst, name) in keys
    key_count: int
    # Candidate definitions (top-level or directly inside a class-like definition).
    cand_file: np.ndarray
    cand_def: np.ndarray  # index into the file's definitions
    cand_key: np.ndarray  # (dst, name) key or -1 when nothing references it
    cand_name: np.ndarray
    cand_parent_name: np.ndarray  # name id of the enclosing definition, or of itself at top level
    cand_weight: np.ndarray  # prior: plain constants and private names matter less
    defs_per_file: np.ndarray  # candidates per file


# Calls like super(), len() or type() mostly mean the builtin, not a same-named method here.
BUILTIN_NAMES = frozenset(dir(builtins)) | {"get", "set", "update", "append", "items", "keys", "values", "copy"}


def _name_weight(name: str, definer_count: int) -> float:
    weight = 1.0
    if name in BUILTIN_NAMES:
        weight *= 0.1
    if name.startswith("_"):
        weight *= 0.1
    if definer_count > 5:
        weight *= 0.1
    if len(name) >= 8 and ("_" in name.strip("_") or _has_upper(name[1:])):
        weight *= 2.0  # long compound names are distinctive
    return weight


def _has_upper(text: str) -> bool:
    """Whether a character of ``text`` is upper case (for ASCII, the quick way: only A-Z change in lower())."""
    return text != text.lower() if text.isascii() else any(c.isupper() for c in text)


def file_edges(fid: int, record: FileRecord, definers: dict[str, list[int]],
               name_ids: dict[str, int]) -> list[tuple[int, int, float]]:
    """(defining file, name id, weight) of each edge leaving file ``fid``, in graph order.

    Grouped by defining file (otherwise in reference order), so the edges between two files are
    adjacent: ranking then sums them once per file pair instead of once per edge and iteration.
    """
    edges: list[tuple[int, int, float]] = []
    for name, lines in record.tags.references.items():
        targets = definers.get(name)
        if not targets or len(targets) > MAX_DEFINERS:
            continue
        nid = name_ids[name]
        w = math.sqrt(len(lines)) * _name_weight(name, len(targets)) / len(targets)
        edges += [(target, nid, w) for target in targets if target != fid]
    edges.sort(key=itemgetter(0))
    return edges


def file_candidates(record: FileRecord, name_ids: dict[str, int]) -> list[tuple[int, int, int, float]]:
    """(definition index, name id, enclosing name id, prior) of a file's candidate definitions."""
    candidates = []
    definitions = record.tags.definitions
    for index, definition in enumerate(definitions):
        if definition.parent >= 0 and definitions[definition.parent].kind in NESTED_PARENT_KINDS:
            continue
        parent = definitions[definition.parent] if definition.parent >= 0 else definition
        prior = 0.3 if definition.kind in LOW_PRIOR_KINDS else 1.0
        candidates.append((index, name_ids[definition.name], name_ids[parent.name],
                           prior * (0.5 if definition.name.startswith("_") else 1.0)))
    return candidates


def build_graph(records: dict[str, FileRecord]) -> Graph:
    """Build the graph arrays from the index records.

    The same edges, in the same order, as ``file_edges`` of every file in turn, built in arrays: a
    row per (file, referenced name), fanned out to the name's definers. It is on the path of the
    first map after a cold index or a restart, where an edge-by-edge build took most of the time.
    """
    files = sorted(records)
    file_ids = {path: i for i, path in enumerate(files)}
    definers: dict[str, list[int]] = {}
    for fid, path in enumerate(files):
        for name in {definition.name for definition in records[path].tags.definitions}:
            definers.setdefault(name, []).append(fid)
    names = sorted(definers)
    name_ids = {name: i for i, name in enumerate(names)}

    # Who defines each name, as one array sliced per name (CSR).
    counts = [len(definers[name]) for name in names]
    definer_count = np.array(counts, dtype=np.intp)
    definer_start = np.zeros(len(names) + 1, dtype=np.intp)
    np.cumsum(definer_count, out=definer_start[1:])
    definer_fid = np.fromiter((fid for name in names for fid in definers[name]), dtype=np.intp,
                              count=int(definer_start[-1]))
    linked = definer_count <= MAX_DEFINERS

    # A row per (file, name it references that some file defines), in each file's reference order.
    references = [records[path].tags.references for path in files]
    get = name_ids.get
    ref_name = np.fromiter((get(name, -1) for refs in references for name in refs), dtype=np.intp)
    ref_lines = np.fromiter((len(lines) for refs in references for lines in refs.values()), dtype=np.float64,
                            count=len(ref_name))
    ref_file = np.repeat(np.arange(len(files), dtype=np.intp), [len(refs) for refs in references])
    kept = ref_name >= 0
    kept[kept] = linked[ref_name[kept]]
    row_file, row_name, row_lines = ref_file[kept], ref_name[kept], ref_lines[kept]
    row_count = definer_count[row_name]
    # Each linked name's factor, once per name; then as file_edges computes the weight, operation by
    # operation, so that the floats are the same.
    name_weight = np.zeros(len(names))
    for nid in np.unique(row_name).tolist():
        name_weight[nid] = _name_weight(names[nid], counts[nid])
    row_weight = np.sqrt(row_lines) * name_weight[row_name] / row_count

    # One edge per (row, definer), then the file's own definitions dropped.
    row_of_edge = np.repeat(np.arange(len(row_name), dtype=np.intp), row_count)
    first_edge = np.cumsum(row_count) - row_count
    within = np.arange(len(row_of_edge), dtype=np.intp) - first_edge[row_of_edge]
    dst = definer_fid[definer_start[row_name][row_of_edge] + within]
    src = row_file[row_of_edge]
    elsewhere = dst != src
    src, dst, row_of_edge = src[elsewhere], dst[elsewhere], row_of_edge[elsewhere]
    # Each file's edges grouped by defining file, otherwise in reference order (file_edges' stable sort).
    order = np.argsort(src * max(len(files), 1) + dst, kind="stable")
    src, dst, row_of_edge = src[order], dst[order], row_of_edge[order]
    edge_name, edge_weight = row_name[row_of_edge], row_weight[row_of_edge]

    cand_file: list[int] = []
    cand_def: list[int] = []
    cand_name: list[int] = []
    cand_parent_name: list[int] = []
    cand_weight: list[float] = []
    defs_per_file = np.zeros(len(files))
    for fid, path in enumerate(files):
        candidates = file_candidates(records[path], name_ids)
        defs_per_file[fid] = len(candidates)
        for index, nid, parent_nid, prior in candidates:
            cand_file.append(fid)
            cand_def.append(index)
            cand_name.append(nid)
            cand_parent_name.append(parent_nid)
            cand_weight.append(prior)
    cand_file_array, cand_name_array = np.array(cand_file, dtype=np.intp), np.array(cand_name, dtype=np.intp)
    edge_key, cand_key, key_count = number_keys(dst, edge_name, cand_file_array, cand_name_array, len(names))

    return Graph(
        files, file_ids, names, name_ids, definers, src, dst, edge_name, edge_weight, edge_key, key_count,
        cand_file_array, np.array(cand_def, dtype=np.intp), cand_key, cand_name_array,
        np.array(cand_parent_name, dtype=np.intp), np.array(cand_weight), defs_per_file,
    )


def number_keys(edge_dst: np.ndarray, edge_name: np.ndarray, cand_file: np.ndarray, cand_name: np.ndarray,
                name_count: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(edge keys, candidate keys, key count): the (defining file, name) pairs numbered by first
    appearance along the edges; a candidate nothing references gets -1."""
    width = max(name_count, 1)
    combined = edge_dst * width + edge_name
    unique, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    key_of_unique = np.empty(len(unique), dtype=np.intp)
    key_of_unique[np.argsort(first, kind="stable")] = np.arange(len(unique), dtype=np.intp)
    if not len(unique):
        return np.zeros(0, dtype=np.intp), np.full(len(cand_file), -1, dtype=np.intp), 0
    edge_key = key_of_unique[inverse.reshape(-1)]
    wanted = cand_file * width + cand_name
    position = np.minimum(np.searchsorted(unique, wanted), len(unique) - 1)
    cand_key = np.where(unique[position] == wanted, key_of_unique[position], -1).astype(np.intp)
    return edge_key, cand_key, len(unique)


@dataclass
class Focus:
    """What the ranking is personalised towards."""

    files: dict[str, float] = field(default_factory=dict)  # path -> weight
    identifiers: set[str] = field(default_factory=set)
    # Plain lowercase words ("valid", "tokens") that happen to be defined names: maybe prose.
    weak_identifiers: set[str] = field(default_factory=set)


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
PATHLIKE = re.compile(r"[\w./\\-]+")


@dataclass
class _PathTable:
    """A graph's file paths arranged for task-text lookups (built once per graph)."""

    reversed_paths: list[str]  # every path reversed, sorted: a suffix query is a prefix range
    reversed_ids: list[int]  # file id of each reversed path
    part_files: dict[str, list[int]]  # lowercase path part -> files with that part (each once, ascending)
    last_parts: list[str]  # lowercase stem of each file


#: Keyed by the files list itself: a graph spliced after an edit shares its predecessor's list.
_path_tables: dict[int, tuple[list[str], _PathTable]] = {}
MAX_PATH_TABLES = 8


def _path_table(graph: Graph) -> _PathTable:
    kept = _path_tables.get(id(graph.files))
    if kept is not None and kept[0] is graph.files:
        return kept[1]
    pairs = sorted((path[::-1], fid) for fid, path in enumerate(graph.files))
    part_files: dict[str, list[int]] = {}
    last_parts: list[str] = []
    for fid, path in enumerate(graph.files):
        parts = path.lower().rsplit(".", 1)[0].split("/")
        for part in dict.fromkeys(parts):
            part_files.setdefault(part, []).append(fid)
        last_parts.append(parts[-1])
    table = _PathTable([p for p, _ in pairs], [f for _, f in pairs], part_files, last_parts)
    if len(_path_tables) >= MAX_PATH_TABLES:
        _path_tables.clear()
    _path_tables[id(graph.files)] = (graph.files, table)
    return table


def _ending_with(table: _PathTable, suffix: str) -> list[int]:
    """File ids of the paths that end with ``suffix`` (plain string suffix)."""
    wanted = suffix[::-1]
    found = []
    position = bisect_left(table.reversed_paths, wanted)
    while position < len(table.reversed_paths) and table.reversed_paths[position].startswith(wanted):
        found.append(table.reversed_ids[position])
        position += 1
    return found


def focus_from_text(graph: Graph, text: str, weight: float = 1.0) -> Focus:
    """Identifiers and files a task text names: defined names, file paths, module names, stems."""
    focus = Focus()
    if not text:
        return focus
    # Words inside file paths ("django/db/models/query.py") name files, not definitions.
    prose = re.sub(r"\S*[/\\]\S*|\S+\.(?:py|pyi|js|jsx|mjs|ts|tsx|go|rs|java|c|h|cc|cpp|hpp)\b", " ", text)
    words = set(IDENTIFIER.findall(prose))
    quoted = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)", prose))
    for word in words:
        if word in graph.name_ids:
            looks_like_code = word in quoted or "_" in word or not word.islower() or any(c.isdigit() for c in word)
            (focus.identifiers if looks_like_code else focus.weak_identifiers).add(word)
    lowered = {word.lower() for word in IDENTIFIER.findall(text)}
    table = _path_table(graph)
    for token in PATHLIKE.findall(text):
        token = token.strip("./\\").replace("\\", "/")
        if "/" not in token and "." not in token:
            continue  # a bare word; handled with the path parts below
        matches = set(_ending_with(table, "/" + token))
        if token in graph.file_ids:
            matches.add(graph.file_ids[token])
        dotted = token.replace(".", "/")
        if "/" in dotted:  # a dotted module name
            matches.update(_ending_with(table, dotted + ".py"))
            matches.update(_ending_with(table, dotted + "/__init__.py"))
        for fid in sorted(matches):
            path = graph.files[fid]
            focus.files[path] = max(focus.files.get(path, 0.0), weight)
    # Bare words naming path parts ("csrf middleware") point at files, more so the more parts match.
    matched: dict[int, int] = {}
    for word in lowered:
        for fid in table.part_files.get(word, ()):
            matched[fid] = matched.get(fid, 0) + 1
    for fid in sorted(matched):
        if table.last_parts[fid] in lowered or matched[fid] >= 2:
            focus.files.setdefault(graph.files[fid], min(weight, 0.25 * weight * matched[fid]))
    return focus


@dataclass
class Ranking:
    """Candidate definitions by descending relevance (ties: in graph order), plus the file ranks.

    Candidates in ``hidden`` (already quoted in full elsewhere) are left out of the order.
    """

    scores: np.ndarray
    file_rank: np.ndarray
    hidden: np.ndarray | None = None  # bool per candidate
    _order: np.ndarray | None = field(default=None, repr=False)

    @property
    def order(self) -> np.ndarray:
        """Every shown candidate, most relevant first (indexes into the graph's candidate arrays)."""
        if self._order is None:
            order = np.argsort(-self.scores, kind="stable")
            self._order = order[~self.hidden[order]] if self.hidden is not None else order
        return self._order

    def size(self) -> int:
        """How many candidates the order holds."""
        return len(self.scores) - (int(self.hidden.sum()) if self.hidden is not None else 0)

    def top(self, count: int) -> np.ndarray:
        """``order[:count]``, without sorting every candidate when ``count`` is small."""
        if self._order is not None or count * 2 >= len(self.scores):
            return self.order[:count]
        keys = -self.scores
        shown = np.flatnonzero(~self.hidden) if self.hidden is not None else None
        pool = keys[shown] if shown is not None else keys
        if count <= 0 or count >= len(pool):
            return self.order[:count]
        # Everything at least as relevant as the count-th candidate (ties included), in graph order,
        # then a stable sort: the same first `count` as a stable sort of all.
        threshold = np.partition(pool, count - 1)[count - 1]
        picked = np.flatnonzero(pool <= threshold)
        picked = picked[np.argsort(pool[picked], kind="stable")][:count]
        return shown[picked] if shown is not None else picked


@dataclass
class _Prepared:
    """What ranking needs from a graph besides the focus, kept per graph.

    A task re-weights only the edges carrying the names it mentions, so the per-edge arrays are
    kept as they are and only those edges' weight changes are applied, to each source file's
    out-weight and each file pair's weight.
    """

    out_weight: np.ndarray  # per file: the sum of its outgoing edges' weights
    dangling: np.ndarray  # files without outgoing edges (a boost never changes which)
    cand_defs: np.ndarray  # candidates per file, per candidate, at least 1
    pair_of_edge: np.ndarray  # edges between the same two files are adjacent: each edge's pair
    pair_weight: np.ndarray  # per pair (source, target): the sum of its edges' weights
    # The pairs ordered by target, for summing each file's inflow with one reduceat
    # (contiguous runs: about a third faster than a bincount's scattered adds on large graphs).
    by_target: np.ndarray  # pair indexes, sorted by target
    by_target_src: np.ndarray  # their sources
    inflow_files: np.ndarray  # files with at least one incoming pair
    inflow_start: np.ndarray  # where each of those files' pairs start in by_target
    pair_share: np.ndarray  # per pair in by_target order: its share of its source's out-weight
    edges_by_name: np.ndarray  # edge indexes grouped by name id
    name_edge_start: np.ndarray  # where each name's edges start in edges_by_name (one more entry)


_prepared: weakref.WeakKeyDictionary[Graph, _Prepared] = weakref.WeakKeyDictionary()


def _prepare(graph: Graph) -> _Prepared:
    prepared = _prepared.get(graph)
    if prepared is None:
        n = len(graph.files)
        src, dst = graph.edge_src, graph.edge_dst
        out_weight = np.bincount(src, weights=graph.edge_weight, minlength=n)
        starts = np.concatenate([[len(src) > 0], (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])])
        pair_start = np.flatnonzero(starts)
        pair_of_edge = np.cumsum(starts) - 1
        pair_weight = np.add.reduceat(graph.edge_weight, pair_start) if len(src) else np.zeros(0)
        pair_src = src[pair_start]
        by_target = np.argsort(dst[pair_start], kind="stable")
        inflow_files, inflow_start = np.unique(dst[pair_start][by_target], return_index=True)
        edges_by_name = np.argsort(graph.edge_name, kind="stable")
        name_edge_start = np.searchsorted(graph.edge_name[edges_by_name], np.arange(len(graph.names) + 1))
        prepared = _prepared[graph] = _Prepared(
            out_weight, np.flatnonzero(out_weight == 0), np.maximum(graph.defs_per_file[graph.cand_file], 1),
            pair_of_edge, pair_weight, by_target, pair_src[by_target], inflow_files, inflow_start,
            pair_weight[by_target] / out_weight[pair_src[by_target]] if len(src) else np.zeros(0),
            edges_by_name, name_edge_start)
    return prepared


def _edges_named(prepared: _Prepared, name_ids: np.ndarray) -> np.ndarray:
    """The edges carrying any of ``name_ids``."""
    runs = [prepared.edges_by_name[prepared.name_edge_start[i]:prepared.name_edge_start[i + 1]] for i in name_ids]
    return np.concatenate(runs) if runs else np.zeros(0, dtype=np.intp)


def rank(graph: Graph, focus: Focus, hidden: np.ndarray | None = None) -> Ranking:
    """Personalized PageRank over files, then per-definition scores (``hidden`` candidates left out).

    Edges carrying a name the task mentions weigh more (weakly mentioned: less so). The files in
    focus are not re-weighted here: scaling all of a file's outgoing edges alike would leave every
    share of its out-weight, and so the ranking, as it is; they steer the restart vector instead.
    """
    n = len(graph.files)
    if n == 0:
        empty = np.zeros(0)
        return Ranking(empty, empty)
    prepared = _prepare(graph)
    personal = np.zeros(n)
    for path, weight in focus.files.items():
        fid = graph.file_ids.get(path)
        if fid is not None:
            personal[fid] += weight
    for name in focus.identifiers:
        targets = graph.definers.get(name, ())
        for fid in targets:
            personal[fid] += 1.0 / len(targets)
    personal = personal / personal.sum() if personal.sum() > 0 else np.full(n, 1.0 / n)

    weak = np.zeros(len(graph.names), dtype=bool)
    weak[[graph.name_ids[name] for name in focus.weak_identifiers]] = True
    mentioned = np.zeros(len(graph.names), dtype=bool)
    mentioned[[graph.name_ids[name] for name in focus.identifiers]] = True
    boosted = _edges_named(prepared, np.flatnonzero(weak | mentioned))
    out_weight, pair_share = prepared.out_weight, prepared.pair_share
    edge_weight = graph.edge_weight
    if len(boosted):
        factor = np.where(weak[graph.edge_name[boosted]], WEAK_MENTION_BOOST, 1.0)
        factor = np.where(mentioned[graph.edge_name[boosted]], factor * MENTION_BOOST, factor)
        delta = (factor - 1.0) * edge_weight[boosted]
        out_weight = out_weight + np.bincount(graph.edge_src[boosted], weights=delta, minlength=n)
        pair_weight = prepared.pair_weight.copy()
        np.add.at(pair_weight, prepared.pair_of_edge[boosted], delta)
        pair_share = pair_weight[prepared.by_target] / out_weight[prepared.by_target_src]
        edge_weight = edge_weight.copy()
        edge_weight[boosted] += delta
    dangling = prepared.dangling

    ranks = np.full(n, 1.0 / n)
    restart = (1 - DAMPING) * personal
    flow = np.zeros(n)
    for _ in range(ITERATIONS):
        if len(pair_share):
            flow[prepared.inflow_files] = np.add.reduceat(ranks[prepared.by_target_src] * pair_share,
                                                          prepared.inflow_start)
        updated = DAMPING * (flow + ranks[dangling].sum() * personal) + restart
        converged = np.abs(updated - ranks).sum() < TOLERANCE_PER_FILE * n
        ranks = updated
        if converged:
            break

    # At least one slot: with no cross-file references (key_count 0) the masked lookup below still indexes 0.
    rank_per_weight = np.divide(ranks, out_weight, out=np.zeros(n), where=out_weight > 0)
    key_score = np.bincount(graph.edge_key, weights=rank_per_weight[graph.edge_src] * edge_weight,
                            minlength=max(graph.key_count, 1))
    scores = np.where(graph.cand_key >= 0, key_score[np.maximum(graph.cand_key, 0)], 0.0)
    # Every definition also gets a share of its file's rank, so unreferenced ones still place.
    share_of_file = 0.2 * ranks[graph.cand_file] / prepared.cand_defs
    scores = scores + share_of_file * graph.cand_weight
    top = ranks.max()
    if focus.files:
        file_focus = np.zeros(n)
        for path, weight in focus.files.items():
            if path in graph.file_ids:
                file_focus[graph.file_ids[path]] = weight
        # Definitions in the files the task is about come first, in their own order.
        candidate_focus = file_focus[graph.cand_file]
        scores = scores + top * candidate_focus * graph.cand_weight
    else:
        candidate_focus = np.zeros(len(scores))
    if focus.weak_identifiers:
        scores = np.where(weak[graph.cand_name], scores * WEAK_MENTION_BOOST, scores)
    if focus.identifiers:
        # A named definition in a focus file (or a named class's member) beats a namesake elsewhere.
        in_focus = (candidate_focus > 0) | mentioned[graph.cand_parent_name]
        bonus = np.where(in_focus, 2 * top, top)
        scores = np.where(mentioned[graph.cand_name], scores * MENTION_BOOST + bonus, scores)
    return Ranking(scores, ranks, hidden)
