"""`codegen-mcp` and a `codegen apply` process on one workspace take turns through the writer lock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

from codegen_server.edits.lock import workspace_lock
from tests.support.cli import env_for
from tests.support.mcp_client import mcp_session, server_pids, waiting_on_a_lock

SETTINGS = "".join(f"# section {k}\ndef section_{k}():\n    return {k}\n\n\n" for k in range(2))


def change(k: int) -> str:
    return (f"--- a/settings.py\n+++ b/settings.py\n@@ ... @@\n # section {k}\n def section_{k}():\n"
            f"-    return {k}\n+    return {k} * 100\n")


async def until(condition, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await anyio.sleep(0.02)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to see where a process waits")
async def test_mcp_and_cli_writers_wait_for_the_lock_and_lose_nothing(tmp_path: Path) -> None:
    """Deterministic: while this test holds the lock, the MCP server's apply_diff and a `codegen apply` both
    block on it (the kernel says so) and write nothing; let go, both apply, neither change lost. The MCP
    server has no --root: it works in the root its host lists (started in another folder)."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "settings.py").write_text(SETTINGS)
    env = env_for(None)
    async with mcp_session(workspace, env, as_host_root=True) as session, anyio.create_task_group() as group:
        [server] = server_pids()
        outcome: dict = {}

        async def apply_over_mcp() -> None:
            outcome["mcp"] = await session.call_tool("apply_diff", {"diff": change(0)})

        with workspace_lock(workspace):
            group.start_soon(apply_over_mcp)
            cli = subprocess.Popen([sys.executable, "-m", "codegen_server.cli", "apply", "-", "--root", str(workspace),
                                    "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
            cli.stdin.write(change(1))
            cli.stdin.close()
            await until(lambda: waiting_on_a_lock(server), "the MCP server waits for the lock")
            await until(lambda: waiting_on_a_lock(cli.pid) or cli.poll() is not None, "the CLI waits for the lock")
            assert cli.poll() is None and "mcp" not in outcome
            assert (workspace / "settings.py").read_text() == SETTINGS
    assert outcome["mcp"].structured_content["applied"] is True, outcome["mcp"].content
    assert cli.wait(60) == 0 and json.loads(cli.stdout.read())["applied"] is True
    text = (workspace / "settings.py").read_text()
    assert "return 0 * 100\n" in text and "return 1 * 100\n" in text
