"""The run list a picker shows: newest first by start time, what each run was, what it left written."""

from __future__ import annotations

from codegen_server.store import RunStore


async def test_runs_are_listed_by_start_time_with_a_description(tmp_path):
    store = RunStore(tmp_path)
    generate = await store.create("generate", prompt="a calculator library " + "with more words " * 6)
    await generate.update_meta(start_checkpoint="0000", written=["calc/ops.py"])
    markers = await store.create("feedback", markers=[{"path": "a.py", "line": 3, "text": "make it faster"},
                                                      {"path": "b.py", "line": 1, "text": "rename x"}])
    await markers.update_meta(start_checkpoint="0000", written=[])
    applied = await store.create("apply")
    await applied.update_meta(outcome={"files": [{"path": "notes.txt", "action": "modify"}]})
    # Created in the same second, ids sort by their random tail: the order comes from ``started``.
    listed = store.list_runs()
    assert [r.id for r in listed] == [applied.id, markers.id, generate.id]
    assert [r.description for r in listed] == [
        "apply: notes.txt", "markers: make it faster (+1 more)",
        "generate: a calculator library with more words with more words with more words ..."]
    # Undoable: a start checkpoint and files left changed. An apply run without a start wrote nothing.
    assert [(r.written, r.undoable) for r in listed] == [((), False), ((), False), (("calc/ops.py",), True)]
