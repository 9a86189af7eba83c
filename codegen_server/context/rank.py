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
from dataclasses import dataclass, field

import numpy as np

from .store import FileRecord

DAMPING = 0.85
ITERATIONS = 40
MAX_DEFINERS = 40  # names defined in more files than this are too ambiguous to link
NESTED_PARENT_KINDS = frozenset({"function", "method"})  # definitions inside these are internals
MENTION_BOOST = 10.0
WEAK_MENTION_BOOST = 2.0
FOCUS_EDGE_BOOST = 10.0
LOW_PRIOR_KINDS = frozenset({"constant", "field", "macro", "prototype"})


@dataclass
class Graph:
    """Arrays describing the reference graph, rebuilt when the index changes."""

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
    if len(name) >= 8 and ("_" in name.strip("_") or any(c.isupper() for c in name[1:])):
        weight *= 2.0  # long compound names are distinctive
    return weight


def file_edges(fid: int, record: FileRecord, definers: dict[str, list[int]],
               name_ids: dict[str, int]) -> list[tuple[int, int, float]]:
    """(defining file, name id, weight) of each edge leaving file ``fid``, in graph order."""
    edges = []
    for name, lines in record.tags.references.items():
        targets = definers.get(name)
        if not targets or len(targets) > MAX_DEFINERS:
            continue
        nid = name_ids[name]
        w = math.sqrt(len(lines)) * _name_weight(name, len(targets)) / len(targets)
        edges += [(target, nid, w) for target in targets if target != fid]
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
    """Build the graph arrays from the index records."""
    files = sorted(records)
    file_ids = {path: i for i, path in enumerate(files)}
    definers: dict[str, list[int]] = {}
    for fid, path in enumerate(files):
        seen: set[str] = set()
        for definition in records[path].tags.definitions:
            if definition.name not in seen:
                seen.add(definition.name)
                definers.setdefault(definition.name, []).append(fid)
    names = sorted(definers)
    name_ids = {name: i for i, name in enumerate(names)}

    src: list[int] = []
    dst: list[int] = []
    name_col: list[int] = []
    weight: list[float] = []
    keys: dict[tuple[int, int], int] = {}
    key_col: list[int] = []
    for fid, path in enumerate(files):
        for target, nid, w in file_edges(fid, records[path], definers, name_ids):
            src.append(fid)
            dst.append(target)
            name_col.append(nid)
            weight.append(w)
            key = keys.setdefault((target, nid), len(keys))
            key_col.append(key)

    cand_file: list[int] = []
    cand_def: list[int] = []
    cand_key: list[int] = []
    cand_name: list[int] = []
    cand_parent_name: list[int] = []
    cand_weight: list[float] = []
    defs_per_file = np.zeros(len(files))
    for fid, path in enumerate(files):
        for index, nid, parent_nid, prior in file_candidates(records[path], name_ids):
            cand_file.append(fid)
            cand_def.append(index)
            cand_key.append(keys.get((fid, nid), -1))
            cand_name.append(nid)
            cand_parent_name.append(parent_nid)
            cand_weight.append(prior)
            defs_per_file[fid] += 1

    return Graph(
        files, file_ids, names, name_ids, definers,
        np.array(src, dtype=np.int32), np.array(dst, dtype=np.int32), np.array(name_col, dtype=np.int32),
        np.array(weight, dtype=np.float64), np.array(key_col, dtype=np.int32), len(keys),
        np.array(cand_file, dtype=np.int32), np.array(cand_def, dtype=np.int32),
        np.array(cand_key, dtype=np.int32), np.array(cand_name, dtype=np.int32),
        np.array(cand_parent_name, dtype=np.int32), np.array(cand_weight), defs_per_file,
    )


@dataclass
class Focus:
    """What the ranking is personalised towards."""

    files: dict[str, float] = field(default_factory=dict)  # path -> weight
    identifiers: set[str] = field(default_factory=set)
    # Plain lowercase words ("valid", "tokens") that happen to be defined names: maybe prose.
    weak_identifiers: set[str] = field(default_factory=set)


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
PATHLIKE = re.compile(r"[\w./\\-]+")


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
    for token in PATHLIKE.findall(text):
        token = token.strip("./\\").replace("\\", "/")
        if "/" not in token and "." not in token:
            continue  # a bare word; handled with the path parts below
        dotted = token.replace(".", "/")
        for path in graph.files:
            if path == token or path.endswith("/" + token):
                focus.files[path] = max(focus.files.get(path, 0.0), weight)
            elif "/" in dotted and (path.endswith(dotted + ".py") or path.endswith(dotted + "/__init__.py")):
                focus.files[path] = max(focus.files.get(path, 0.0), weight)  # a dotted module name
    # Bare words naming path parts ("csrf middleware") point at files, more so the more parts match.
    for path in graph.files:
        parts = path.lower().rsplit(".", 1)[0].split("/")
        matched = sum(1 for part in set(parts) if part in lowered)
        if matched and (parts[-1] in lowered or matched >= 2):
            focus.files.setdefault(path, min(weight, 0.25 * weight * matched))
    return focus


