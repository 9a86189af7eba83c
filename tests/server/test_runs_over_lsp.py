"""Issue 26 items 1-3 over the protocol: undo for every writing run, a truthful cancel, one writing run
per workspace at a time, and a stale preview never written."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.answers import BROKEN_CALC, CALC_FILES, CALC_PROJECT, MEAN_EMPTY_LIST, NEW_MODULE, STATS
from tests.support.fix_projects import FIX_CART, FIX_ONE_BREAK_TWO, fix_model, make_python_project, snapshot
from tests.server.test_code_actions import DONE, MARKED
from tests.server.test_feedback_over_lsp import comment_args

NOTES_DIFF = "--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-one\n+two\n"


def progress_messages(editor, title: str) -> list[str]:
    """The messages of every progress whose title holds ``title``."""
    found = []
    for reports in editor.client.progress_reports.values():
        if reports and isinstance(reports[0], types.WorkDoneProgressBegin) and title in reports[0].title:
            found += [r.message or "" for r in reports if isinstance(r, types.WorkDoneProgressReport)]
    return found


def progress_token(editor, title: str):
    return next(token for token, reports in editor.client.progress_reports.items()
                if reports and isinstance(reports[0], types.WorkDoneProgressBegin) and title in reports[0].title)


async def until(condition, what: str, limit: float = 120.0) -> None:
    for _ in range(int(limit / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_undo_after_generate_restores_byte_for_byte(tmp_path, scripted_model, editor_factory):
    (tmp_path / "notes.txt").write_bytes(b"kept as is\r\n")
    start = snapshot(tmp_path)
    model = scripted_model([ScriptStep(content=CALC_PROJECT.replace("README.md", "CALC.md"))])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.generateProject", {"prompt": "a calculator library in python"})
    assert result["applied"] is True and (tmp_path / "calc/ops.py").is_file()

    [run] = (await editor.execute("codegen.runs", {}))["runs"]
    assert run["id"] == result["runId"] and run["undoable"] is True
    assert run["description"] == "generate: a calculator library in python" and run["started"]
    assert sorted(run["written"]) == sorted(p.replace("README.md", "CALC.md") for p in CALC_FILES)

    undone = await editor.execute("codegen.undo", {"runId": result["runId"]})
    assert undone["restoredTo"] == "start" and "calc/ops.py" in undone["removed"]
    assert snapshot(tmp_path) == start and not (tmp_path / "calc").exists()
    [run] = (await editor.execute("codegen.runs", {}))["runs"]
    assert run["undoable"] is False and run["written"] == []


async def test_undo_after_feedback_restores_byte_for_byte(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    start = snapshot(tmp_path)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.applyFeedback", comment_args(tmp_path))
    assert result["applied"] is True and "if not values:" in (tmp_path / "stats.py").read_text()
    # The VS Code view's row: the whole comment (Re-run) and the place of its thread (Continue).
    [listed] = (await editor.execute("codegen.runs", {}))["runs"]
    assert (listed["asked"], listed["path"]) == (comment_args(tmp_path)["comment"], "stats.py") and listed["lines"]

    # No id: the latest run that left files changed, which is this one.
    undone = await editor.execute("codegen.undo", {})
    assert undone["runId"] == result["runId"] and undone["written"] == ["stats.py"]
    assert snapshot(tmp_path) == start



async def test_undo_after_a_markers_run_restores_byte_for_byte(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(MARKED)
    start = snapshot(tmp_path)
    model = scripted_model([ScriptStep(content=DONE + "\nDONE: 1\n")])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.applyFeedback", {"markers": True, "root": str(tmp_path)})
    assert result["applied"] is True and "# codegen:" not in (tmp_path / "stats.py").read_text()
    [listed] = (await editor.execute("codegen.runs", {}))["runs"]
    assert listed["id"] == result["runId"] and listed["undoable"] is True and listed["written"] == ["stats.py"]

    undone = await editor.execute("codegen.undo", {})
    assert undone["runId"] == result["runId"] and undone["written"] == ["stats.py"]
    assert snapshot(tmp_path) == start  # the markers are back, as they were

async def test_undo_without_an_id_walks_back_through_the_writing_runs(tmp_path, scripted_model, editor_factory):
    (tmp_path / "notes.txt").write_text("one\n")
    start = snapshot(tmp_path)
    model = scripted_model([ScriptStep(content=NEW_MODULE)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    generated = await editor.execute("codegen.generateProject", {"prompt": "an adder", "apply": "disk"})
    assert generated["applied"] is True
    after_generate = snapshot(tmp_path)
    applied = await editor.execute("codegen.applyDiff", {"diff": NOTES_DIFF, "apply": "disk"})
    assert applied["applied"] is True and applied["runId"]
    # A run that wrote nothing (a preview only) is never undo's default.
    previewed = await editor.execute("codegen.applyDiff", {"diff": "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n"
                                                                   "-def add(a, b):\n+def plus(a, b):\n"
                                                                   "     return a + b\n", "apply": "none"})
    assert previewed["applied"] is False

    runs = (await editor.execute("codegen.runs", {}))["runs"]
    assert [r["kind"] for r in runs] == ["apply", "apply", "generate"]  # newest first, by start time
    assert [r["undoable"] for r in runs] == [False, True, True]
    assert [r["description"] for r in runs] == ["apply: calc.py", "apply: notes.txt", "generate: an adder"]

    first = await editor.execute("codegen.undo", {})
    assert first["runId"] == applied["runId"] and snapshot(tmp_path) == after_generate
    second = await editor.execute("codegen.undo", {})
    assert second["runId"] == generated["runId"] and snapshot(tmp_path) == start
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.undo", {})
    assert "nothing to undo" in str(caught.value)


async def test_cancel_in_fix_iteration_2_tells_what_stays_written(tmp_path, scripted_model, editor_factory):
    start = make_python_project(tmp_path)
    calls = {"n": 0}
    quick = fix_model([FIX_ONE_BREAK_TWO, FIX_CART])

    def respond(body):
        calls["n"] += 1
        step = quick(body)
        if calls["n"] >= 3:  # iteration 2's diagnosis streams slowly: it is cancelled
            step.content, step.chunk_size, step.chunk_delay = "slow thinking " * 200, 4, 0.05
        return step

    model = scripted_model(respond)
    editor = await editor_factory(tmp_path, env=model_env(model))
    task = asyncio.ensure_future(editor.execute("codegen.fixTests", {"autoAccept": True}))
    await until(lambda: calls["n"] >= 3 or task.done(), "iteration 2")
    assert not task.done(), task.result()
    editor.client.window_work_done_progress_cancel(
        types.WorkDoneProgressCancelParams(token=progress_token(editor, "fix")))
    answer = await asyncio.wait_for(task, timeout=30)

    [run] = (await editor.execute("codegen.runs", {}))["runs"]
    assert answer["cancelled"] is True and answer["runId"] == run["id"]
    assert answer["restoredTo"] == "iteration 1" and answer["written"] == ["shop/cart.py"]
    assert "returned to iteration 1" in answer["message"] and "shop/cart.py" in answer["message"]
    assert "nothing" not in answer["message"]
    assert "return len(prices) + 1" in (tmp_path / "shop/cart.py").read_text()  # iteration 1's edit stays

    assert run["undoable"] is True
    undone = await editor.execute("codegen.undo", {})
    assert undone["runId"] == run["id"] and snapshot(tmp_path) == start


async def test_a_second_generate_waits_for_the_first(tmp_path, scripted_model, editor_factory):
    (tmp_path / "notes.txt").write_text("one\n")
    model = scripted_model([ScriptStep(content=CALC_PROJECT.replace("README.md", "CALC.md"), chunk_size=40,
                                       chunk_delay=0.05),
                            ScriptStep(content=NEW_MODULE.replace("calc.py", "adder.py"))])
    editor = await editor_factory(tmp_path, env=model_env(model))
    first = asyncio.ensure_future(editor.execute("codegen.generateProject", {"prompt": "a calculator"}))
    await until(lambda: any("tokens streamed" in m for m in progress_messages(editor, "generate")), "streaming")
    second = asyncio.ensure_future(editor.execute("codegen.generateProject", {"prompt": "an adder"}))
    # Or the second asked the model: then it did not wait, and the asserts below say so at once.
    await until(lambda: any("waiting for" in m for m in progress_messages(editor, "generate"))
                or len(model.requests) > 1 or second.done(), "the wait")
    assert any(m.startswith("waiting for codegen: generate") and m.endswith("to finish")
               for m in progress_messages(editor, "generate"))
    assert len(model.requests) == 1  # the second has not asked the model yet, nor started its run
    assert len((await editor.execute("codegen.runs", {}))["runs"]) == 1

    one, two = await asyncio.wait_for(asyncio.gather(first, second), timeout=180)
    assert one["applied"] is True and two["applied"] is True
    runs = (await editor.execute("codegen.runs", {}))["runs"]
    assert [r["description"] for r in runs] == ["generate: an adder", "generate: a calculator"]
    for path in [p.replace("README.md", "CALC.md") for p in CALC_FILES] + ["adder.py"]:
        text = (tmp_path / path).read_text()
        assert text and editor.buffer_text(path) == text, path  # nothing truncated, buffers match the disk
    assert (tmp_path / "notes.txt").read_text() == "one\n"


async def test_a_writing_command_cancelled_while_waiting_is_refused(tmp_path, scripted_model, editor_factory):
    (tmp_path / "notes.txt").write_text("one\n")
    model = scripted_model([ScriptStep(content=CALC_PROJECT, chunk_size=2, chunk_delay=0.05)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    generating = asyncio.ensure_future(editor.execute("codegen.generateProject", {"prompt": "a calculator"}))
    await until(lambda: any("tokens streamed" in m for m in progress_messages(editor, "generate")), "streaming")
    applying = asyncio.ensure_future(editor.execute("codegen.applyDiff", {"diff": NOTES_DIFF, "apply": "disk"}))
    # Or it was written: then it did not wait, and the asserts below say so at once.
    await until(lambda: any("waiting for" in m for m in progress_messages(editor, "apply diff"))
                or applying.done() or (tmp_path / "notes.txt").read_text() != "one\n", "the wait")
    editor.client.window_work_done_progress_cancel(
        types.WorkDoneProgressCancelParams(token=progress_token(editor, "apply diff")))
    answer = await asyncio.wait_for(applying, timeout=10)
    assert answer["cancelled"] is True and answer["runId"] is None and answer["written"] == []
    assert "while waiting for" in answer["message"] and "did not start" in answer["message"]
    assert (tmp_path / "notes.txt").read_text() == "one\n" and not generating.done()
    editor.client.window_work_done_progress_cancel(
        types.WorkDoneProgressCancelParams(token=progress_token(editor, "generate")))
    cancelled = await asyncio.wait_for(generating, timeout=10)
    assert cancelled["cancelled"] is True and cancelled["written"] == []
    assert cancelled["message"].endswith("was cancelled; nothing was written.")


async def test_a_stale_preview_is_never_written(tmp_path, scripted_model, editor_factory):
    (tmp_path / "notes.txt").write_text("one\n")
    model = scripted_model([])
    editor = await editor_factory(tmp_path, env=model_env(model))
    accept = editor.apply_workspace_edit

    def someone_writes_while_the_preview_is_open(params):
        (tmp_path / "notes.txt").write_text("written by someone else\n")
        return accept(params)

    editor.apply_workspace_edit = someone_writes_while_the_preview_is_open
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.applyDiff", {"diff": NOTES_DIFF, "apply": "client"})
    assert "notes.txt changed on disk while the preview was open" in str(caught.value)
    assert caught.value.data["kind"] == "stale-preview"
    assert (tmp_path / "notes.txt").read_text() == "written by someone else\n"


async def test_a_new_file_the_editor_could_not_save_is_named_with_the_editors_reason(tmp_path, scripted_model,
                                                                                      editor_factory):
    model = scripted_model([ScriptStep(content=NEW_MODULE)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    accept = editor.apply_workspace_edit

    def created_empty_and_not_saved(params):
        accept(params)
        (tmp_path / "calc.py").write_text("")  # created, as an editor's createFile does, and never saved
        return types.ApplyWorkspaceEditResult(applied=True, failure_reason="applied, but calc.py could not be saved")

    editor.apply_workspace_edit = created_empty_and_not_saved
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.generateProject", {"prompt": "an adder", "apply": "client"})
    assert "calc.py changed on disk while the preview was open" in str(caught.value)
    assert "The editor answered: applied, but calc.py could not be saved." in str(caught.value)
    assert caught.value.data["kind"] == "stale-preview"
    assert (tmp_path / "calc.py").read_text() == ""


async def test_a_generate_cancelled_in_its_fix_loop_names_the_generate_to_undo(tmp_path, scripted_model,
                                                                                 editor_factory):
    (tmp_path / "notes.txt").write_text("one\n")
    start = snapshot(tmp_path)
    broken = BROKEN_CALC.replace("README.md", "CALC.md")
    model = scripted_model(lambda body: ScriptStep(content=broken) if body["messages"][-1]["content"].startswith(
        "a calculator") else ScriptStep(content="slow thinking " * 200, chunk_size=4, chunk_delay=0.05))
    editor = await editor_factory(tmp_path, env=model_env(model))
    task = asyncio.ensure_future(editor.execute("codegen.generateProject",
                                                {"prompt": "a calculator", "apply": "disk", "fix": True}))
    await until(lambda: len(model.requests) >= 2 or task.done(), "the fix loop's diagnosis")
    assert not task.done(), task.result()
    editor.client.window_work_done_progress_cancel(
        types.WorkDoneProgressCancelParams(token=progress_token(editor, "generate")))
    answer = await asyncio.wait_for(task, timeout=30)

    runs = {r["kind"]: r for r in (await editor.execute("codegen.runs", {}))["runs"]}
    assert answer["cancelled"] is True and answer["runId"] == runs["generate"]["id"]
    assert "calc/ops.py" in answer["written"] and answer["restoredTo"] == "start"  # the fix's start
    undone = await editor.execute("codegen.undo", {"runId": answer["runId"]})
    assert undone["runId"] == runs["generate"]["id"] and snapshot(tmp_path) == start
