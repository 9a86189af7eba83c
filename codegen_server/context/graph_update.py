"""Update the reference graph for a few changed files instead of rebuilding it.

An edit inside a body (the common keystroke) changes a file's references and its definitions'
lines, not the names it defines. Then every other file's edges are unchanged (an edge's weight
depends on how many files define its name), and only the changed file's rows of edges and
candidates are replaced.

An edit that adds or removes a defined name (a new function) changes who defines that name:
the edges of every file that references it (their targets and weights) and, when the name is
new to the workspace or gone from it, every name id after it. Those files' edges are recomputed
and the other rows keep theirs, with name ids shifted. Files found referencing the changed names
by a lookup in each record, not a full pass over every reference.

Either way the (file, name) keys are then renumbered in one vectorised pass, in the order a full
build assigns them. Edits touching many files (a checkout) are a full rebuild.
A file created or deleted is an empty file that gains or loses its content: the file ids after
it move by one, then the same splice applies. The result equals ``build_graph`` of the new records.
"""

from __future__ import annotations

from bisect import bisect_left, insort

import numpy as np

from .rank import Graph, build_graph, file_candidates, file_edges, number_keys
from .store import FileRecord
from .tags import FileTags

#: More changed files than this at once (a checkout, a formatter run): rebuilding is as quick.
MAX_SPLICED_FILES = 16
#: Recomputing the edges of more than this share of the files costs about what a rebuild does.
MAX_RELINKED_SHARE = 0.25


def _defined_names(record: FileRecord) -> set[str]:
    return {definition.name for definition in record.tags.definitions}


def _replace_blocks(owner: np.ndarray, columns: list[np.ndarray], rows: dict[int, list[tuple]]) -> list[np.ndarray]:
    """``columns`` (sorted by ``owner``, the file of each row) with each file in ``rows`` given new rows.

    A file's rows are one block; the new rows of file f are tuples (one value per column).
    """
    fids = sorted(rows)
    lows = np.searchsorted(owner, fids, "left").tolist()
    highs = np.searchsorted(owner, fids, "right").tolist()
    replaced = []
    for position, column in enumerate(columns):
        pieces, previous = [], 0
        for fid, low, high in zip(fids, lows, highs):
            pieces.append(column[previous:low])
            pieces.append(np.array([row[position] for row in rows[fid]], dtype=column.dtype))
            previous = high
        pieces.append(column[previous:])
        replaced.append(np.concatenate(pieces))
    return replaced


def _renamed(graph: Graph, definers: dict[str, list[int]], relinked: set[str]
             ) -> tuple[list[str], dict[str, int], np.ndarray | None]:
    """(names, name ids, old id -> new id (-1: gone), or None when no name came or went)."""
    added = sorted(name for name in relinked if name in definers and name not in graph.name_ids)
    removed = sorted(graph.name_ids[name] for name in relinked if name not in definers)
    if not added and not removed:
        return graph.names, graph.name_ids, None
    # Sorted names: an old id moves down one per removed name before it, up one per added name before it.
    shift = np.zeros(len(graph.names) + 1, dtype=np.intp)
    for name in added:
        shift[bisect_left(graph.names, name)] += 1
    for old_id in removed:
        shift[old_id + 1] -= 1
    old_to_new = np.arange(len(graph.names), dtype=np.intp) + np.cumsum(shift)[:-1]
    old_to_new[removed] = -1
    names = sorted(definers)
    return names, {name: i for i, name in enumerate(names)}, old_to_new


def _empty(path: str) -> FileRecord:
    return FileRecord(path, 0, 0, FileTags(""))


def _with_files(graph: Graph, files: list[str]) -> Graph:
    """``graph`` renumbered for ``files`` (sorted), where every file gained or dropped defines and
    references nothing: only file ids move. They keep their order, so edges and keys do too."""
    file_ids = {path: i for i, path in enumerate(files)}
    moved = np.array([file_ids.get(path, -1) for path in graph.files], dtype=np.intp)
    defs_per_file = np.zeros(len(files))
    defs_per_file[moved[moved >= 0]] = graph.defs_per_file[moved >= 0]
    mapping = moved.tolist()
    # Ids before the first file gained or dropped stay; most names' (ascending) definers end there.
    first = next((fid for fid, moved_to in enumerate(mapping) if moved_to != fid), len(mapping))
    definers = {name: fids if fids[-1] < first else [mapping[fid] for fid in fids]
                for name, fids in graph.definers.items()}
    return Graph(
        files, file_ids, graph.names, graph.name_ids, definers,
        moved[graph.edge_src], moved[graph.edge_dst], graph.edge_name, graph.edge_weight, graph.edge_key,
        graph.key_count, moved[graph.cand_file], graph.cand_def, graph.cand_key, graph.cand_name,
        graph.cand_parent_name, graph.cand_weight, defs_per_file,
    )


