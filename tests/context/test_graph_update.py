"""The reference graph updated for changed files equals a full rebuild, over random edit sequences."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from codegen_server.context.graph_update import update_graph
from codegen_server.context.rank import MAX_DEFINERS, Graph, _has_upper, build_graph, file_edges
from tests.support.workspaces import FILES, NAMES, edits, models, record, render_file

def assert_same_graph(incremental: Graph, full: Graph) -> None:
    for field in dataclasses.fields(Graph):
        mine, theirs = getattr(incremental, field.name), getattr(full, field.name)
        if isinstance(theirs, np.ndarray):
            assert mine.dtype == theirs.dtype, field.name
            assert np.array_equal(mine, theirs), field.name
        else:
            assert mine == theirs, field.name


@settings(max_examples=150, deadline=None)
@given(start=st.fixed_dictionaries({path: models for path in FILES}), sequence=st.lists(edits, min_size=1, max_size=12))
def test_incremental_graph_equals_a_full_rebuild(start, sequence):
    state = {path: model for path, model in start.items()}
    records = {path: record(path, render_file(*model)) for path, model in state.items()}
    graph = build_graph(records)
    for path, kind, model, rng in sequence:
        new_state = dict(state)
        if kind == "remove":
            new_state.pop(path, None)
        elif kind == "bodies" and path in state:
            functions, methods = state[path]
            new_state[path] = ({name: rng.sample(NAMES, rng.randrange(4)) for name in functions},
                               {name: rng.sample(NAMES, rng.randrange(3)) for name in methods})
        else:
            new_state[path] = model
        new_records = {p: (records[p] if new_state[p] == state.get(p) else record(p, render_file(*new_state[p])))
                       for p in new_state}
        graph = update_graph(graph, records, new_records)
        assert_same_graph(graph, build_graph(new_records))
        state, records = new_state, new_records


def test_a_body_edit_is_spliced_not_rebuilt():
    """The fast path is taken for an edit inside a body (the graph's unchanged arrays are shared)."""
    texts = {"a.py": "def parse(x):\n    return render(x)\n", "b.py": "def render(x):\n    return parse(x)\n",
             "c.py": "def save(x):\n    return x\n"}
    records = {path: record(path, text) for path, text in texts.items()}
    graph = build_graph(records)
    edited = dict(records, **{"a.py": record("a.py", "def parse(x):\n    save(x)\n    return render(x)\n")})
    updated = update_graph(graph, records, edited)
    assert updated.definers is graph.definers and updated.names is graph.names
    assert_same_graph(updated, build_graph(edited))
    assert ("save" in [updated.names[n] for n in updated.edge_name[updated.edge_src == 0]])


def test_a_new_defined_name_is_spliced_and_relinks_its_referrers():
    """A new function is spliced (no rebuild: the file list is shared), and a file that already called
    that name gains an edge to it, with the names after it renumbered."""
    texts = {"a.py": "def parse(x):\n    return zebra(x)\n", "b.py": "def render(x):\n    return parse(x)\n",
             "c.py": "def save(x):\n    return x\n"}
    records = {path: record(path, text) for path, text in texts.items()}
    graph = build_graph(records)
    edited = dict(records, **{"c.py": record("c.py", "def save(x):\n    return x\n\ndef zebra(y):\n    return y\n"
                                                     "\ndef alpha(z):\n    return z\n")})
    updated = update_graph(graph, records, edited)
    assert updated.files is graph.files
    assert_same_graph(updated, build_graph(edited))
    a_to = [(updated.files[d], updated.names[n]) for s, d, n in zip(updated.edge_src, updated.edge_dst, updated.edge_name)
            if updated.files[s] == "a.py"]
    assert a_to == [("c.py", "zebra")]
    # And back: the names gone, the edge gone.
    reverted = update_graph(updated, edited, records)
    assert reverted.files is graph.files
    assert_same_graph(reverted, graph)


def test_a_file_created_or_deleted_is_spliced():
    """A new file (defining a name others already define, and calling one) is spliced, not rebuilt:
    the name table is shared; deleting it again gives back the first graph."""
    texts = {"a.py": "def parse(x):\n    return render(x)\n", "c.py": "def render(x):\n    return parse(x)\n"}
    records = {path: record(path, text) for path, text in texts.items()}
    graph = build_graph(records)
    grown = dict(records, **{"b.py": record("b.py", "def parse(y):\n    return render(y)\n")})
    updated = update_graph(graph, records, grown)
    assert updated.names is graph.names and updated.files == ["a.py", "b.py", "c.py"]
    assert_same_graph(updated, build_graph(grown))
    shrunk = update_graph(updated, grown, records)
    assert shrunk.names is graph.names
    assert_same_graph(shrunk, graph)


def edge_by_edge(records: dict) -> list[tuple[int, int, str, float, int]]:
    """(source, target, name, weight, key) of every edge, as the graph is defined: each file's
    ``file_edges`` in file order, keys numbered by the first edge of each (target, name)."""
    files = sorted(records)
    definers: dict[str, list[int]] = {}
    for fid, path in enumerate(files):
        for name in dict.fromkeys(d.name for d in records[path].tags.definitions):
            definers.setdefault(name, []).append(fid)
    name_ids = {name: i for i, name in enumerate(sorted(definers))}
    keys: dict[tuple[int, int], int] = {}
    return [(fid, target, nid, weight, keys.setdefault((target, nid), len(keys)))
            for fid, path in enumerate(files)
            for target, nid, weight in file_edges(fid, records[path], definers, name_ids)]


def graph_edges(graph: Graph) -> list[tuple[int, int, int, float, int]]:
    return list(zip(graph.edge_src.tolist(), graph.edge_dst.tolist(), graph.edge_name.tolist(),
                    graph.edge_weight.tolist(), graph.edge_key.tolist()))


@settings(max_examples=150, deadline=None)
@given(workspace=st.fixed_dictionaries({path: models for path in FILES}))
def test_the_built_graph_has_each_files_edges_in_order(workspace):
    records = {path: record(path, render_file(*model)) for path, model in workspace.items()}
    graph = build_graph(records)
    assert graph_edges(graph) == edge_by_edge(records)  # weights compared exactly
    keyed = {(d, n): k for d, n, k in zip(graph.edge_dst.tolist(), graph.edge_name.tolist(), graph.edge_key.tolist())}
    assert graph.key_count == len(keyed)
    for fid, nid, key in zip(graph.cand_file.tolist(), graph.cand_name.tolist(), graph.cand_key.tolist()):
        assert key == keyed.get((fid, nid), -1)


def test_a_name_defined_in_too_many_files_links_nothing():
    """Past MAX_DEFINERS files a name is too ambiguous to link; at the limit each definer gets an edge,
    weighted down by their number; a file calling its own definition gets no edge to itself."""
    many = {f"m{i:02}.py": record(f"m{i:02}.py", "def common(x):\n    return x\n\ndef shared(x):\n    return x\n")
            for i in range(MAX_DEFINERS + 1)}
    few = {f"m{i:02}.py": many[f"m{i:02}.py"] for i in range(MAX_DEFINERS)}
    caller = "def run(x):\n    common(x)\n    shared(x)\n    shared(x)\n    run(x)\n"
    for defined in (many, few):
        records = dict(defined, **{"main.py": record("main.py", caller)})
        graph = build_graph(records)
        assert graph_edges(graph) == edge_by_edge(records)
        linked = {graph.names[n] for n in graph.edge_name.tolist()}
        assert linked == (set() if defined is many else {"common", "shared"})


@given(st.text(max_size=12))
@example("ǅungla")  # a title-case letter: lower() changes it, yet it is not upper case
@example("Ärger")
@example("snake_case_1")
def test_upper_case_is_found_as_str_isupper_finds_it(text):
    assert _has_upper(text) == any(c.isupper() for c in text)
