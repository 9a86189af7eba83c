"""The fix loop's stops and options the README promises, over LSP with the scripted model (issue 19 point 5)."""

from __future__ import annotations

import sys

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.fix_projects import (
    CART,
    EDIT_THE_TEST,
    FIX_CART,
    FIX_ONE_BREAK_TWO,
    fix_model,
    make_python_project,
    snapshot,
)
from tests.support.recording import calls, recording_wrapper

# FIX_ONE_BREAK_TWO turned back: the workspace returns to the state the run started in.
UNDO_ONE_BREAK_TWO = "\n".join(
    {"+": "-", "-": "+"}.get(line[:1], "") + line[1:] if line[:1] in "+-" and not line.startswith(("---", "+++"))
    else line for line in FIX_ONE_BREAK_TWO.splitlines()) + "\n"
NO_IDEA = "I cannot see what to change."


async def test_the_token_budget_stops_the_loop(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_ONE_BREAK_TWO, FIX_ONE_BREAK_TWO]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "tokenBudget": 1, "maxIterations": 4})
    assert result["stopped"] == "budget" and len(result["iterations"]) == 1
    assert result["tokensUsed"] >= 1 and "the token budget was spent" in result["summary"]
    assert len(model.requests) == 2  # one diagnose, one plan: nothing asked after the budget ran out


async def test_a_workspace_state_seen_before_is_no_progress(tmp_path, scripted_model, editor_factory):
    start = make_python_project(tmp_path)
    # Iteration 1 changes the failures (1 -> 2); iteration 2 turns the edit back: the start state again.
    model = scripted_model(fix_model([FIX_ONE_BREAK_TWO, UNDO_ONE_BREAK_TWO]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "maxIterations": 3})
    assert result["stopped"] == "no-progress"
    assert [i["failingAfter"] for i in result["iterations"]] == [2, 1]
    # Iteration 2 starts a conversation of its own, which says what iteration 1 tried and what came of it.
    first, second = [r for r in model.requests if len(r["messages"]) == 2]  # the diagnose requests
    assert "What was tried before" not in first["messages"][1]["content"]
    history = second["messages"][1]["content"]
    assert ("- Iteration 1: diagnosis: total() skips the first price.\n  Applied: changes to shop/cart.py.\n"
            "  Tests: 1 failing before, 2 after; now passing: tests/test_cart.py::test_total; newly failing: ") in history
    assert [i["edited"] for i in result["iterations"]] == [["shop/cart.py"], ["shop/cart.py"]]
    assert snapshot(tmp_path) == start


async def test_two_iterations_that_change_nothing_are_no_progress(tmp_path, scripted_model, editor_factory):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([NO_IDEA, NO_IDEA, NO_IDEA, NO_IDEA]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "maxIterations": 4})
    assert result["stopped"] == "no-progress" and len(result["iterations"]) == 2
    assert "nothing could be applied in two iterations in a row" in result["summary"]  # not "the model made no progress"
    assert all(not i["edited"] for i in result["iterations"])
    assert snapshot(tmp_path) == start


async def test_a_change_skipped_in_the_review_lets_the_run_go_on(tmp_path, scripted_model, editor_factory):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART]))
    editor = await editor_factory(tmp_path, env=model_env(model), accept_edits=False)
    editor.decline_reason = "codegen:skip"  # the VS Code preview's Discard → "Skip This Change"
    result = await editor.execute("codegen.fixTests", {"maxIterations": 1})
    # The iteration counts, nothing was written, and the model will hear why; a plain decline ends the run
    # as "declined" with no iteration.
    assert result["stopped"] == "iterations" and len(result["iterations"]) == 1 and len(editor.edits_received) == 1
    [iteration] = result["iterations"]
    assert not iteration["edited"] and "the user skipped this change" in iteration["refused"][0]
    assert snapshot(tmp_path) == start


async def test_allow_test_edits_lets_the_model_edit_a_test(tmp_path, scripted_model, editor_factory):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([EDIT_THE_TEST]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "allowTestEdits": True})
    assert result["green"] is True and result["iterations"][0]["edited"] == ["tests/test_cart.py"]
    assert not result["iterations"][0]["refused"]
    assert "== 5" in (tmp_path / "tests/test_cart.py").read_text()
    assert (tmp_path / "shop/cart.py").read_bytes() == start["shop/cart.py"]


async def test_undo_to_an_iteration_to_an_id_and_undoing_the_undo(tmp_path, scripted_model, editor_factory):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_ONE_BREAK_TWO]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "maxIterations": 1})
    # Iteration 1 made things worse, so the run ended back at its start.
    assert result["restoredTo"] == "start" and snapshot(tmp_path) == start
    run_id = result["runId"]

    to_iteration = await editor.execute("codegen.undo", {"runId": run_id, "checkpoint": "iteration 1"})
    assert to_iteration["restoredTo"] == "iteration 1" and to_iteration["written"] == ["shop/cart.py"]
    after_iteration_1 = snapshot(tmp_path)
    assert "return len(prices) + 1" in after_iteration_1["shop/cart.py"].decode()

    # Undoing that undo: its beforeUndo checkpoint holds the start state.
    back = await editor.execute("codegen.undo", {"runId": run_id, "checkpoint": to_iteration["beforeUndo"]})
    assert snapshot(tmp_path) == start and back["beforeUndo"] != to_iteration["beforeUndo"]

    # And by id: the checkpoint taken before the last undo is iteration 1's state.
    again = await editor.execute("codegen.undo", {"runId": run_id, "checkpoint": back["beforeUndo"]})
    assert again["written"] == ["shop/cart.py"] and snapshot(tmp_path) == after_iteration_1


