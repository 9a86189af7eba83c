"""Update the reference graph for a few changed files instead of rebuilding it.

An edit inside a body (the common keystroke) changes a file's references and its definitions'
lines, not the names it defines. Then every other file's edges are unchanged (an edge's weight
depends on how many files define its name), and only the changed file's rows of edges and
candidates are replaced; the (file, name) keys are renumbered in one vectorised pass, in the
order a full build assigns them. Anything else (files added or removed, a defined name added
or removed) is a full rebuild. The result equals ``build_graph`` of the new records.
"""

from __future__ import annotations

import numpy as np

from .rank import Graph, build_graph, file_candidates, file_edges
from .store import FileRecord

#: More changed files than this at once (a checkout, a formatter run): rebuilding is as quick.
MAX_SPLICED_FILES = 16


def _defined_names(record: FileRecord) -> set[str]:
    return {definition.name for definition in record.tags.definitions}


def _splice(array: np.ndarray, low: int, high: int, rows: list, dtype: np.dtype) -> np.ndarray:
    return np.concatenate([array[:low], np.array(rows, dtype=dtype).reshape(-1), array[high:]])


def update_graph(graph: Graph | None, old: dict[str, FileRecord], new: dict[str, FileRecord]) -> Graph:
    """The graph of ``new``, from ``graph`` (built from ``old``) when only file contents changed."""
    if graph is None or old.keys() != new.keys():
        return build_graph(new)
    changed = [path for path in graph.files if new[path] is not old[path]]
    if not changed:
        return graph
    if len(changed) > MAX_SPLICED_FILES or any(_defined_names(old[p]) != _defined_names(new[p]) for p in changed):
        return build_graph(new)

    src, dst, name, weight = graph.edge_src, graph.edge_dst, graph.edge_name, graph.edge_weight
    cand_file, cand_def, cand_name = graph.cand_file, graph.cand_def, graph.cand_name
    cand_parent, cand_weight = graph.cand_parent_name, graph.cand_weight
    defs_per_file = graph.defs_per_file.copy()
    for path in changed:
        fid = graph.file_ids[path]
        # Edges and candidates are stored in file order: each file's rows are one block.
        low, high = np.searchsorted(src, fid, "left"), np.searchsorted(src, fid, "right")
        edges = file_edges(fid, new[path], graph.definers, graph.name_ids)
        src = _splice(src, low, high, [fid] * len(edges), np.int32)
        dst = _splice(dst, low, high, [e[0] for e in edges], np.int32)
        name = _splice(name, low, high, [e[1] for e in edges], np.int32)
        weight = _splice(weight, low, high, [e[2] for e in edges], np.float64)
        low, high = np.searchsorted(cand_file, fid, "left"), np.searchsorted(cand_file, fid, "right")
        candidates = file_candidates(new[path], graph.name_ids)
        cand_file = _splice(cand_file, low, high, [fid] * len(candidates), np.int32)
        cand_def = _splice(cand_def, low, high, [c[0] for c in candidates], np.int32)
        cand_name = _splice(cand_name, low, high, [c[1] for c in candidates], np.int32)
        cand_parent = _splice(cand_parent, low, high, [c[2] for c in candidates], np.int32)
        cand_weight = _splice(cand_weight, low, high, [c[3] for c in candidates], np.float64)
        defs_per_file[fid] = len(candidates)

    # Keys (defining file, name) are numbered by first appearance along the edges, as build_graph does.
    width = max(len(graph.names), 1)
    combined = dst.astype(np.int64) * width + name
    unique, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    key_of_unique = np.empty(len(unique), dtype=np.int32)
    key_of_unique[np.argsort(first, kind="stable")] = np.arange(len(unique), dtype=np.int32)
    edge_key = key_of_unique[inverse.reshape(-1)] if len(unique) else np.zeros(0, dtype=np.int32)
    wanted = cand_file.astype(np.int64) * width + cand_name
    position = np.minimum(np.searchsorted(unique, wanted), max(len(unique) - 1, 0))
    found = unique[position] == wanted if len(unique) else np.zeros(len(wanted), dtype=bool)
    cand_key = np.where(found, key_of_unique[position] if len(unique) else -1, -1).astype(np.int32)

    return Graph(
        graph.files, graph.file_ids, graph.names, graph.name_ids, graph.definers,
        src, dst, name, weight, edge_key.astype(np.int32), len(unique),
        cand_file, cand_def, cand_key, cand_name, cand_parent, cand_weight, defs_per_file,
    )
