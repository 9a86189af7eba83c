"""The repo map's fitting (estimates, then exact per-file counts) picks exactly what rendering and
counting every tried prefix picks: the largest fitting prefix of the ranking, then skip-ahead fills."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen_server.context import repomap
from codegen_server.context.rank import Focus, Graph, Ranking, build_graph, rank
from codegen_server.context.repomap import SKIP_AHEAD, RepoMap, build_repo_map
from codegen_server.context.store import FileRecord
from codegen_server.context.tags import extract
from codegen_server.context.tokens import count_tokens

NAMES = ["parse", "render", "Store", "load_all", "_helper", "save", "compute_total", "Widget", "x", "tokenize_the_input"]
# Paths that start with a non-ASCII letter, a space or a line break begin a block where the tokenizer
# may not cut: the map's count is then not the sum of its blocks' counts.
PATHS = ["app/core.py", "app/views.py", "lib/util.py", "tests/test_core.py", "émoji/mod.py", " spaced.py", "\nodd.py", "z.py"]


def straightforward_render(records: dict[str, FileRecord], graph: Graph, chosen: list[int],
                           scores: np.ndarray) -> tuple[str, list[str]]:
    """The map of ``chosen`` rendered whole, the way the map was rendered before it was fitted by block."""
    by_file: dict[int, list[int]] = {}
    best: dict[int, float] = {}
    for candidate in chosen:
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
            while index >= 0 and index not in shown:
                shown.add(index)
                index = definitions[index].parent
        paths.append(path)
        out.append(f"{path}:")
        previous_end = -1
        for index in sorted(shown):  # definitions are in source order: by index is by line
            definition = definitions[index]
            if previous_end >= 0 and definition.line > previous_end + 1 and definition.parent < 0:
                out.append("⋮")
            out.append(definition.signature)
            previous_end = definition.line
        out.append("")
    return "\n".join(out), paths


def straightforward_map(records: dict[str, FileRecord], graph: Graph, ranking: Ranking, budget: int) -> RepoMap:
    """Binary search over prefixes, each rendered and counted whole, then skip-ahead."""
    order = ranking.order.tolist()
    if budget <= 0 or not order:
        return RepoMap("", 0, [], 0)
    low, high = 0, min(len(order), budget)
    best_text, best_paths, best_tokens = "", [], 0
    while low < high:
        middle = (low + high + 1) // 2
        text, paths = straightforward_render(records, graph, order[:middle], ranking.scores)
        tokens = count_tokens(text)
        if tokens <= budget:
            low, best_text, best_paths, best_tokens = middle, text, paths, tokens
        else:
            high = middle - 1
    chosen = order[:low]
    for candidate in order[low + 1:low + 1 + SKIP_AHEAD]:
        text, paths = straightforward_render(records, graph, chosen + [candidate], ranking.scores)
        tokens = count_tokens(text)
        if tokens <= budget:
            chosen = chosen + [candidate]
            best_text, best_paths, best_tokens = text, paths, tokens
    return RepoMap(best_text, best_tokens, best_paths, len(chosen))


arguments = st.lists(st.sampled_from(["self", "a", "b: int", "*args", "value=None", "**kwargs"]), max_size=3)
gaps = st.integers(min_value=0, max_value=2)  # blank lines before an item: adjacent lines or an elision
functions = st.tuples(st.just("def"), st.sampled_from(NAMES), arguments, gaps, st.lists(st.sampled_from(NAMES), max_size=3))
constants = st.tuples(st.just("const"), st.sampled_from(NAMES), st.just([]), gaps, st.lists(st.sampled_from(NAMES), max_size=1))
classes = st.tuples(st.just("class"), st.sampled_from(NAMES), st.lists(functions, max_size=4), gaps,
                    st.lists(st.sampled_from(NAMES), max_size=1))
files = st.lists(st.one_of(functions, constants, classes), min_size=1, max_size=8)


def source(items: list) -> str:
    lines: list[str] = []
    for kind, name, inner, gap, calls in items:
        lines += [""] * gap
        if kind == "const":
            lines.append(f"{name.upper()} = {calls[0] if calls else 1}")
        elif kind == "def":
            lines += [f"def {name}({', '.join(inner)}):"] + [f"    {call}()" for call in calls] + ["    return None"]
        else:
            lines.append(f"class {name}({calls[0] if calls else 'object'}):")
            for _, method, args, method_gap, body in inner:
                lines += [""] * method_gap
                lines += [f"    def {method}(self, {', '.join(args)}):"] + [f"        {c}()" for c in body] + ["        pass"]
            if not inner:
                lines.append("    pass")
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(workspace=st.dictionaries(st.sampled_from(PATHS), files, min_size=1, max_size=8),
       focus_files=st.lists(st.sampled_from(PATHS), max_size=2), focus_names=st.sets(st.sampled_from(NAMES), max_size=2),
       # Mostly at or next to the exact size of a prefix: where an off-by-one would show.
       budget=st.one_of(st.tuples(st.floats(min_value=0, max_value=1), st.integers(min_value=-2, max_value=2)),
                        st.integers(min_value=-1, max_value=700)),
       hide=st.lists(st.booleans(), max_size=40),
       skew=st.one_of(st.tuples(st.floats(min_value=0, max_value=3), st.integers(min_value=-3, max_value=3)), st.none()))
def test_the_fitted_map_is_the_straightforward_one(workspace, focus_files, focus_names, budget, hide, skew):
    """``skew`` makes the per-line estimates wrong: the exact pass must still land on the same map."""
    records = {path: FileRecord(path, 0, 0, extract("python", source(items).encode())) for path, items in workspace.items()}
    graph = build_graph(records)
    focus = Focus({path: 1.0 for path in focus_files}, {name for name in focus_names if name in graph.name_ids})
    hidden = np.array((hide + [False] * len(graph.cand_file))[:len(graph.cand_file)], dtype=bool)
    ranking = rank(graph, focus, hidden if hidden.any() else None)
    if isinstance(budget, tuple):
        prefix = ranking.order.tolist()[:int(budget[0] * ranking.size())]
        budget = count_tokens(straightforward_render(records, graph, prefix, ranking.scores)[0]) + budget[1]
    if skew is None:
        fitted = build_repo_map(records, graph, ranking, budget)
    else:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(repomap, "_estimated", lambda line: max(0, int(count_tokens(line) * skew[0]) + skew[1]))
            fitted = build_repo_map(records, graph, ranking, budget)
    assert fitted == straightforward_map(records, graph, ranking, budget)
    assert fitted.tokens == count_tokens(fitted.text) <= max(budget, 0)


def test_a_partial_order_is_the_full_orders_prefix():
    """Ranking.top sorts only what it returns; ties keep graph order, as the full stable sort does."""
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.9, 0.5, 0.0, 0.5] * 50)
    hidden = np.zeros(len(scores), dtype=bool)
    hidden[[1, 5, 17]] = True
    for mask in (None, hidden):
        full = Ranking(scores, np.zeros(1), mask).order
        for count in (1, 3, 7, 60, 99, 150):
            assert np.array_equal(Ranking(scores, np.zeros(1), mask).top(count), full[:count])
