"""Bad input and misconfiguration get clear errors; secrets never reach a file."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.answers import CALC_PROJECT

SECRET = "sk-test-0123456789abcdefghijklmnop"


async def test_no_model_configured_is_a_clear_error_not_a_traceback(tmp_path, editor_factory):
    editor = await editor_factory(tmp_path)
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.generateProject", {"prompt": "a calculator"})
    message = str(caught.value)
    assert "No model is configured" in message and "OPENAI_API_KEY" in message
    assert "Traceback" not in message
    assert not (tmp_path / "calc").exists()


async def test_wrong_key_names_the_setting(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(status=401, error_message="Incorrect API key")])
    editor = await editor_factory(tmp_path, env=model_env(model))
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.clarify", {"prompt": "x"})
    assert "codegen.model.apiKey" in str(caught.value)


@pytest.mark.parametrize("args, expected", [
    ({}, "`prompt` is required"),
    ({"prompt": "x", "apply": "sometimes"}, "`apply` must be one of client, disk, none"),
    ({"prompt": 3}, "`prompt` must be a string"),
    ({"runId": "../../etc"}, "is not a run id"),
])
async def test_bad_arguments_are_reported_plainly(tmp_path, scripted_model, editor_factory, args, expected):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.generateProject", args)
    assert expected in str(caught.value)


async def test_settings_come_from_initialization_options(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content="Nothing to clarify.")])
    editor = await editor_factory(tmp_path, initialization_options={
        "model": {"baseUrl": model.base_url, "name": "from-the-editor", "apiKey": SECRET, "colour": "blue"}})
    result = await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    assert result["done"] is True
    assert model.requests[0]["model"] == "from-the-editor"
    assert any("unknown setting codegen.model.colour" in m.message for m in editor.client.messages)


async def test_did_change_configuration_switches_the_model(tmp_path, scripted_model, editor_factory):
    first = scripted_model([ScriptStep(content="Nothing to clarify.")])
    second = scripted_model([ScriptStep(content="Nothing to clarify.")])
    editor = await editor_factory(tmp_path, env=model_env(first))
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"codegen": {"model": {"baseUrl": second.base_url, "name": "second"}}}))
    await editor.execute("codegen.clarify", {"prompt": "x"})
    assert not first.requests and second.requests[0]["model"] == "second"


async def test_the_api_key_lands_in_no_file(tmp_path, scripted_model, editor_factory):
    # The key also appears in the prompt, as a careless user might paste it.
    model = scripted_model([ScriptStep(content="1. Which key?"), ScriptStep(content="Nothing to clarify."),
                            ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model, OPENAI_API_KEY=SECRET))
    first = await editor.execute("codegen.clarify", {"prompt": f"a calculator; my key is {SECRET}"})
    await editor.execute("codegen.clarify", {"runId": first["runId"], "answers": [SECRET]})
    await editor.execute("codegen.generateProject", {"runId": first["runId"], "apply": "disk"})
    stored = [p for p in (tmp_path / ".codegen").rglob("*") if p.is_file()]
    assert stored
    for path in stored:
        assert SECRET not in path.read_text(errors="replace"), path


async def test_the_api_key_stays_out_of_the_daemon_log(tmp_path, scripted_model):
    """At INFO and DEBUG pygls logs whole messages — the initialize params with the key among them."""
    from tests.support.editor import start_editor

    model = scripted_model([ScriptStep(content="Nothing to clarify.")])
    log_file = tmp_path / "daemon.log"
    editor_key = "local-gateway-key-42"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    session = await start_editor(
        workspace, env=model_env(model, OPENAI_API_KEY=SECRET), server_args=["--log-file", str(log_file),
                                                                               "--log-level", "DEBUG"],
        initialization_options={"model": {"apiKey": editor_key, "baseUrl": model.base_url}})
    try:
        await session.execute("codegen.clarify", {"prompt": "a calculator"})
    finally:
        await session.client.shutdown_session()
    log = log_file.read_text()
    assert "initializationOptions" in log or "initialization_options" in log  # the message was logged
    assert SECRET not in log and editor_key not in log
