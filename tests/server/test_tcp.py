"""`codegen-server --tcp HOST:PORT`: the same daemon over a socket on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from codegen_server.model.scripted_server import ScriptStep


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_client_drives_the_daemon_over_tcp(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content="1. Which operations?")])
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    env.update(OPENAI_BASE_URL=model.base_url, CODEGEN_MODEL="scripted-model")
    daemon = subprocess.Popen([sys.executable, "-m", "codegen_server.server", "--tcp", f"127.0.0.1:{port}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = LanguageClient("tcp-test", "1.0")
    try:
        for _ in range(100):  # the daemon needs a moment to listen
            try:
                await client.start_tcp("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=tmp_path.as_uri()))
        client.initialized(types.InitializedParams())
        result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="codegen.clarify", arguments=[{"prompt": "a calculator"}]))
        assert result["questions"] == ["Which operations?"]
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
        daemon.terminate()
        daemon.wait(timeout=10)
