"""Behaviours the README promises, over LSP with the scripted model (issue 19 point 5)."""

from __future__ import annotations

import json

import pytest
from pygls.exceptions import JsonRpcException

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.answers import CALC_PROJECT


@pytest.mark.parametrize("steps, kind", [
    ([ScriptStep(status=401, error_message="Incorrect API key")], "auth"),
    ([ScriptStep(status=404, error_message="The model does not exist")], "not-found"),
    ([ScriptStep(status=429, retry_after=0)] * 3, "rate-limited"),
    ([ScriptStep(status=500)] * 3, "server-error"),
    (None, "unreachable"),
])
async def test_model_errors_are_32803_with_their_kind(tmp_path, scripted_model, editor_factory, steps, kind):
    settings = {"baseUrl": "http://127.0.0.1:9/v1", "name": "scripted-model", "maxRetries": 2, "retryBackoff": 0.01}
    if steps is not None:
        model = scripted_model(steps)
        settings["baseUrl"] = model.base_url
    editor = await editor_factory(tmp_path, initialization_options={"model": settings})
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    assert caught.value.code == -32803, (caught.value.code, str(caught.value))
    assert (caught.value.data or {}).get("kind") == kind, caught.value.data
    if steps is not None and kind in ("rate-limited", "server-error"):
        assert len(model.requests) == 3  # maxRetries from the editor: the first try and two retries


async def test_max_retries_from_the_editor_takes_effect(tmp_path, scripted_model, editor_factory):
    # The environment allows 4 retries; the editor's maxRetries 0 wins, so the 500 is final.
    model = scripted_model([ScriptStep(status=500), ScriptStep(content="Nothing to clarify.")])
    editor = await editor_factory(tmp_path, env={**model_env(model), "CODEGEN_MODEL_MAX_RETRIES": "4"},
                                  initialization_options={"model": {"maxRetries": 0}})
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    assert caught.value.data["kind"] == "server-error" and len(model.requests) == 1


async def test_timeout_from_the_editor_takes_effect(tmp_path, scripted_model, editor_factory):
    # The first answer waits 5 s: with the editor's 0.5 s timeout the client gives up on it and retries.
    model = scripted_model([ScriptStep(content="late", delay=5.0), ScriptStep(content="Nothing to clarify.")])
    editor = await editor_factory(tmp_path, env=model_env(model),
                                  initialization_options={"model": {"timeout": 0.5, "retryBackoff": 0.01}})
    result = await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    assert result["done"] is True and len(model.requests) == 2


async def test_save_after_apply_off_changes_the_buffer_not_the_disk(tmp_path, scripted_model, editor_factory):
    (tmp_path / "notes.txt").write_text("one\n")
    editor = await editor_factory(tmp_path, initialization_options={"apply": {"saveAfterApply": False}})
    editor.open("notes.txt")
    result = await editor.execute("codegen.applyDiff", {
        "diff": "--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-one\n+two\n"})
    assert result["applied"] is True and len(editor.edits_received) == 1
    assert editor.buffer_text("notes.txt") == "two\n"
    assert (tmp_path / "notes.txt").read_text() == "one\n"


async def test_save_after_apply_on_writes_the_disk_too(tmp_path, scripted_model, editor_factory):
    (tmp_path / "notes.txt").write_text("one\n")
    editor = await editor_factory(tmp_path)
    editor.open("notes.txt")
    result = await editor.execute("codegen.applyDiff", {
        "diff": "--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-one\n+two\n"})
    assert result["applied"] is True and (tmp_path / "notes.txt").read_text() == "two\n"


SALVAGE_DIFF = """--- a/a.txt
+++ b/a.txt
@@ -1 +1 @@
-alpha
+ALPHA
--- a/b.txt
+++ b/b.txt
@@ -1 +1 @@
-not what b holds
+BETA
"""


