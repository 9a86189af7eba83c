"""codegen.clarify and codegen.generateProject driven over stdio by an editor-like LSP client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from codegen_server.context.shown import shown_whole
from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.answers import (BROKEN_CALC, CALC_FILES, CALC_PROJECT, CLARIFY_QUESTIONS, FIX_ADD,
                                   NOTHING_TO_CLARIFY)
from tests.support.fix_projects import fix_model


def run_pytest(project) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("client", ["vscode", "neovim"])
async def test_clarify_then_generate_a_project_whose_tests_pass(tmp_path, scripted_model, editor_factory, client):
    model = scripted_model([ScriptStep(content=CLARIFY_QUESTIONS), ScriptStep(content=NOTHING_TO_CLARIFY),
                            ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, client=client, env=model_env(model))

    first = await editor.execute("codegen.clarify", {"prompt": "a calculator library"})
    assert first["questions"] == ["Which operations should the calculator support?",
                                  "Should it be a library, a command-line tool, or both?"]
    second = await editor.execute("codegen.clarify", {"runId": first["runId"],
                                                      "answers": ["add, sub, mul, div", "both"]})
    assert second["questions"] == [] and second["done"] is True
    assert "A: add, sub, mul, div" in second["spec"]

    result = await editor.execute("codegen.generateProject", {"runId": first["runId"]})
    assert result["applied"] is True and result["apply"] == "client"
    assert sorted(f["path"] for f in result["files"]) == sorted(CALC_FILES)
    assert all(f["action"] == "create" for f in result["files"])
    assert "+++ b/calc/ops.py" in result["diff"]

    # The editor was asked to preview: annotated edits needing confirmation.
    edit = editor.edits_received[-1].edit
    assert edit.change_annotations and all(a.needs_confirmation for a in edit.change_annotations.values())
    assert any(isinstance(c, types.CreateFile) for c in edit.document_changes)
    # What the editor's buffers hold is what the daemon put on disk.
    for path in CALC_FILES:
        assert editor.buffer_text(path) == (tmp_path / path).read_text()

    # The clarified answers reached the generate request.
    generate_request = model.requests[-1]["messages"][-1]["content"]
    assert "add, sub, mul, div" in generate_request

    tests = run_pytest(tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout

    # Every run keeps its transcript up to date (the VS Code view opens it): questions, answers, the answer.
    transcript = (tmp_path / ".codegen" / "runs" / first["runId"] / "transcript.md").read_text()
    assert "- **Q:** Which operations should the calculator support?\n  **A:** add, sub, mul, div" in transcript
    assert "- Status: applied" in transcript and "## 3. generate" in transcript and "calc/ops.py" in transcript


async def test_declined_edit_writes_nothing(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model), accept_edits=False)
    result = await editor.execute("codegen.generateProject", {"prompt": "a calculator"})
    assert result["applied"] is False and "declined" in result["reason"]
    assert len(editor.edits_received) == 1
    assert [p.name for p in tmp_path.iterdir()] == [".codegen"]
    assert result["diff"]  # the change is still reported as a diff


async def test_files_left_out_in_the_review_are_never_written_and_the_run_records_what_landed(
        tmp_path, scripted_model, editor_factory):
    """An editor that takes some files of the preview (VS Code's "Choose Changes to Apply") saves those and
    answers `codegen:reviewed`: the daemon writes nothing more, and reports only what landed."""
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model), leave_out={"README.md", "calc/cli.py"})
    result = await editor.execute("codegen.generateProject", {"prompt": "a calculator"})

    assert result["applied"] is True
    taken = sorted(set(CALC_FILES) - {"README.md", "calc/cli.py"})
    assert sorted(f["path"] for f in result["files"]) == taken
    assert not (tmp_path / "README.md").exists() and not (tmp_path / "calc" / "cli.py").exists()
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                  if p.is_file() and not {".codegen", "__pycache__", ".pytest_cache"} & set(p.parts)) == taken
    assert result["leftOut"] == ["calc/cli.py: the user rejected your change to it in the review",
                                 "README.md: the user rejected your change to it in the review"]
    recorded = (tmp_path / ".codegen" / "runs" / result["runId"] / "diff.patch").read_text()
    assert "calc/ops.py" in recorded and "README.md" not in recorded and recorded == result["diff"]
    # The tests ran against what landed: the test module imports calc.cli, which was left out.
    assert result["tests"]["failed"] == 1 and result["tests"]["passed"] == 0


async def test_headless_client_gets_files_written_to_disk(tmp_path, scripted_model, editor_factory):
    """A client without workspace.applyEdit (a tool driving the daemon) gets an atomic disk write."""
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, client="neovim", env=model_env(model))
    result = await editor.execute("codegen.generateProject", {"prompt": "a calculator", "apply": "disk"})
    assert result["applied"] is True and result["apply"] == "disk" and not editor.edits_received
    assert run_pytest(tmp_path).returncode == 0
    # The daemon ran the tests it wrote, and says so (issue 25); `fix: true` was not asked for.
    assert (result["tests"]["passed"], result["tests"]["failed"]) == (3, 0) and result["fix"] is None


async def test_generate_with_fix_goes_on_into_the_fix_loop_when_its_tests_fail(tmp_path, scripted_model, editor_factory):
    fixing = fix_model([FIX_ADD], diagnosis="add() subtracts.")
    model = scripted_model(lambda body: ScriptStep(content=BROKEN_CALC) if len(body["messages"]) == 2
                           and body["messages"][1]["content"].startswith("a calculator") else fixing(body))
    editor = await editor_factory(tmp_path, client="neovim", env=model_env(model))
    result = await editor.execute("codegen.generateProject", {"prompt": "a calculator", "apply": "disk", "fix": True})
    assert result["tests"]["failing"] == ["tests/test_ops.py::test_arithmetic"]
    assert result["fix"]["green"] is True and result["fix"]["iterations"][0]["edited"] == ["calc/ops.py"]
    assert run_pytest(tmp_path).returncode == 0
    transcripts = "".join(path.read_text() for path in (tmp_path / ".codegen" / "runs").glob("*/transcript.md"))
    assert "## Iteration 1" in transcripts and "- Diagnosis: add() subtracts." in transcripts
    assert "- Tests failing: 1 before, 0 after" in transcripts


async def test_generate_reports_progress_with_streamed_tokens(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content=CALC_PROJECT, chunk_size=8, chunk_delay=0.002)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    await editor.execute("codegen.generateProject", {"prompt": "a calculator", "apply": "none"})
    reports = [r for rs in editor.client.progress_reports.values() for r in rs]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert any(isinstance(r, types.WorkDoneProgressReport) and "tokens streamed" in (r.message or "")
               for r in reports)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)


async def _start_slow_generation(tmp_path, scripted_model, editor_factory):
    """A generation whose answer streams slowly, returned once tokens are streaming."""
    model = scripted_model([ScriptStep(content=CALC_PROJECT, chunk_size=2, chunk_delay=0.05)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    request = types.ExecuteCommandParams(command="codegen.generateProject", arguments=[{"prompt": "a calculator"}])
    task = asyncio.ensure_future(editor.client.protocol.send_request_async(
        types.WORKSPACE_EXECUTE_COMMAND, request, msg_id="generate-1"))
    while not any("tokens streamed" in (getattr(r, "message", "") or "")
                  for rs in editor.client.progress_reports.values() for r in rs):
        await asyncio.sleep(0.02)
    return editor, task, model


async def _stream_ended(model, limit: float = 15.0) -> None:
    """Wait until the model server either saw the client hang up or sent the whole answer.

    The slow answer takes ~40 s to stream, so a stream nobody dropped is still going when
    this gives up, and the caller's hang-up assertion fails.
    """
    async def ended() -> None:
        while not (model.hangups or model.finished):
            await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(ended(), timeout=limit)
    except asyncio.TimeoutError:
        pass


async def test_cancel_request_stops_the_stream_and_writes_nothing(tmp_path, scripted_model, editor_factory):
    editor, task, model = await _start_slow_generation(tmp_path, scripted_model, editor_factory)
    # What an editor sends when the user gives up on a request.
    cancelled_at = time.monotonic()
    editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="generate-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, timeout=2.0)
    await _stream_ended(model)
    # The model server saw the hang-up after the cancel and never sent the answer's last chunk.
    assert model.hangups and not model.finished and model.hangups[0] > cancelled_at
    assert not editor.edits_received
    assert not (tmp_path / "calc").exists()
    [run] = (tmp_path / ".codegen" / "runs").iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "cancelled"


async def test_progress_cancel_button_stops_the_generation(tmp_path, scripted_model, editor_factory):
    editor, task, model = await _start_slow_generation(tmp_path, scripted_model, editor_factory)
    token = next(iter(editor.client.progress_reports))
    cancelled_at = time.monotonic()
    editor.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(task, timeout=2.0)
    await _stream_ended(model)
    assert model.hangups and not model.finished and model.hangups[0] > cancelled_at
    assert result["cancelled"] is True
    assert not editor.edits_received and not (tmp_path / "calc").exists()


async def test_daemon_answers_other_requests_while_streaming(tmp_path, scripted_model, editor_factory):
    editor, task, model = await _start_slow_generation(tmp_path, scripted_model, editor_factory)
    # A command that writes nothing (a writing one waits for the generate's turn: test_runs_over_lsp).
    quick = await asyncio.wait_for(editor.execute("codegen.runs", {}), timeout=5)
    assert [run["status"] for run in quick["runs"]] == ["running"] and not task.done()
    task.cancel()


async def test_generate_survives_a_daemon_restart_between_clarify_and_generate(
        tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content=CLARIFY_QUESTIONS), ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    first = await editor.execute("codegen.clarify", {"prompt": "a calculator library"})
    await editor.client.shutdown_session()

    again = await editor_factory(tmp_path, env=model_env(model))
    result = await again.execute("codegen.generateProject", {"runId": first["runId"], "apply": "disk"})
    assert result["applied"] is True
    assert "Which operations" in model.requests[-1]["messages"][-1]["content"]


async def test_codegen_data_stays_out_of_git_status(tmp_path, scripted_model, editor_factory):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    await editor.execute("codegen.generateProject", {"prompt": "a calculator", "apply": "disk"})
    (tmp_path / ".codegen" / "preprompts").mkdir()
    (tmp_path / ".codegen" / "preprompts" / "philosophy").write_text("We write tabs.\n")
    (tmp_path / ".codegen" / "memory.md").write_text("- prefer pathlib\n")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    codegen_lines = sorted(line for line in status.splitlines() if ".codegen" in line)
    # Only what a team commits shows: not runs, the index, locks, nor the ignore file itself.
    assert codegen_lines == ["?? .codegen/memory.md", "?? .codegen/preprompts/philosophy"], status


async def test_an_ignore_file_from_an_older_codegen_is_brought_up_to_date(tmp_path, scripted_model, editor_factory):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".codegen").mkdir()
    (tmp_path / ".codegen" / ".gitignore").write_text("# codegen's working data (runs, checkpoints, index): "
                                                      "not for version control.\nruns/\nindex/\n")
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    await editor.execute("codegen.generateProject", {"prompt": "a calculator", "apply": "disk"})
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", ".codegen"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert status == ""


async def test_a_workspace_preprompt_overrides_the_shipped_one(tmp_path, scripted_model, editor_factory):
    (tmp_path / ".codegen" / "preprompts").mkdir(parents=True)
    (tmp_path / ".codegen" / "preprompts" / "philosophy").write_text("You are the Acme house style engineer.\n")
    model = scripted_model([ScriptStep(content=NOTHING_TO_CLARIFY)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    system = model.requests[0]["messages"][0]["content"]
    assert system.startswith("You are the Acme house style engineer.")
    assert "find out what is unclear" in system  # the other preprompts still ship


@pytest.mark.parametrize("cancel_first", [False, True], ids=["cancel-after", "cancel-before"])
async def test_a_cancel_sent_with_the_request_stops_it(tmp_path, scripted_model, editor_factory, cancel_first):
    # The cancel can reach the daemon before the command's task has started, or (from a client that
    # sends both at once) even before the request itself: either way the command must not run.
    model = scripted_model([ScriptStep(content=CALC_PROJECT, delay=1.0)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    request = types.ExecuteCommandParams(command="codegen.generateProject",
                                         arguments=[{"prompt": "a calculator", "apply": "disk"}])
    task = asyncio.ensure_future(editor.client.protocol.send_request_async(
        types.WORKSPACE_EXECUTE_COMMAND, request, msg_id="generate-early"))
    if not cancel_first:
        await asyncio.sleep(0)  # the request is written; the cancel follows it at once
    editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="generate-early"))
    try:  # pygls answers RequestCancelled when it still knew the request; else the command says so
        result = await asyncio.wait_for(task, timeout=60)
        assert result["cancelled"] is True
    except JsonRpcRequestCancelled:
        pass
    # The daemon still answers, and the cancelled command wrote nothing and asked nothing.
    (tmp_path / "notes.txt").write_text("one\n")
    await editor.execute("codegen.applyDiff", {"diff": "--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-one\n+two\n",
                                               "apply": "disk"})
    if model.requests:
        # A command still running would read the model's answer to its end, then write it: instead the
        # model sees the connection closed.
        while not (model.hangups or model.finished):
            await asyncio.sleep(0.05)
        assert not model.finished
    assert not (tmp_path / "calc").exists() and not (tmp_path / "README.md").exists()


SHOP = {
    "shop/__init__.py": "",
    "shop/cart.py": '''\
"""A shopping cart."""

from dataclasses import dataclass, field

from shop.pricing import apply_discount


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 1


@dataclass
class Cart:
    items: list[Item] = field(default_factory=list)
    code: str = ""

    def add(self, name: str, price: float, quantity: int = 1) -> None:
        self.items.append(Item(name, price, quantity))

    def total(self) -> float:
        return apply_discount(sum(i.price * i.quantity for i in self.items), self.code)
''',
    "shop/pricing.py": 'def apply_discount(amount: float, code: str) -> float:\n    return amount * 0.9 if code == "SAVE10" else amount\n',
    "shop/report.py": "def render(rows: list[str]) -> str:\n    return \"\\n\".join(rows)\n",
    "shop/shipping.py": "def shipping_cost(weight: float) -> float:\n    return 5.0 if weight < 1 else 9.0\n",
    "tests/test_cart.py": '''\
from shop.cart import Cart


def test_total_sums_the_items():
    cart = Cart()
    cart.add("pen", 2.0, 3)
    assert cart.total() == 6.0
''',
    "tests/test_shipping.py": "from shop.shipping import shipping_cost\n\n\ndef test_light():\n    assert shipping_cost(0.5) == 5.0\n",
}
ADD_REFUSES_A_NEGATIVE_QUANTITY = '''\
```diff
--- a/shop/cart.py
+++ b/shop/cart.py
@@ -20,2 +20,4 @@
     def add(self, name: str, price: float, quantity: int = 1) -> None:
+        if quantity < 1:
+            raise ValueError("quantity must be at least 1")
         self.items.append(Item(name, price, quantity))
```
'''


async def test_generate_in_an_existing_project_quotes_the_files_the_task_touches_whole(
        tmp_path, scripted_model, editor_factory):
    for name, text in SHOP.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    model = scripted_model([ScriptStep(content=ADD_REFUSES_A_NEGATIVE_QUANTITY)])
    editor = await editor_factory(tmp_path, env=model_env(model))

    result = await editor.execute("codegen.generateProject", {
        "prompt": "Cart.add should refuse a quantity below 1 with a ValueError", "apply": "disk"})

    request = model.requests[0]["messages"][-1]["content"]
    # The file the task names, whole with its fields and bodies (numbered, so a whole rewrite is allowed
    # too), and its tests: the first answer can be a diff that applies, with no request for the files.
    assert shown_whole(SHOP["shop/cart.py"], request)
    assert shown_whole(SHOP["tests/test_cart.py"], request)
    # Most likely first: the file the task names before the others a small project has room for.
    assert request.index("`shop/cart.py` (the whole file") < request.index("`shop/shipping.py` (the whole file")
    assert len(model.requests) == 1 and result["applied"] is True
    assert 'raise ValueError("quantity must be at least 1")' in (tmp_path / "shop/cart.py").read_text()