def update_graph(graph: Graph | None, old: dict[str, FileRecord], new: dict[str, FileRecord]) -> Graph:
    """The graph of ``new``, from ``graph`` (built from ``old``) when a few files changed, came or went."""
    if graph is None:
        return build_graph(new)
    if old.keys() != new.keys():
        # A file that comes or goes is first an empty file that changes: renumber, splice, renumber.
        added, removed = new.keys() - old.keys(), old.keys() - new.keys()
        if len(added) + len(removed) > MAX_SPLICED_FILES:
            return build_graph(new)
        widened = _with_files(graph, sorted(old.keys() | new.keys()))
        spliced = update_graph(widened, old | {path: _empty(path) for path in added},
                               new | {path: _empty(path) for path in removed})
        return _with_files(spliced, sorted(new)) if removed else spliced
    changed = [path for path in graph.files if new[path] is not old[path]]
    if not changed:
        return graph
    if len(changed) > MAX_SPLICED_FILES:
        return build_graph(new)

    # Who defines each name whose definers changed.
    definers = graph.definers
    relinked: set[str] = set()  # names whose definers changed
    for path in changed:
        fid = graph.file_ids[path]
        before, after = _defined_names(old[path]), _defined_names(new[path])
        if before == after:
            continue
        if definers is graph.definers:
            definers = dict(graph.definers)
        for name in before - after:
            remaining = [f for f in definers[name] if f != fid]
            if remaining:
                definers[name] = remaining
            else:
                del definers[name]
        for name in after - before:
            targets = list(definers.get(name, ()))
            insort(targets, fid)
            definers[name] = targets
        relinked |= before ^ after

    # Files whose edges change: the edited ones, and those referencing a name whose definers changed.
    relink = {graph.file_ids[path] for path in changed}
    if relinked:
        for fid, path in enumerate(graph.files):
            references = new[path].tags.references
            if fid not in relink and any(name in references for name in relinked):
                relink.add(fid)
        if len(relink) > max(MAX_SPLICED_FILES, MAX_RELINKED_SHARE * len(graph.files)):
            return build_graph(new)
    names, name_ids, old_to_new = _renamed(graph, definers, relinked)

    edge_name, cand_name, cand_parent = graph.edge_name, graph.cand_name, graph.cand_parent_name
    if old_to_new is not None:
        # Rows kept never hold a name no longer defined: those are in relinked files' rows.
        edge_name, cand_name, cand_parent = old_to_new[edge_name], old_to_new[cand_name], old_to_new[cand_parent]
    edge_rows = {fid: [(fid, target, nid, w) for target, nid, w in file_edges(fid, new[graph.files[fid]], definers, name_ids)]
                 for fid in relink}
    src, dst, name, weight = _replace_blocks(
        graph.edge_src, [graph.edge_src, graph.edge_dst, edge_name, graph.edge_weight], edge_rows)
    cand_rows = {}
    defs_per_file = graph.defs_per_file.copy()
    for path in changed:
        fid = graph.file_ids[path]
        cand_rows[fid] = [(fid, *candidate) for candidate in file_candidates(new[path], name_ids)]
        defs_per_file[fid] = len(cand_rows[fid])
    cand_file, cand_def, cand_name, cand_parent, cand_weight = _replace_blocks(
        graph.cand_file, [graph.cand_file, graph.cand_def, cand_name, cand_parent, graph.cand_weight], cand_rows)

    edge_key, cand_key, key_count = number_keys(dst, name, cand_file, cand_name, len(names))

    return Graph(
        graph.files, graph.file_ids, names, name_ids, definers,
        src, dst, name, weight, edge_key, key_count,
        cand_file, cand_def, cand_key, cand_name, cand_parent, cand_weight, defs_per_file,
    )
