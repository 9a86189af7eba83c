"""A cloned repository carrying every plant at once, opened with every command that takes a workspace.

The attacker's repository holds a crash journal that writes, deletes and removes folders outside
the workspace and installs a git hook, a far-future run with a checkpoint manifest that copies an
outside file in, restores a setuid file and links out, an index cache that is not ours, memory and
a preprompt override that are symlinks to a secret outside, and a `vendor` link out of the tree.
Each CLI command that takes `--root` runs in the clone, and the daemon is started on it: nothing
outside the workspace, in `.git/hooks` or `.git/config` changes, the secret never reaches the model,
no command prints a traceback, and each says which planted file it ignored.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.answers import NOTHING_TO_CLARIFY
from tests.support.cli import codegen, env_for
from tests.support.hostile import hostile_clone

PLANTED_RUN = "99991231-235959-ffffff"
SECRET = "TOP-SECRET canary"
HOOK = "#!/bin/sh\ntouch /tmp/pwned-by-hook\n"


def plant_everything(repo: Path, outside: Path) -> None:
    (repo / "app.py").write_text("def add(a, b):\n    return a + b\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_app.py").write_text("from app import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    codegen_dir = repo / ".codegen"
    writer = codegen_dir / "writer"
    writer.mkdir(parents=True)
    (repo / "payload.txt").write_text("attacker content\n")
    (repo / ".payload-hook").write_text(HOOK)
    journal = {"state": "committing", "entries": [
        # Each entry's "temp" was renamed onto its "path" if the temp is gone; else the backup goes back.
        {"path": str(outside / "written-by-journal.txt"), "temp": None, "backup": "payload.txt"},
        {"path": "../outside/relative-write.txt", "temp": None, "backup": "payload.txt"},
        {"path": ".git/hooks/pre-commit", "temp": None, "backup": ".payload-hook"},
        {"path": str(outside / "secret.txt"), "temp": None, "backup": None},
    ], "dirs": [str(outside / "notes"), "../outside/notes"]}
    (writer / "journal.2-committing.json").write_text(json.dumps(journal))
    run = codegen_dir / "runs" / PLANTED_RUN
    (run / "checkpoints").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"id": PLANTED_RUN, "kind": "fix", "status": "green"}))
    (run / "checkpoints" / "0000.json").write_text(json.dumps({
        "label": "start", "created": 0, "skipped": [],
        "files": {"stolen.txt": {"sha256": "../../../../../outside/secret", "mode": 0o644},
                  "suid": {"sha256": "0" * 64, "mode": 0o104755},
                  "escape": {"link": str(outside)}}}))
    (codegen_dir / "index").mkdir()
    (codegen_dir / "index" / "tags.marshal").write_bytes(b"\xff" * 64)
    os.symlink(outside / "secret.txt", codegen_dir / "memory.md")
    (codegen_dir / "preprompts").mkdir()
    os.symlink(outside / "secret.txt", codegen_dir / "preprompts" / "generate")
    os.symlink(outside / "secret.txt", codegen_dir / "preprompts" / "philosophy")
    os.symlink(outside, repo / "vendor")


@pytest.fixture
def clone(tmp_path):
    return hostile_clone(tmp_path, plant_everything)


def _never_sent_the_secret(model) -> None:
    sent = json.dumps(model.requests)
    assert SECRET not in sent, "a file outside the workspace reached the model"


def _answers(body: dict) -> ScriptStep:
    """Whatever the command asks, a harmless answer of the kind it expects."""
    system = json.dumps(body.get("messages", [])[:1])
    if "Nothing to clarify" in system:
        return ScriptStep(content=NOTHING_TO_CLARIFY)
    if "NO CHANGE" in system:  # feedback
        return ScriptStep(content="NO CHANGE: the name is fine.")
    return ScriptStep(content="notes.md\n```markdown\n# notes\n```\n")


COMMANDS = {
    "memory": ["memory"],
    "context": ["context", "add two numbers"],
    "apply": ["apply", "--dry-run", "-"],
    "clarify": ["clarify", "a calculator"],
    "generate": ["generate", "--dry-run", "a calculator"],
    "feedback": ["feedback", "app.py", "name it better", "--lines", "1-2", "--dry-run", "--no-verify"],
    "fix": ["fix", "--test-cmd", "true", "--max-iterations", "1"],
    "undo": ["undo", PLANTED_RUN],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_cli_command_leaves_the_outside_alone(name, clone, scripted_model):
    root, outside = clone
    model = scripted_model(_answers)
    patch = "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n-def add(a, b):\n+def add(a: int, b: int):\n     return a + b\n"
    done = codegen(*COMMANDS[name], "--root", str(root), env=env_for(model.base_url),
                   stdin=patch if name == "apply" else None)
    assert outside.changes() == [], done.stderr
    assert not Path("/tmp/pwned-by-hook").exists()
    assert "Traceback" not in done.stdout + done.stderr
    _never_sent_the_secret(model)
    # The journal is looked at before every command: each one names it as ignored.
    assert "journal.2-committing.json" in done.stderr, done.stderr
    if name == "undo":
        assert done.returncode != 0 and PLANTED_RUN in done.stderr, done.stderr
        assert not (root / "stolen.txt").exists() and not (root / "suid").exists() and not (root / "escape").exists()
    else:
        assert done.returncode == 0, done.stderr
    if name in ("memory", "generate", "clarify", "feedback"):
        assert ".codegen/memory.md" in done.stderr, done.stderr


def test_replay_of_a_planted_run_serves_nothing(clone):
    root, outside = clone
    done = codegen("replay", str(root / ".codegen" / "runs" / PLANTED_RUN), env=env_for(None), timeout=30)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert outside.changes() == []


async def test_the_daemon_opened_on_the_clone_leaves_the_outside_alone(clone, scripted_model, editor_factory):
    root, outside = clone
    model = scripted_model(_answers)
    editor = await editor_factory(root, env=model_env(model), client="neovim")
    editor.open("app.py")
    context = await editor.execute("codegen.context", {"task": "add two numbers"})
    assert "app.py" in context["files"]
    memory = await editor.execute("codegen.memory", {})
    assert memory["entries"] == []
    markers = await editor.execute("codegen.collectFeedback", {})
    assert markers["markers"] == []
    generated = await editor.execute("codegen.generateProject", {"prompt": "a notes file", "apply": "none"})
    assert generated["files"]
    runs = await editor.execute("codegen.runs", {})
    assert [run["id"] for run in runs["runs"]] == [generated["runId"]], "a planted run reached the run list"
    assert runs["runs"][0]["kind"] == "generate" and runs["runs"][0]["title"] == "a notes file"
    assert outside.changes() == []
    _never_sent_the_secret(model)
    shown = " ".join(m.message for m in editor.client.messages)
    assert "journal.2-committing.json" in shown and "memory.md" in shown, shown


NVIM_SESSION = r"""
vim.opt.runtimepath:prepend(PLUGIN)
vim.cmd.runtime('plugin/codegen.lua')
local shown = {}
local notify = vim.notify
vim.notify = function(msg, ...) shown[#shown + 1] = tostring(msg) return notify(msg, ...) end
require('codegen').setup({ cmd = { SERVER } })
vim.cmd.edit(vim.fn.fnameescape(FILE))
local attached = vim.wait(30000, function()
  local client = vim.lsp.get_clients({ name = 'codegen' })[1]
  return client ~= nil and client.initialized == true
end, 50)
vim.wait(15000, function() return table.concat(shown, '\n'):find('journal', 1, true) ~= nil end, 50)
local out = assert(io.open(REPORT, 'w'))
out:write((attached and 'attached' or 'not attached') .. '\n' .. table.concat(shown, '\n'))
out:close()
vim.cmd('qa!')
"""


def plant_clean_looking_journal(repo: Path, outside: Path) -> None:
    """A journal that is well formed in every entry: only its missing seal says it is not ours.
    Rolled back, it would delete README.md (its "new content" was renamed onto it, and it had no backup)."""
    plant_everything(repo, outside)
    journal = {"state": "committing", "dirs": [],
               "entries": [{"path": "README.md", "temp": ".README.md.0badc0de.codegen-tmp", "backup": None}]}
    (repo / ".codegen" / "writer" / "journal.2-committing.json").write_text(json.dumps(journal))


def test_opening_a_file_of_the_clone_in_neovim_acts_on_nothing_planted(tmp_path):
    from tests.clients.test_neovim import PLUGIN, VENV_BIN, find_nvim

    nvim = find_nvim()
    if nvim is None:
        pytest.skip("no Neovim 0.10+ found: run clients/neovim/test/install.sh")
    root, outside = hostile_clone(tmp_path, plant_clean_looking_journal)
    report = tmp_path / "nvim-report.txt"
    script = tmp_path / "session.lua"
    script.write_text("\n".join(f"local {name} = {json.dumps(str(value))}" for name, value in
                                {"PLUGIN": PLUGIN, "SERVER": VENV_BIN / "codegen-server", "FILE": root / "app.py",
                                 "REPORT": report}.items()) + NVIM_SESSION)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NVIM", "VIM"))}
    env.update({"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "XDG_CONFIG_HOME": str(tmp_path / "config")})
    done = subprocess.run([nvim, "--clean", "--headless", "-l", str(script)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    shown = report.read_text() if report.exists() else ""
    assert shown.startswith("attached"), done.stdout + done.stderr + shown
    assert (root / "README.md").read_text() == "# a project\n", "the planted journal was acted on"
    assert outside.changes() == []
    assert not Path("/tmp/pwned-by-hook").exists()
    assert "journal.2-committing.json" in shown, shown
