"""Credentials in a base URL (`http://user:secret@host/v1`) never show (issue 23, point 8).

Not in an error the user reads, not in the run's `run.json` or `calls/*.json`, not in the log,
whether the endpoint refuses the connection, answers with an error that quotes the URL, or works.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from codegen_server.model.scripted_server import ScriptStep
from tests.support.cli import codegen, env_for

PASSWORD = "pa55-in-the-url-7f3c2a"
USER = "deploy-user-91b0"


def with_credentials(base_url: str) -> str:
    scheme, rest = base_url.split("://", 1)
    return f"{scheme}://{USER}:{PASSWORD}@{rest}"


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there once the probe is closed


def state_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(errors="replace") for p in (root / ".codegen").rglob("*")
            if p.is_file() and p.suffix in (".json", ".txt", ".md", ".patch")}


def assert_no_credentials(*texts: str, files: dict[str, str]) -> None:
    for text in [*texts, *files.values()]:
        assert PASSWORD not in text and f"{USER}:" not in text, text[:2000]


def test_the_cli_never_shows_url_credentials(tmp_path, scripted_model):
    refused = codegen("clarify", "--root", str(tmp_path), "--base-url", with_credentials(closed_port_url()),
                      "a calculator", env=env_for(None))
    assert refused.returncode == 1 and "Nothing is listening at http://[redacted]@127.0.0.1" in refused.stderr
    # The server answers with an error that quotes the URL it was called on, credentials and all.
    model = scripted_model([ScriptStep(status=400, error_message=f"no route for {with_credentials('http://x/v1')}")])
    env = {**env_for(None), "OPENAI_BASE_URL": with_credentials(model.base_url), "CODEGEN_MODEL": "scripted-model"}
    quoted = codegen("clarify", "--root", str(tmp_path), "a calculator", env=env)
    assert quoted.returncode == 1 and "no route for http://[redacted]@x/v1" in quoted.stderr
    files = state_files(tmp_path)
    assert any(name.endswith("run.json") for name in files) and any("calls" in name for name in files)
    assert_no_credentials(refused.stdout, refused.stderr, quoted.stdout, quoted.stderr, files=files)


async def test_the_daemon_never_shows_url_credentials(tmp_path, scripted_model, editor_factory):
    log = tmp_path / "daemon.log"
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    model = scripted_model([ScriptStep(status=500, error_message=f"upstream {with_credentials('http://x/v1')} down"),
                            ScriptStep(content="1. Which operations?"),
                            ScriptStep(status=400, error_message=f"bad call to {with_credentials('http://x/v1')}")])
    editor = await editor_factory(workspace, server_args=["--log-level", "DEBUG", "--log-file", str(log)],
                                  initialization_options={"model": {
                                      "baseUrl": with_credentials(model.base_url), "name": "scripted-model",
                                      "maxRetries": 1, "retryBackoff": 0.01}})
    answered = await editor.execute("codegen.clarify", {"prompt": "a calculator"})  # a 500, retried, then an answer
    assert answered["questions"] == ["Which operations?"]
    errors = []
    with pytest.raises(JsonRpcException) as bad_request:
        await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    errors.append(bad_request.value.message)
    assert "bad call to http://[redacted]@x/v1" in errors[-1]
    editor.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"codegen": {"model": {"baseUrl": with_credentials(closed_port_url()), "name": "scripted-model",
                                        "maxRetries": 0}}}))
    with pytest.raises(JsonRpcException) as unreachable:
        await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    errors.append(unreachable.value.message)
    assert "Nothing is listening at http://[redacted]@127.0.0.1" in errors[-1]

    files = state_files(workspace)
    calls = [text for name, text in files.items() if "calls" in name]
    assert any('"retried"' in text and "server-error" in text for text in calls)
    shown = [m.message for m in editor.client.messages]
    log_text = log.read_text()
    assert "HTTP Request" in log_text or "127.0.0.1" in log_text  # the log did record the calls
    assert_no_credentials(*errors, *shown, log_text, files=files)
