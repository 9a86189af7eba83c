"""How commands end: shutdown mid-stream, failures a user can cause, and what run.json says afterwards."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.answers import CALC_PROJECT


def run_meta(root) -> dict:
    [run] = (root / ".codegen" / "runs").iterdir()
    return json.loads((run / "run.json").read_text())


async def test_shutdown_while_a_generate_streams_cancels_it_cleanly(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content=CALC_PROJECT, chunk_size=2, chunk_delay=0.05)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    generating = asyncio.ensure_future(editor.execute("codegen.generateProject", {"prompt": "a calculator"}))
    while not any("tokens streamed" in (getattr(r, "message", "") or "")
                  for rs in editor.client.progress_reports.values() for r in rs):
        await asyncio.sleep(0.02)

    assert await asyncio.wait_for(editor.client.shutdown_async(None), timeout=10) is None
    try:
        outcome = await asyncio.wait_for(generating, timeout=5)
        assert outcome["cancelled"] is True
    except JsonRpcRequestCancelled:
        pass  # the other answer a client may get for a request cancelled by shutdown
    assert not editor.edits_received and not (tmp_path / "calc").exists()
    meta = run_meta(tmp_path)

    editor.client.exit(None)
    process = editor.client._server
    assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    assert meta["status"] == "cancelled" and "cancelled" in meta.get("reason", "")  # with the reason, as failures


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("failure", ["refused", "unreachable"])
async def test_a_failed_run_ends_failed_with_the_reason(tmp_path, scripted_model, editor_factory, failure):
    if failure == "refused":
        model = scripted_model([ScriptStep(status=401, error_message="Incorrect API key")])
        env = model_env(model)
    else:
        env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1", "CODEGEN_MODEL": "m",
               "CODEGEN_MODEL_MAX_RETRIES": "0"}
    editor = await editor_factory(tmp_path, env=env)
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.generateProject", {"prompt": "a calculator"})
    meta = run_meta(tmp_path)
    assert meta["status"] == "failed"
    assert meta["reason"] and meta["reason"] in str(caught.value)


async def test_a_write_that_fails_in_the_file_system_is_a_plain_error(tmp_path, scripted_model, editor_factory):
    """An OSError at write time (read-only file, full disk, here a folder that is a file) is a -32803.

    (Made with a file in the way rather than chmod, which root ignores.)
    """
    model = scripted_model([ScriptStep(content=CALC_PROJECT.replace("calc/", "pkg/calc/"))])
    (tmp_path / "pkg").write_text("a file where the model wants a folder\n")
    editor = await editor_factory(tmp_path, env=model_env(model))
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.generateProject", {"prompt": "a calculator", "apply": "disk"})
    error = caught.value
    assert error.code == -32803, (error.code, str(error))
    assert "Traceback" not in str(error)
    data = getattr(error, "data", None) or {}
    assert "Traceback" not in json.dumps(data)
    assert (tmp_path / "pkg").read_text() == "a file where the model wants a folder\n"
    assert run_meta(tmp_path)["status"] == "failed"