@dataclass
class Ranking:
    """Candidate definitions in descending relevance, plus the file ranks."""

    order: np.ndarray  # indexes into the graph's candidate arrays
    scores: np.ndarray
    file_rank: np.ndarray


def rank(graph: Graph, focus: Focus) -> Ranking:
    """Personalized PageRank over files, then per-definition scores."""
    n = len(graph.files)
    if n == 0:
        empty = np.zeros(0)
        return Ranking(np.zeros(0, dtype=np.int64), empty, empty)
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

    weights = graph.edge_weight.copy()
    if focus.weak_identifiers:
        weak = np.zeros(len(graph.names), dtype=bool)
        weak[[graph.name_ids[name] for name in focus.weak_identifiers]] = True
        weights[weak[graph.edge_name]] *= WEAK_MENTION_BOOST
    if focus.identifiers:
        mentioned = np.zeros(len(graph.names), dtype=bool)
        mentioned[[graph.name_ids[name] for name in focus.identifiers]] = True
        weights[mentioned[graph.edge_name]] *= MENTION_BOOST
    focus_files = np.zeros(n, dtype=bool)
    for path in focus.files:
        if path in graph.file_ids:
            focus_files[graph.file_ids[path]] = True
    if focus_files.any():
        weights[focus_files[graph.edge_src]] *= FOCUS_EDGE_BOOST

    out_weight = np.bincount(graph.edge_src, weights=weights, minlength=n)
    dangling = out_weight == 0
    share = np.divide(weights, out_weight[graph.edge_src], out=np.zeros_like(weights), where=out_weight[graph.edge_src] > 0)
    ranks = np.full(n, 1.0 / n)
    for _ in range(ITERATIONS):
        flow = np.bincount(graph.edge_dst, weights=ranks[graph.edge_src] * share, minlength=n)
        updated = DAMPING * (flow + ranks[dangling].sum() * personal) + (1 - DAMPING) * personal
        converged = np.abs(updated - ranks).sum() < 1e-7
        ranks = updated
        if converged:
            break

    # At least one slot: with no cross-file references (key_count 0) the masked lookup below still indexes 0.
    key_score = np.bincount(graph.edge_key, weights=ranks[graph.edge_src] * share, minlength=max(graph.key_count, 1))
    scores = np.where(graph.cand_key >= 0, key_score[np.maximum(graph.cand_key, 0)], 0.0)
    # Every definition also gets a share of its file's rank, so unreferenced ones still place.
    share_of_file = 0.2 * ranks[graph.cand_file] / np.maximum(graph.defs_per_file[graph.cand_file], 1)
    scores = scores + share_of_file * graph.cand_weight
    top = ranks.max()
    file_focus = np.zeros(n)
    for path, weight in focus.files.items():
        if path in graph.file_ids:
            file_focus[graph.file_ids[path]] = weight
    # Definitions in the files the task is about come first, in their own order.
    scores = scores + top * file_focus[graph.cand_file] * graph.cand_weight
    if focus.weak_identifiers:
        scores = np.where(weak[graph.cand_name], scores * WEAK_MENTION_BOOST, scores)
    if focus.identifiers:
        mentioned = np.zeros(len(graph.names), dtype=bool)
        mentioned[[graph.name_ids[name] for name in focus.identifiers]] = True
        # A named definition in a focus file (or a named class's member) beats a namesake elsewhere.
        in_focus = (file_focus[graph.cand_file] > 0) | mentioned[graph.cand_parent_name]
        bonus = np.where(in_focus, 2 * top, top)
        scores = np.where(mentioned[graph.cand_name], scores * MENTION_BOOST + bonus, scores)
    order = np.argsort(-scores, kind="stable")
    return Ranking(order, scores, ranks)
