"""codegen.fixTests and codegen.undo, driven over stdio by an editor-like client, on real projects."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.conftest import model_env
from tests.support.fix_projects import (
    EDIT_THE_TEST,
    FIX_CART,
    FIX_ONE_BREAK_TWO,
    FIX_PRICE_JS,
    TOUCH_DOCSTRING,
    fix_model,
    make_node_project,
    make_python_project,
    snapshot,
)


async def test_loop_ends_green_with_the_edit_in_the_files(tmp_path, scripted_model, editor_factory):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {})

    assert result["green"] is True and result["stopped"] == "green"
    assert result["failingAtStart"] == 1 and result["failingAtEnd"] == 0 and result["testsFixed"] == 1
    assert "return sum(prices)\n" in (tmp_path / "shop/cart.py").read_text()
    assert (tmp_path / "tests/test_cart.py").read_bytes() == start["tests/test_cart.py"]
    [iteration] = result["iterations"]
    assert iteration["edited"] == ["shop/cart.py"] and iteration["failingBefore"] == 1

    # The editor previewed the edit; the daemon made sure the disk holds it before re-running tests.
    assert len(editor.edits_received) == 1
    assert editor.buffer_text("shop/cart.py") == (tmp_path / "shop/cart.py").read_text()

    # Diagnose came first, and saw the real failure; the plan came second.
    diagnose, plan = model.requests
    assert "test_total" in diagnose["messages"][-1]["content"] and "assert 5 == 6" in diagnose["messages"][-1]["content"]
    assert "def total(prices)" in diagnose["messages"][-1]["content"]  # context from the context engine
    assert plan["messages"][-2]["content"] == "total() skips the first price."

    run_dir = tmp_path / ".codegen/runs" / result["runId"]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "green"
    assert (run_dir / "tests/start.json").is_file() and (run_dir / "iterations.json").is_file()
    assert "+    return sum(prices)" in (run_dir / "iterations/01.patch").read_text()
    assert [p.name for p in sorted((run_dir / "calls").iterdir())] == ["001-diagnose-1.json", "002-plan-1.json"]

    reports = [r for rs in editor.client.progress_reports.values() for r in rs]
    assert any("iteration 1/8 — 1 failing" in (getattr(r, "message", "") or "") for r in reports)


async def test_with_save_after_apply_off_the_loop_tests_the_edited_code(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART]))
    # This editor applies the edit to its buffer and does not save; the daemon is told not to save either.
    editor = await editor_factory(tmp_path, env=model_env(model), reports_applied_edits=True,
                                  initialization_options={"apply": {"saveAfterApply": False}})
    result = await editor.execute("codegen.fixTests", {})
    assert len(editor.edits_received) == 1 and "return sum(prices)\n" in editor.buffer_text("shop/cart.py")
    # The tests read the disk: the loop wrote the accepted edit there before re-running them.
    assert "return sum(prices)\n" in (tmp_path / "shop/cart.py").read_text()
    assert result["green"] is True and len(result["iterations"]) == 1


NOTES_TOO = FIX_CART.replace("```\n", "") + "--- a/notes.py\n+++ b/notes.py\n@@ -1 +1 @@\n-v2 = 2\n+TWO = 2\n```\n"


async def test_a_file_rejected_in_the_review_is_not_written_by_the_loop(tmp_path, scripted_model, editor_factory):
    """An editor that reviews hunk by hunk (the Neovim plugin) writes what the user accepted itself;
    the loop must not write the rest of the model's change over that choice (seen in Neovim: a rejected
    hunk was on disk after the iteration)."""
    make_python_project(tmp_path)
    (tmp_path / "notes.py").write_text("v2 = 2\n")
    model = scripted_model(fix_model([NOTES_TOO]))
    editor = await editor_factory(tmp_path, env=model_env(model), client="neovim", reports_applied_edits=True,
                                  initialization_options={"apply": {"saveAfterApply": False}})
    apply_all = editor.apply_workspace_edit

    def accept_cart_only(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        kept = [c for c in params.edit.document_changes if c.text_document.uri.endswith("/shop/cart.py")]
        assert len(kept) == 1 and len(params.edit.document_changes) == 2
        result = apply_all(types.ApplyWorkspaceEditParams(label=params.label, edit=types.WorkspaceEdit(
            document_changes=kept, change_annotations=params.edit.change_annotations)))
        (tmp_path / "shop/cart.py").write_text(editor.buffer_text("shop/cart.py"))  # as the plugin writes a hunk
        return result

    editor.apply_workspace_edit = accept_cart_only
    result = await editor.execute("codegen.fixTests", {})
    assert result["green"] is True and "return sum(prices)\n" in (tmp_path / "shop/cart.py").read_text()
    assert (tmp_path / "notes.py").read_text() == "v2 = 2\n"  # rejected: never written
    # The iteration records what landed, and what the review left out is said, for the model's next request.
    run = tmp_path / ".codegen" / "runs" / result["runId"]
    patch = (run / "iterations" / "01.patch").read_text()
    assert "shop/cart.py" in patch and "notes.py" not in patch
    [iteration] = result["iterations"]
    assert iteration["edited"] == ["shop/cart.py"]
    assert "notes.py: the user rejected your change to it in the review" in iteration["refused"]


async def test_undo_returns_to_the_start_byte_for_byte(tmp_path, scripted_model, editor_factory):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})
    assert result["green"] and not editor.edits_received  # auto-accepted: no preview
    (tmp_path / "notes.txt").write_text("written after the run\n")

    undone = await editor.execute("codegen.undo", {"runId": result["runId"]})
    assert undone["restoredTo"] == "start" and "notes.txt" in undone["removed"]
    assert snapshot(tmp_path) == start


async def test_a_model_that_makes_things_worse_stops_and_restores_the_best_state(
        tmp_path, scripted_model, editor_factory):
    start = make_python_project(tmp_path)
    # Iteration 1 fixes the failing test but breaks two others; iteration 2 changes nothing that matters.
    model = scripted_model(fix_model([FIX_ONE_BREAK_TWO, TOUCH_DOCSTRING]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})
    assert result["green"] is False and result["stopped"] == "no-progress"
    assert [i["failingAfter"] for i in result["iterations"]] == [2, 2]
    assert result["restoredTo"] == "start" and result["failingAtEnd"] == 1
    assert "returned to its best state" in result["summary"]
    assert snapshot(tmp_path) == start


#: The root conftest.py made to deselect the failing test: pytest would then report green.
IGNORE_THE_TEST = '''```diff
--- a/conftest.py
+++ b/conftest.py
@@ -0,0 +1 @@
+collect_ignore = ["tests/test_cart.py"]
```
'''


@pytest.mark.parametrize("edit", [EDIT_THE_TEST, IGNORE_THE_TEST], ids=["the-test", "a-conftest-deselecting-it"])
async def test_tests_are_not_edited_to_make_them_pass(tmp_path, scripted_model, editor_factory, edit):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([edit, FIX_CART]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})
    assert result["green"] is True and len(result["iterations"]) == 2
    assert "tests are not edited" in result["iterations"][0]["refused"][0]
    assert (tmp_path / "tests/test_cart.py").read_bytes() == start["tests/test_cart.py"]
    assert (tmp_path / "conftest.py").read_bytes() == start["conftest.py"]
    # The refusal went back to the model.
    assert "tests are not edited" in model.requests[2]["messages"][-1]["content"]


async def test_the_iteration_limit_stops_the_loop(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_ONE_BREAK_TWO]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "maxIterations": 1})
    assert result["stopped"] == "iterations" and len(result["iterations"]) == 1


async def test_cancel_mid_run_leaves_the_last_checkpoint(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    # Iteration 1 applies an edit quickly; iteration 2's diagnosis streams slowly and is cancelled.
    calls = {"n": 0}
    quick = fix_model([FIX_ONE_BREAK_TWO, FIX_CART])

    def respond(body):
        calls["n"] += 1
        step = quick(body)
        if calls["n"] >= 3:
            step.content, step.chunk_size, step.chunk_delay = "slow thinking " * 200, 4, 0.05
        return step

    model = scripted_model(respond)
    editor = await editor_factory(tmp_path, env=model_env(model))
    request = types.ExecuteCommandParams(command="codegen.fixTests", arguments=[{"autoAccept": True}])
    task = asyncio.ensure_future(editor.client.protocol.send_request_async(
        types.WORKSPACE_EXECUTE_COMMAND, request, msg_id="fix-1"))
    # Iteration 1 runs the tests twice: on a loaded machine that takes a while, so wait for the event.
    for _ in range(2400):
        if calls["n"] >= 3 or task.done():
            break
        await asyncio.sleep(0.05)
    assert calls["n"] >= 3, task.result() if task.done() else "iteration 2 never started"
    after_iteration_1 = snapshot(tmp_path)
    (tmp_path / "shop/cart.py").write_text("half-written by someone\n")  # disturbed mid-iteration
    editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="fix-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, timeout=5)
    # The run is marked cancelled once the restore has finished: wait for that event, not a fixed time.
    [run] = (tmp_path / ".codegen/runs").iterdir()
    for _ in range(1200):
        if json.loads((run / "run.json").read_text())["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert json.loads((run / "run.json").read_text())["status"] == "cancelled"
    assert snapshot(tmp_path) == after_iteration_1
    assert "return len(prices) + 1" in (tmp_path / "shop/cart.py").read_text()  # iteration 1's edit


async def test_commands_need_the_users_consent(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    plan = FIX_CART + "\nRUN: touch setup-done.txt\n"
    model = scripted_model(fix_model([plan]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    editor.consent_answer = "Deny"
    # Consent is per kind of action: allowing installs does not allow the model's shell commands.
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "allowInstall": True})
    assert result["green"] and result["iterations"][0]["actions"] == ["run `touch setup-done.txt`: not allowed"]
    assert "touch setup-done.txt" in editor.questions[0]
    assert not (tmp_path / "setup-done.txt").exists()


async def test_allowed_commands_run(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART + "\nRUN: touch setup-done.txt\n"]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    editor.consent_answer = "Allow"
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})
    assert result["iterations"][0]["actions"] == ["run `touch setup-done.txt`: exit 0"]
    assert (tmp_path / "setup-done.txt").exists()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_a_node_project_is_fixed_too(tmp_path, scripted_model, editor_factory):
    make_node_project(tmp_path)
    model = scripted_model(fix_model([FIX_PRICE_JS], diagnosis="total() drops the first price."))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})
    assert result["green"] is True and result["failingAtStart"] == 1
    assert "prices.reduce(" in (tmp_path / "price.js").read_text()
    assert "total adds every price" in model.requests[0]["messages"][-1]["content"]


async def test_no_test_command_is_a_clear_error(tmp_path, scripted_model, editor_factory):
    (tmp_path / "README.md").write_text("nothing to test\n")
    model = scripted_model(fix_model([]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    with pytest.raises(Exception) as caught:
        await editor.execute("codegen.fixTests", {})
    assert "No test command found" in str(caught.value) and "testCommand" in str(caught.value)

    # A test tool that is not installed is no failing test: said so, before any model call (issue 32).
    with pytest.raises(Exception) as caught:
        await editor.execute("codegen.fixTests", {"testCommand": "nosuchtool -x"})
    assert "`nosuchtool` (from `nosuchtool -x`) is not installed" in str(caught.value)
    assert caught.value.data["kind"] == "file-not-found" and not model.requests
