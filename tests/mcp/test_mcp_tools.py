"""`codegen-mcp` driven by the MCP SDK's own stdio client against a scripted model: every tool, one session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import MCPError

from codegen_server.model.scripted_server import ScriptStep
from tests.support.cli import env_for
from tests.support.fix_projects import CART, FIX_CART, fix_model, make_python_project, snapshot
from tests.support.mcp_client import mcp_session

PROMPT = "a greeting module for the shop"
GREETING = '''Here it is.

shop/greet.py
```python
def greet(name):
    return f"Welcome to the shop, {name}!"
```
'''
HOSTILE = ("--- /dev/null\n+++ b/../outside.txt\n@@ -0,0 +1 @@\n+planted\n"
           "--- a/shop/cart.py\n+++ b/shop/cart.py\n@@ -1,2 +1,2 @@\n-def total(prices):\n+def total(prices):  # x\n"
           '     """The sum of the prices."""\n')
RENAME_COUNT = ("--- a/shop/cart.py\n+++ b/shop/cart.py\n@@ -6,2 +6,2 @@\n-def count(prices):\n"
                "+def how_many(prices):\n     return len(prices)\n")
COMMENT = "say what count returns"
DOCUMENT_COUNT = '''A docstring says it.

```diff
--- a/shop/cart.py
+++ b/shop/cart.py
@@ -6,2 +6,3 @@
 def count(prices):
+    """How many prices there are."""
     return len(prices)
```
'''
SECRET = "sk-mcp-test-secret-0123456789abcdef"


def model_for(generate_answer: str):
    """The generate prompt gets ``generate_answer``; the fix loop's prompts get the cart's fix."""
    fixer = fix_model([FIX_CART])

    def respond(body: dict) -> ScriptStep:
        if any(PROMPT in str(m.get("content")) for m in body["messages"]):
            return ScriptStep(content=generate_answer)
        if any(COMMENT in str(m.get("content")) for m in body["messages"]):
            return ScriptStep(content=DOCUMENT_COUNT)
        return fixer(body)

    return respond


async def test_every_tool_over_stdio(tmp_path: Path, scripted_model) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    start = make_python_project(workspace)
    model = scripted_model(model_for(GREETING))
    env = {**env_for(model.base_url), "OPENAI_API_KEY": SECRET}
    async with mcp_session(workspace, env) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) >= {"generate", "feedback", "fix", "apply_diff", "context", "undo"}
        for tool in tools.values():  # typed, documented inputs; a schema for the structured result
            assert tool.description and tool.output_schema
            assert all(p.get("description") for p in tool.input_schema["properties"].values()), tool.name
        assert tools["apply_diff"].input_schema["required"] == ["diff"]
        assert tools["context"].annotations.read_only_hint is True

        shown = await session.call_tool("context", {"task": "total of the prices", "budget": 800})
        assert not shown.is_error and "def total(prices)" in shown.structured_content["text"]
        assert "shop/cart.py" in shown.structured_content["files"]
        repo_map = (await session.read_resource("codegen://repo-map?budget=300")).contents[0].text
        assert "shop/cart.py" in repo_map and "def count(prices)" in repo_map

        made = await session.call_tool("generate", {"prompt": PROMPT})
        assert not made.is_error, made.content
        assert made.structured_content["applied"] is True
        assert made.structured_content["files"] == [{"path": "shop/greet.py", "action": "create", "new_path": None}]
        assert "wrote shop/greet.py" in made.content[0].text
        assert "Welcome to the shop" in (workspace / "shop/greet.py").read_text()

        # A diff reaching outside the root: refused whole, nothing written there nor in the workspace.
        hostile = await session.call_tool("apply_diff", {"diff": HOSTILE})
        assert hostile.is_error and hostile.structured_content["applied"] is False
        assert "refused" in hostile.content[0].text
        assert not (tmp_path / "outside.txt").exists()
        assert (workspace / "shop/cart.py").read_text() == CART

        preview = await session.call_tool("apply_diff", {"diff": RENAME_COUNT, "dry_run": True})
        assert preview.structured_content["dry_run"] is True and preview.structured_content["applied"] is False
        assert "+def how_many(prices):" in preview.structured_content["diff"]
        assert (workspace / "shop/cart.py").read_text() == CART

        phases: list[str] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            phases.append(message or "")

        fixed = await session.call_tool("fix", {"max_iterations": 2}, progress_callback=on_progress)
        result = fixed.structured_content
        assert not fixed.is_error, fixed.content
        assert result["green"] is True and result["stopped"] == "green"
        assert (result["failing_before"], result["failing_after"]) == (1, 0)
        assert result["files_changed"] == ["shop/cart.py"]
        assert "sum(prices)\n" in (workspace / "shop/cart.py").read_text()
        assert any(p.startswith("iteration 1/2") for p in phases), phases

        undone = await session.call_tool("undo", {"run_id": result["run_id"]})
        assert not undone.is_error and undone.structured_content["restored_to"] == "start"
        assert "shop/cart.py" in undone.structured_content["written"]
        now = snapshot(workspace)
        assert now.pop("shop/greet.py") and now == start

        unknown = await session.call_tool("undo", {"run_id": "20260101-000000-abcdef"})
        assert unknown.is_error and "Traceback" not in unknown.content[0].text

        reviewed = await session.call_tool("feedback", {"file": "shop/cart.py", "start_line": 6, "end_line": 7,
                                                        "comment": COMMENT, "verify": False})
        assert not reviewed.is_error, reviewed.content
        assert reviewed.structured_content["applied"] is True
        assert reviewed.structured_content["files"][0]["path"] == "shop/cart.py"
        assert '    """How many prices there are."""\n' in (workspace / "shop/cart.py").read_text()

        # The generate run's record, read back as a resource: what was asked and the model's answer.
        record = await session.read_resource(f"codegen://runs/{made.structured_content['run_id']}")
        transcript = json.loads(record.contents[0].text)
        assert transcript["run"]["kind"] == "generate" and transcript["run"]["prompt"] == PROMPT
        assert "Welcome to the shop" in json.dumps(transcript["calls"])
        # A run that came with the files (unsealed) is no run: not read back as one.
        planted = workspace / ".codegen/runs/20260101-000000-abcdef"
        (planted / "calls").mkdir(parents=True)
        (planted / "run.json").write_text(json.dumps({"kind": "generate", "prompt": "planted"}))
        with pytest.raises(MCPError, match="cannot be used"):
            await session.read_resource("codegen://runs/20260101-000000-abcdef")

    records = [p for p in (workspace / ".codegen").rglob("*") if p.is_file()]
    # generate, the refused apply_diff (a run, as the daemon records one), fix, feedback and the planted one
    assert len([p for p in records if p.name == "run.json"]) == 5
    assert not [p for p in records if SECRET.encode() in p.read_bytes()]


async def test_an_applied_diff_is_a_run_that_undo_reverses(tmp_path: Path, scripted_model) -> None:
    """An agent host that applies its own model's diff can take it back, as after generate or fix; a
    refused diff leaves no run saying it is still running."""
    from codegen_server.store import RunStore

    workspace = tmp_path / "ws"
    workspace.mkdir()
    start = make_python_project(workspace)
    model = scripted_model([])
    async with mcp_session(workspace, env_for(model.base_url)) as session:
        preview = await session.call_tool("apply_diff", {"diff": RENAME_COUNT, "dry_run": True})
        assert preview.structured_content["run_id"] == ""  # nothing written, nothing to undo

        applied = await session.call_tool("apply_diff", {"diff": RENAME_COUNT})
        result = applied.structured_content
        assert not applied.is_error and result["applied"] is True and result["run_id"]
        assert applied.content[0].text.startswith(f"run {result['run_id']}: changed: shop/cart.py")
        assert "def how_many(prices):" in (workspace / "shop/cart.py").read_text()
        record = json.loads((await session.read_resource(f"codegen://runs/{result['run_id']}")).contents[0].text)
        assert record["run"]["kind"] == "apply" and record["run"]["written"] == ["shop/cart.py"]

        undone = await session.call_tool("undo", {"run_id": result["run_id"]})
        assert not undone.is_error and undone.structured_content["written"] == ["shop/cart.py"]
        assert snapshot(workspace) == start

        refused = await session.call_tool("apply_diff", {"diff": HOSTILE})
        assert refused.is_error and refused.structured_content["run_id"] == ""
    statuses = {run.id: run.status for run in RunStore(workspace).list_runs()}
    assert "running" not in statuses.values(), statuses
    assert sorted(statuses.values()).count("failed") == 1, statuses
