"""The ranking equals a straightforward personalized PageRank over the edges, re-weighted per task.

``rank`` keeps per-graph tables and applies a task's boosts only to the edges whose names it
mentions, summing by file pair; the reference below re-weights every edge and sums edge by edge,
as the definition reads. Both must give the same scores on random workspaces and tasks.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen_server.context import rank as ranking
from codegen_server.context.rank import Focus, Graph, build_graph

from tests.support.workspaces import FILES, NAMES, models, record, render_file


def reference_rank(graph: Graph, focus: Focus) -> tuple[np.ndarray, np.ndarray]:
    """(file ranks, candidate scores) by the book: every edge re-weighted, shares per edge."""
    n = len(graph.files)
    personal = np.zeros(n)
    for path, weight in focus.files.items():
        if path in graph.file_ids:
            personal[graph.file_ids[path]] += weight
    for name in focus.identifiers:
        for fid in graph.definers.get(name, ()):
            personal[fid] += 1.0 / len(graph.definers[name])
    personal = personal / personal.sum() if personal.sum() > 0 else np.full(n, 1.0 / n)
    weights = graph.edge_weight.copy()
    for index, nid in enumerate(graph.edge_name):
        name = graph.names[nid]
        weights[index] *= (ranking.WEAK_MENTION_BOOST if name in focus.weak_identifiers else 1.0) * (
            ranking.MENTION_BOOST if name in focus.identifiers else 1.0)
    out = np.zeros(n)
    for src, weight in zip(graph.edge_src, weights):
        out[src] += weight
    ranks = np.full(n, 1.0 / n)
    for _ in range(ranking.ITERATIONS):
        flow = np.zeros(n)
        for src, dst, weight in zip(graph.edge_src, graph.edge_dst, weights):
            flow[dst] += ranks[src] * weight / out[src]
        dangling = sum(ranks[f] for f in range(n) if out[f] == 0)
        updated = ranking.DAMPING * (flow + dangling * personal) + (1 - ranking.DAMPING) * personal
        converged = np.abs(updated - ranks).sum() < ranking.TOLERANCE_PER_FILE * n
        ranks = updated
        if converged:
            break
    key_score = np.zeros(max(graph.key_count, 1))
    for src, key, weight in zip(graph.edge_src, graph.edge_key, weights):
        key_score[key] += ranks[src] * weight / out[src]
    return ranks, key_score


@settings(max_examples=80, deadline=None)
@given(workspace=st.fixed_dictionaries({path: models for path in FILES}),
       identifiers=st.sets(st.sampled_from(NAMES), max_size=3), weak=st.sets(st.sampled_from(NAMES), max_size=3),
       focus_files=st.sets(st.sampled_from(FILES), max_size=2))
def test_rank_equals_the_edge_by_edge_definition(workspace, identifiers, weak, focus_files):
    graph = build_graph({path: record(path, render_file(*model)) for path, model in workspace.items()})
    focus = Focus({path: 1.0 for path in focus_files}, {n for n in identifiers if n in graph.name_ids},
                  {n for n in weak if n in graph.name_ids})
    result = ranking.rank(graph, focus)
    ranks, key_score = reference_rank(graph, focus)
    assert np.allclose(result.file_rank, ranks, rtol=1e-9, atol=1e-12)
    assert np.allclose(result.scores, reference_scores(graph, focus, ranks, key_score), rtol=1e-9, atol=1e-12)


def reference_scores(graph: Graph, focus: Focus, ranks: np.ndarray, key_score: np.ndarray) -> np.ndarray:
    """Each candidate's score, one at a time: what references it, its file's rank, the task's bonuses."""
    top = ranks.max()
    scores = []
    for c in range(len(graph.cand_file)):
        fid = int(graph.cand_file[c])
        score = key_score[graph.cand_key[c]] if graph.cand_key[c] >= 0 else 0.0
        score += 0.2 * ranks[fid] / max(graph.defs_per_file[fid], 1) * graph.cand_weight[c]
        file_focus = focus.files.get(graph.files[fid], 0.0)
        score += top * file_focus * graph.cand_weight[c]
        name, parent = graph.names[graph.cand_name[c]], graph.names[graph.cand_parent_name[c]]
        if name in focus.weak_identifiers:
            score *= ranking.WEAK_MENTION_BOOST
        if name in focus.identifiers:
            in_focus = file_focus > 0 or parent in focus.identifiers
            score = score * ranking.MENTION_BOOST + (2 * top if in_focus else top)
        scores.append(score)
    return np.array(scores)
