"""Bad input and misconfiguration get clear errors; secrets never reach a file."""

from __future__ import annotations

import json

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
    assert "`model.apiKey`" in str(caught.value) and "OPENAI_API_KEY" in str(caught.value)
    assert caught.value.data == {"kind": "auth", "setting": "model.apiKey", "env": "OPENAI_API_KEY"}


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
    # The model server quotes the key in an error once, as some gateways do; the retry succeeds.
    model = scripted_model([ScriptStep(content="1. Which operations?"),
                            ScriptStep(status=500, error_message=f"upstream rejected key {SECRET}"),
                            ScriptStep(content="Nothing to clarify."), ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model, OPENAI_API_KEY=SECRET,
                                                          CODEGEN_MODEL_MAX_RETRIES="2"))
    first = await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    await editor.execute("codegen.clarify", {"runId": first["runId"], "answers": ["add and sub"]})
    await editor.execute("codegen.generateProject", {"runId": first["runId"], "apply": "disk"})
    stored = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stored
    for path in stored:
        assert SECRET not in path.read_text(errors="replace"), path


async def test_a_short_key_changes_no_recorded_content(tmp_path, scripted_model, editor_factory):
    """`OPENAI_API_KEY=x` (local servers accept anything): every `x` stays, in the store, the prompt and replay."""
    model = scripted_model([ScriptStep(content="1. Which max value?"), ScriptStep(content="Nothing to clarify."),
                            ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model, OPENAI_API_KEY="x"))
    first = await editor.execute("codegen.clarify", {"prompt": "an xml exporter"})
    await editor.execute("codegen.clarify", {"runId": first["runId"], "answers": ["max x = 0xff"]})
    result = await editor.execute("codegen.generateProject", {"runId": first["runId"], "apply": "disk"})
    assert "max x = 0xff" in model.requests[1]["messages"][-1]["content"]  # the answer reached the model as given

    run = tmp_path / ".codegen" / "runs" / result["runId"]
    assert "an xml exporter" in (run / "prompt.txt").read_text()
    assert json.loads((run / "run.json").read_text())["kind"] == "generate"
    calls = [json.loads(p.read_text()) for p in sorted((run / "calls").glob("*.json"))]
    assert calls[-1]["response"]["content"] == CALC_PROJECT  # byte-exact, so a replay serves the same code
    assert "[redacted]" not in "".join(p.read_text() for p in run.rglob("*") if p.is_file())
    assert "max x = 0xff" in (run / "clarify.json").read_text()
    assert (tmp_path / "calc/cli.py").read_text() in CALC_PROJECT


async def test_a_secret_setting_of_the_wrong_type_is_never_echoed(tmp_path, scripted_model):
    """`apiKey` given as a list: the warning names the setting, neither it nor the log shows the values."""
    from tests.support.editor import start_editor

    model = scripted_model([ScriptStep(content="Nothing to clarify.")])
    log_file = tmp_path / "daemon.log"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    parts = ["first-half-of-key-1234", "second-half-5678"]
    session = await start_editor(workspace, env=model_env(model),
                                 server_args=["--log-file", str(log_file), "--log-level", "INFO"],
                                 initialization_options={"model": {"apiKey": parts}})
    try:
        session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"codegen": {"model": {"apiKey": {"value": parts[0]}}}}))
        await session.execute("codegen.clarify", {"prompt": "a calculator"})
    finally:
        await session.client.shutdown_session()
    messages = [m.message for m in session.client.messages]
    assert any("codegen.model.apiKey" in m for m in messages), messages
    log = log_file.read_text()
    assert "apiKey" in log  # the initialize params were logged
    for part in parts:
        assert all(part not in m for m in messages) and part not in log


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


async def test_a_key_the_endpoint_echoes_back_is_redacted_whatever_its_shape(tmp_path, scripted_model):
    """Gateways quote the request's key in their errors; a key not shaped like `sk-…` is redacted by its value."""
    from tests.support.editor import start_editor

    key = "gw0123456789abcdef4242"
    model = scripted_model([ScriptStep(status=400, error_message=f"key {key} has no access to this model")])
    log_file = tmp_path / "daemon.log"
    workspace = tmp_path / "ws"
    workspace.mkdir()
    session = await start_editor(workspace, env=model_env(model, OPENAI_API_KEY=key),
                                 server_args=["--log-file", str(log_file), "--log-level", "DEBUG"])
    try:
        with pytest.raises(JsonRpcException) as caught:
            await session.execute("codegen.clarify", {"prompt": "a calculator"})
    finally:
        await session.client.shutdown_session()
    assert model.requests and "key [redacted] has no access" in str(caught.value)
    assert key not in str(caught.value) and key not in log_file.read_text()
    assert all(key not in m.message for m in session.client.messages)


async def test_a_key_of_eight_characters_is_a_secret_too(tmp_path, scripted_model, editor_factory):
    """The documented floor: values of 8 characters or more are redacted (a local server's key of a few is not)."""
    key = "gw4x9k2q"
    model = scripted_model([ScriptStep(status=400, error_message=f"key {key} has no access to this model")])
    editor = await editor_factory(tmp_path, env=model_env(model, OPENAI_API_KEY=key),
                                  initialization_options={"model": {"maxRetries": 0}})
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    assert model.requests and "key [redacted] has no access" in str(caught.value)
    assert key not in str(caught.value)