async def test_salvage_keeps_the_good_hunks(tmp_path, editor_factory):
    (tmp_path / "a.txt").write_text("alpha\n")
    (tmp_path / "b.txt").write_text("beta\n")
    editor = await editor_factory(tmp_path)
    result = await editor.execute("codegen.applyDiff", {"diff": SALVAGE_DIFF, "apply": "disk", "salvage": True})
    assert result["applied"] is True and len(result["failures"]) == 1
    assert (tmp_path / "a.txt").read_text() == "ALPHA\n" and (tmp_path / "b.txt").read_text() == "beta\n"
    # Without salvage the same diff writes nothing.
    (tmp_path / "a.txt").write_text("alpha\n")
    refused = await editor.execute("codegen.applyDiff", {"diff": SALVAGE_DIFF, "apply": "disk"})
    assert refused["applied"] is False and (tmp_path / "a.txt").read_text() == "alpha\n"


LEDGER = '''def balance(entries):
    """The sum of the entries."""
    return sum(entries[1:])


def unrelated_helper(value):
    return value * 2
'''

PYTEST_OUTPUT = '''=================================== FAILURES ===================================
_________________________________ test_balance _________________________________

    def test_balance():
>       assert balance([1, 2, 3]) == 6
E       assert 5 == 6

tests/test_ledger.py:5: AssertionError
=========================== short test summary info ============================
FAILED tests/test_ledger.py::test_balance - assert 5 == 6
'''


async def test_context_takes_test_output_and_open_files(tmp_path, editor_factory):
    (tmp_path / "ledger.py").write_text(LEDGER)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_ledger.py").write_text(
        "from ledger import balance\n\n\ndef test_balance():\n    assert balance([1, 2, 3]) == 6\n")
    (tmp_path / "notes.py").write_text("REMINDER = 'water the plants'\n")
    editor = await editor_factory(tmp_path)
    plain = await editor.execute("codegen.context", {"budget": 2000})
    focused = await editor.execute("codegen.context", {"budget": 2000, "testOutput": PYTEST_OUTPUT,
                                                       "openFiles": ["notes.py"]})
    assert "assert 5 == 6" not in plain["text"] and "assert 5 == 6" in focused["text"]
    assert "tests/test_ledger.py" in focused["files"] and "notes.py" in focused["files"]
    assert focused["sections"] != plain["sections"]


async def test_context_open_files_rank_first(tmp_path, editor_factory):
    for number in range(40):
        (tmp_path / f"module_{number:02d}.py").write_text(
            "".join(f"def helper_{number}_{i}(value):\n    return value + {i}\n\n\n" for i in range(6)))
    editor = await editor_factory(tmp_path)
    plain = await editor.execute("codegen.context", {"budget": 400})
    opened = await editor.execute("codegen.context", {"budget": 400, "openFiles": ["module_33.py"]})
    assert "helper_33_0" not in plain["text"] and "helper_33_0" in opened["text"]
    assert "module_33.py" not in plain["files"] and "module_33.py" in opened["files"]


async def test_settings_of_the_wrong_type_are_each_reported_and_ignored(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, initialization_options={
        "model": {"baseUrl": model.base_url, "name": "scripted-model", "maxRetries": "lots", "timeout": "soon"},
        "apply": {"saveAfterApply": "no"}})
    result = await editor.execute("codegen.generateProject", {"prompt": "a calculator", "apply": "disk"})
    assert result["applied"] is True  # the daemon still works, on the defaults
    warnings = "\n".join(m.message for m in editor.client.messages)
    for setting, value in (("codegen.model.maxRetries", "'lots'"), ("codegen.model.timeout", "'soon'"),
                           ("codegen.apply.saveAfterApply", "")):
        assert any(setting in line and value in line and "(ignored)" in line for line in warnings.splitlines()), warnings


async def test_a_run_keeps_its_files_in_the_run_store(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.generateProject", {"prompt": "a calculator", "apply": "disk"})
    run = tmp_path / ".codegen" / "runs" / result["runId"]
    assert json.loads((run / "run.json").read_text())["kind"] == "generate"
    assert "a calculator" in (run / "prompt.txt").read_text()
    [call] = (run / "calls").iterdir()
    recorded = json.loads(call.read_text())
    assert call.name == "001-generate.json" and recorded["response"]["content"] == CALC_PROJECT
    assert recorded["request"]["messages"] == model.requests[0]["messages"]
    assert (run / "diff.patch").read_text() == result["diff"]