async def test_allow_install_runs_a_plain_install_without_asking(tmp_path, scripted_model, editor_factory):
    project, log = tmp_path / "project", tmp_path / "pip-calls.jsonl"
    project.mkdir()
    make_python_project(project)
    # The project's own interpreter, recording its argv; openai is installed already, so pip stays offline.
    recording_wrapper(project / "venv/bin/python", sys.executable, log)
    model = scripted_model(fix_model([FIX_CART + "\nINSTALL: openai>=1\n"]))
    editor = await editor_factory(project, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "allowInstall": True})
    assert result["green"] is True and not editor.questions
    assert [argv for argv in calls(log) if argv[:2] == ["-m", "pip"]] == [["-m", "pip", "install", "--", "openai>=1"]]
    [action] = result["iterations"][0]["actions"]
    assert action.startswith("install openai>=1 by running") and action.endswith(": exit 0")


async def test_a_failed_hunk_goes_back_to_the_model_within_the_iteration(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    missing = FIX_CART.replace("    return sum(prices[1:])", "    return sum(prices[2:])")  # context not in the file
    model = scripted_model(fix_model([missing, FIX_CART]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})
    assert result["green"] is True and len(result["iterations"]) == 1
    retry = model.requests[2]["messages"][-1]["content"]
    assert "could not be applied" in retry and "return sum(prices[2:])" in retry
    assert "def total(prices):" in retry  # the function around the closest match
    assert "return sum(prices)\n" in (tmp_path / "shop/cart.py").read_text()


async def test_iterations_whose_requests_to_see_code_ran_out_are_not_no_progress(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    diagnosed = []

    def respond(body: dict) -> ScriptStep:
        last = body["messages"][-1]["content"]
        if last.startswith("The tests fail."):
            diagnosed.append(last)
            return ScriptStep(content="total() skips the first price.")
        # Iterations 1 and 2: every answer asks to see more code, until the rounds run out.
        return ScriptStep(content=FIX_CART if len(diagnosed) == 3 else "SHOW: shop/cart.py:1-3")

    model = scripted_model(respond)
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "maxIterations": 3})
    assert result["green"] is True and len(result["iterations"]) == 3
    assert [i["unanswered"] for i in result["iterations"][:2]] == [["shop/cart.py:1-3"]] * 2
    assert "Nothing was applied: your requests to see code were still unanswered" in diagnosed[1]


async def test_allow_install_does_not_approve_a_command(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART + "\nRUN: touch ran.txt\n"]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    await editor.execute("codegen.fixTests", {"autoAccept": True, "allowInstall": True})
    assert editor.questions, "a model-written command ran without asking"
    assert not (tmp_path / "ran.txt").exists()


# Two bugs: total() skips the first price and count() adds one; test_total and test_count fail.
TWO_BUGS = CART.replace("return len(prices)", "return len(prices) + 1")
# Fixes count() and breaks total([]): the failing tests re-run show 1 failing (test_total), the whole
# suite 2 (test_total, test_total_of_nothing) — no better than the start.
FIX_ONE_BREAK_ONE = "\n".join([
    "```diff", "--- a/shop/cart.py", "+++ b/shop/cart.py", "@@ -1,7 +1,7 @@",
    " def total(prices):", '     """The sum of the prices."""',
    "-    return sum(prices[1:])", "+    return sum(prices[1:]) if prices else 1", " ", " ",
    " def count(prices):", "-    return len(prices) + 1", "+    return len(prices)", "```", ""])


async def test_the_best_state_is_judged_on_the_whole_suite_not_a_focused_re_run(
        tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    (tmp_path / "shop/cart.py").write_text(TWO_BUGS)
    start = snapshot(tmp_path)
    model = scripted_model(fix_model([FIX_ONE_BREAK_ONE]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "maxIterations": 1})
    # The re-run of the two failing tests saw one failure; it cannot see test_total_of_nothing now failing.
    assert result["stopped"] == "iterations" and result["iterations"][0]["failingAfter"] == 1
    assert result["restoredTo"] == "start" and result["failingAtEnd"] == 2
    assert snapshot(tmp_path) == start


async def test_the_plan_calls_tokens_count_against_the_budget(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    # A plan of about 50,000 tokens (the scripted server counts 4 characters a token); the diagnose
    # call (a 6,000-token context at most) stays well under the budget of 30,000 on its own.
    long_plan = FIX_ONE_BREAK_TWO + "\nI checked every caller of total() and count(). " * 4200
    model = scripted_model(fix_model([long_plan, FIX_CART], chunk_size=8192))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "tokenBudget": 30_000,
                                                       "maxIterations": 4})
    assert result["stopped"] == "budget" and len(result["iterations"]) == 1
    assert result["tokensUsed"] >= 50_000
    assert len(model.requests) == 2  # one diagnose, one plan: nothing asked after the budget ran out
