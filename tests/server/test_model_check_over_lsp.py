"""codegen.testModel: an editor's "test the connection" is one short model request over LSP."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env


async def test_the_model_answers_or_the_error_says_what_to_fix(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(status=401, error_message="Incorrect API key"), ScriptStep(content="OK")])
    editor = await editor_factory(tmp_path, env=model_env(model))

    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.testModel", {})
    assert caught.value.data["kind"] == "auth" and caught.value.data["setting"] == "model.apiKey"

    result = await editor.execute("codegen.testModel", {})
    assert result["answer"] == "OK" and result["model"] == "scripted-model"
    assert result["endpoint"] == model.base_url and result["seconds"] >= 0
    assert "OK" in model.requests[-1]["messages"][-1]["content"]  # one short request, nothing of the workspace
    assert not (tmp_path / ".codegen" / "runs").exists()  # a connection test records no run
