"""A host cancelling `fix` over MCP stops the loop and returns the workspace to its last checkpoint."""

from __future__ import annotations

import time
from pathlib import Path

import anyio

from codegen_server.store import RunStore
from tests.support.cli import env_for
from tests.support.fix_projects import FIX_CART, fix_model, make_python_project, snapshot
from tests.support.mcp_client import mcp_session

# The project's second test session (the loop's re-run after its edit) leaves a half-made file and
# hangs: the state a cancel must not leave behind. The first session marks that it ran; the run under
# coverage that localizes the failure in between is left alone.
CONFTEST = '''import pathlib
import sys
import time


def pytest_sessionstart(session):
    root = pathlib.Path(__file__).parent
    if "coverage" in sys.modules:
        return
    if (root / "ran-once").exists():
        (root / "half-made.txt").write_text("a test run cut short")
        time.sleep(600)
    (root / "ran-once").write_text("")
'''


async def until(condition, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await anyio.sleep(0.02)


async def test_cancelling_a_fix_restores_the_last_checkpoint(tmp_path: Path, scripted_model) -> None:
    make_python_project(tmp_path)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    model = scripted_model(fix_model([FIX_CART]))
    async with mcp_session(tmp_path, env_for(model.base_url)) as session:
        async with anyio.create_task_group() as group:
            group.start_soon(session.call_tool, "fix", {"max_iterations": 3})
            await until(lambda: (tmp_path / "half-made.txt").exists(), "the re-run is under way")
            group.cancel_scope.cancel()  # the SDK sends notifications/cancelled for the call

        def settled() -> bool:
            return [run.status for run in RunStore(tmp_path).list_runs(["fix"])] == ["cancelled"]

        await until(settled, "the fix run is settled cancelled")
        # Back to "iteration 1" as it was checkpointed: the edit kept, the half-made file gone.
        state = snapshot(tmp_path)
        assert "half-made.txt" not in state and "ran-once" in state
        assert b"return sum(prices)\n" in state["shop/cart.py"]
        # The session goes on serving.
        shown = await session.call_tool("context", {"task": "total", "budget": 200})
        assert not shown.is_error
