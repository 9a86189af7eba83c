"""Cut-off answers, unreported usage, reasoning and bad settings, as a user meets them: the CLI and the daemon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from codegen_server.model.scripted_server import ScriptStep
from tests.support.cli import codegen, env_for
from tests.conftest import model_env
from tests.support.fix_projects import FIX_CART, FIX_ONE_BREAK_TWO, fix_model, make_python_project

A_FILE = "a.py\n```python\nA = 1\n```\n\n"
CUT = A_FILE + "b.py\n```python\ndef f():\n    return [1,"
REST = "    return [1, 2, 3]\n```\n"


def only_call(root: Path) -> dict:
    [run] = (root / ".codegen/runs").iterdir()
    [call] = (run / "calls").iterdir()
    return json.loads(call.read_text())


def test_apply_refuses_an_answer_cut_inside_its_last_block(tmp_path):
    # The case: the last whole-file block has no closing fence.
    patch = tmp_path.parent / f"{tmp_path.name}-cut.md"
    patch.write_text(CUT)
    done = codegen("apply", str(patch), "--root", str(tmp_path), env=env_for(None))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cut off" in done.stdout + done.stderr
    assert not (tmp_path / "b.py").exists() and not (tmp_path / "a.py").exists()


def test_apply_refuses_a_diff_cut_mid_hunk(tmp_path):
    (tmp_path / "c.py").write_text("def g():\n    return 1\n\n\ndef h():\n    return 2\n")
    patch = tmp_path.parent / f"{tmp_path.name}-cut.diff"
    patch.write_text("```diff\n--- a/c.py\n+++ b/c.py\n@@ -1,6 +1,6 @@\n def g():\n-    return 1\n+    return 10\n \n \n")
    done = codegen("apply", str(patch), "--root", str(tmp_path), env=env_for(None))
    assert done.returncode == 1 and "cut off" in done.stdout + done.stderr
    assert (tmp_path / "c.py").read_text().startswith("def g():\n    return 1\n")


def test_generate_continues_a_cut_answer_and_writes_whole_files(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=CUT, finish_reason="length"), ScriptStep(content=REST)])
    done = codegen("generate", "two files", "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "b.py").read_text() == "def f():\n    return [1, 2, 3]\n"
    assert (tmp_path / "a.py").read_text() == "A = 1\n"
    call = only_call(tmp_path)
    assert call["response"]["finish_reason"] == "stop"
    assert [c["finish_reason"] for c in call["response"]["continuations"]] == ["stop"]
    assert call["response"]["continuations"][0]["text"] == REST


def test_generate_writes_nothing_of_an_answer_still_cut_off(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=CUT, finish_reason="length"),
                            ScriptStep(content=" 2,", finish_reason="length"),
                            ScriptStep(content=" 3,", finish_reason="length")])
    env = {**env_for(model.base_url), "CODEGEN_MODEL_MAX_TOKENS": "16"}
    done = codegen("generate", "two files", "--root", str(tmp_path), env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cut off at its output limit (max_tokens=16)" in done.stderr and "CODEGEN_MODEL_MAX_TOKENS" in done.stderr
    assert not (tmp_path / "a.py").exists() and not (tmp_path / "b.py").exists()
    assert all(request["max_tokens"] == 16 for request in model.requests) and len(model.requests) == 3
    # The run keeps the partial answer and each continuation.
    response = only_call(tmp_path)["response"]
    assert response["error"] == "truncated" and response["partial_content"] == CUT + " 2, 3,"
    assert len(response["continuations"]) == 2


def test_a_think_block_is_kept_out_of_the_files_and_recorded(tmp_path, scripted_model):
    thinking = "First idea:\nevil.py\n```python\nimport os\n```\nNo, just a.py."
    model = scripted_model([ScriptStep(content=f"<think>{thinking}</think>\n{A_FILE}", chunk_size=5)])
    done = codegen("generate", "one file", "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "a.py").read_text() == "A = 1\n" and not (tmp_path / "evil.py").exists()
    response = only_call(tmp_path)["response"]
    assert response["reasoning"] == thinking and "<think>" not in response["content"]


def test_usage_a_server_does_not_report_is_estimated_in_the_run(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=A_FILE, usage=False)])
    done = codegen("generate", "one file", "--root", str(tmp_path), "--json", env=env_for(model.base_url))
    assert done.returncode == 0, done.stderr
    usage = only_call(tmp_path)["response"]["usage"]
    assert usage["estimated"] is True and usage["prompt_tokens"] > 50 and usage["completion_tokens"] > 0


def test_the_fix_loop_budget_holds_on_a_server_that_reports_no_usage(tmp_path, scripted_model):
    make_python_project(tmp_path)
    # Iteration 1 changes the failures without fixing them; only the (estimated) budget stops iteration 2.
    model = scripted_model(fix_model([FIX_ONE_BREAK_TWO, FIX_CART], usage=False))
    done = codegen("fix", "--root", str(tmp_path), "--token-budget", "500", "--json", env=env_for(model.base_url))
    result = json.loads(done.stdout)
    assert result["stopped"] == "budget", result["summary"]
    assert len(result["iterations"]) == 1 and result["tokens_used"] >= 500


def test_a_bad_environment_value_is_named_with_its_expected_form(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=A_FILE)])
    env = {**env_for(model.base_url), "CODEGEN_MODEL_TIMEOUT": "abc"}
    done = codegen("generate", "one file", "--root", str(tmp_path), env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "CODEGEN_MODEL_TIMEOUT should be a number of seconds above 0, like 120; it is 'abc'" in done.stderr
    assert not model.requests


def test_a_timeout_flag_overrides_a_bad_timeout_in_the_environment(tmp_path, scripted_model):
    # A command-line flag wins over the environment, as an editor setting does in the daemon.
    model = scripted_model([ScriptStep(content=A_FILE)])
    env = {**env_for(model.base_url), "CODEGEN_MODEL_TIMEOUT": "abc"}
    done = codegen("generate", "one file", "--timeout", "60", "--root", str(tmp_path), env=env)
    assert done.returncode == 0, done.stderr
    assert len(model.requests) == 1


@pytest.mark.parametrize("variable, value, form", [
    ("CODEGEN_MODEL_MAX_RETRIES", "-1", "a whole number from 0"),
    ("CODEGEN_MODEL_MAX_TOKENS", "lots", "a whole number of tokens"),
])
async def test_the_daemon_starts_with_a_bad_environment_value_and_names_it(
        tmp_path, scripted_model, editor_factory, variable, value, form):
    model = scripted_model([ScriptStep(content=A_FILE)])
    editor = await editor_factory(tmp_path, env=model_env(model, **{variable: value}))
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.generateProject", {"prompt": "one file"})
    assert f"{variable} should be {form}" in str(caught.value) and "Traceback" not in str(caught.value)
    assert not model.requests


async def test_max_tokens_from_the_editor_is_sent(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content="Nothing to clarify.")])
    editor = await editor_factory(tmp_path, env=model_env(model, CODEGEN_MODEL_MAX_TOKENS="oops"),
                                  initialization_options={"model": {"maxTokens": 3000}})
    # The editor's value replaces the bad environment value, and its complaint.
    await editor.execute("codegen.clarify", {"prompt": "x"})
    assert model.requests[0]["max_tokens"] == 3000


async def test_the_editor_sees_the_thinking_as_progress_and_the_files_without_it(
        tmp_path, scripted_model, editor_factory):
    thinking = "The user wants one file.\nI will write a.py with A = 1.\n"
    model = scripted_model([ScriptStep(content=A_FILE, reasoning=thinking, reasoning_field="reasoning")])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.generateProject", {"prompt": "one file", "apply": "disk"})
    assert result["applied"] and (tmp_path / "a.py").read_text() == "A = 1\n"
    reports = [getattr(r, "message", "") or "" for rs in editor.client.progress_reports.values() for r in rs]
    assert "thinking: The user wants one file." in reports
    assert "thinking: I will write a.py with A = 1." in reports
    assert only_call(tmp_path)["response"]["reasoning"] == thinking
