"""What every client gets from the daemon (issue 26 points 4-7): errors with structured data and a
neutral message, no traceback for ordinary events, one label per progress phase, and the model's
explanation beside the preview."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pygls.uris import from_fs_path

from codegen_server.context.tokens import count_tokens
from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.answers import CALC_PROJECT, MEAN_EMPTY_LIST, NOTHING_TO_CLARIFY, STATS
from tests.support.editor import start_editor
from tests.support.fix_projects import FIX_CART, fix_model, make_python_project


def everything_shown(session) -> list[str]:
    """Each text the daemon sent the client outside a result: messages, log messages, progress."""
    client = session.client
    texts = [m.message for m in client.messages] + [m.message for m in client.log_messages]
    for reports in client.progress_reports.values():
        texts += [getattr(r, "title", None) or "" for r in reports] + [getattr(r, "message", None) or "" for r in reports]
    return texts


async def started(tmp_path, **kwargs):
    """A daemon logging at its default level to a file, and the file."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    log_file = tmp_path / "daemon.log"
    session = await start_editor(workspace, server_args=["--log-file", str(log_file)], **kwargs)
    return session, log_file


@pytest.mark.parametrize("client", ["vscode", "neovim"])
async def test_a_rejected_key_names_the_setting_and_variable_in_data_and_no_editor(tmp_path, scripted_model, client):
    model = scripted_model([ScriptStep(status=401, error_message="Incorrect API key")])
    session, log_file = await started(tmp_path, client=client, env=model_env(model))
    try:
        with pytest.raises(JsonRpcException) as caught:
            await session.execute("codegen.clarify", {"prompt": "a calculator"})
    finally:
        await session.client.shutdown_session()
    error = caught.value
    assert error.data == {"kind": "auth", "setting": "model.apiKey", "env": "OPENAI_API_KEY"}
    for editor_words in ("VS Code", "Set API Key", "initializationOptions", "codegen.model", "Neovim"):
        assert editor_words not in error.message
    assert error.message.count("Fix") <= 1 and "`model.apiKey`" in error.message
    shown = everything_shown(session) + [log_file.read_text()]
    assert not [text for text in shown if "Traceback" in text]


async def test_no_test_command_names_the_setting(tmp_path, scripted_model, editor_factory):
    model = scripted_model([])
    editor = await editor_factory(tmp_path, env=model_env(model))
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.fixTests", {})
    assert caught.value.data == {"kind": "no-test-command", "setting": "fix.testCommand", "env": None}
    assert "codegen.fix.testCommand" not in caught.value.message and "`fix.testCommand`" in caught.value.message


async def test_a_cancel_while_the_preview_is_open_logs_no_traceback(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    session, log_file = await started(tmp_path, env=model_env(model))
    session.decided = asyncio.Event()  # the user looks at the preview
    try:
        request = types.ExecuteCommandParams(command="codegen.generateProject", arguments=[{"prompt": "a calculator"}])
        task = asyncio.ensure_future(session.client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND, request, msg_id="generate-1"))
        await asyncio.wait_for(session.previewing.wait(), timeout=60)
        session.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="generate-1"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(task, timeout=10)
        session.decided.set()  # the user answers the preview after the command was cancelled
        while not session.edits_received:  # the answer is on its way
            await asyncio.sleep(0.01)
        await session.execute("codegen.runs", {})  # answered after the daemon read the preview's answer
    finally:
        await session.client.shutdown_session()
    shown = everything_shown(session) + [log_file.read_text()]
    assert not [text for text in shown if "Traceback" in text or "InvalidStateError" in text], shown


async def test_the_preview_carries_the_models_explanation(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST), ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.applyFeedback", {
        "uri": from_fs_path(str(tmp_path / "stats.py")), "comment": "mean() should handle an empty list",
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}})
    # The change annotation the editor previews: its label names the run, its description says why.
    [annotation] = editor.edits_received[-1].edit.change_annotations.values()
    assert annotation.label.startswith("codegen: feedback") and annotation.needs_confirmation
    assert annotation.description == result["explanation"] and annotation.description.startswith("`mean` divides")

    await editor.execute("codegen.generateProject", {"prompt": "a calculator"})
    [annotation] = editor.edits_received[-1].edit.change_annotations.values()
    # The preview's title: what was asked, never the run's id.
    assert annotation.label == "codegen: generate: a calculator" and annotation.description == "Here is the project.\n\nRun `pytest` to check it."


def reports_of(session) -> list:
    return [r for rs in session.client.progress_reports.values() for r in rs
            if isinstance(r, (types.WorkDoneProgressBegin, types.WorkDoneProgressReport))]


async def test_progress_says_each_phase_once_and_counts_tokens(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content=NOTHING_TO_CLARIFY), ScriptStep(status=429, retry_after=0),
                            ScriptStep(content=CALC_PROJECT, chunk_size=2, chunk_delay=0.005, usage=False)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    await editor.execute("codegen.generateProject", {"prompt": "a calculator", "apply": "none"})
    messages = [r.message or "" for r in reports_of(editor)]
    assert "asking the model what is unclear" in messages and "asking the model" in messages
    # A retry is said while it waits; once the answer streams, the phase is the call's again.
    retry = messages.index("the model is rate-limited: trying again in 0 s")
    assert [m for m in messages[retry + 1:] if "tokens streamed" in m][0].startswith("asking the model — ")
    # The title names the command ("codegen: clarify"); no phase says it again.
    assert not [m for m in messages if m.startswith(("clarify:", "generate:", "codegen:"))], messages
    generate = list(editor.client.progress_reports.values())[-1]
    streamed = [int(r.message.rsplit(" — ", 1)[1].split()[0]) for r in generate
                if isinstance(r, types.WorkDoneProgressReport) and (r.message or "").endswith("tokens streamed")]
    # Counted by the tokenizer, not in the stream's 2-character chunks; the last count is the answer's.
    assert len(streamed) > 1 and streamed[-1] == count_tokens(CALC_PROJECT) and max(streamed) == streamed[-1]


async def test_fix_progress_has_real_percentages_and_the_preview_the_diagnosis(tmp_path, scripted_model,
                                                                               editor_factory):
    make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"maxIterations": 2})
    assert result["green"] is True
    percentages = [r.percentage for r in reports_of(editor) if r.percentage is not None]
    # Iteration 1 of 2: it starts at 0 and its tests run at 3/8 of the whole.
    assert percentages == sorted(percentages) and percentages[0] == 0 and 37 in percentages
    [annotation] = editor.edits_received[-1].edit.change_annotations.values()
    assert annotation.label == "codegen: fix, iteration 1"
    assert annotation.description == "total() skips the first price."
