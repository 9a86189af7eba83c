"""What a client, or the workspace, can make the daemon do over stdio (issue 23, points 7 and 8).

- a command's `root` must be a folder the client opened (or inside one): a command pointed at
  any other directory is refused and writes nothing;
- no traceback ever reaches the client: the log gets it, the client one line;
- state codegen refuses to use (its own key readable by others) fails a command with `unsafe-state`;
- a warning about ignored workspace state (a crash journal a clone carries) is shown to the user.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.hostile import hostile_clone
from tests.support.raw_daemon import RawDaemon, frame, request

#: A diff that creates a file in the folder it is applied to.
PLANT_DIFF = "--- /dev/null\n+++ b/pwned.txt\n@@ -0,0 +1 @@\n+written through codegen\n"


def plant_escape(repo: Path, outside: Path) -> None:
    (repo / "sub").mkdir()
    (repo / "sub" / "keep.txt").write_text("a folder inside the workspace\n")
    (repo / "escape").symlink_to(outside)  # a folder of the workspace by name, outside it by where it leads


async def test_a_root_the_client_did_not_open_is_refused_and_nothing_is_written(tmp_path, editor_factory):
    clone, outside = hostile_clone(tmp_path, plant_escape)
    editor = await editor_factory(clone, client="neovim")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for root in (outside.folder, outside.folder.as_uri(), elsewhere, clone / "escape", clone / ".." / "outside"):
        for command, args in (("codegen.applyDiff", {"diff": PLANT_DIFF}), ("codegen.memory", {"add": "x" * 20}),
                              ("codegen.clarify", {"prompt": "anything"})):
            with pytest.raises(JsonRpcException) as refused:
                await editor.execute(command, {**args, "root": str(root)})
            assert "is not a workspace folder the client opened" in refused.value.message, (command, root)
            assert refused.value.data == {"kind": "root-not-opened", "setting": None, "env": None}
    assert outside.changes() == [] and list(elsewhere.iterdir()) == []
    # The folder the editor opened, and folders inside it, still work.
    for root in (clone, clone / "sub"):
        result = await editor.execute("codegen.applyDiff", {"diff": PLANT_DIFF, "root": str(root)})
        assert result["applied"] is True and (root / "pwned.txt").exists()


def test_a_client_that_opened_no_folder_may_name_any_root_over_stdio(tmp_path):
    """It started the daemon itself, on its own pipes: over TCP it could not (see test_tcp)."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    daemon = RawDaemon(tmp_path)
    try:
        daemon.send(frame(request(0, "initialize", {"processId": None, "rootUri": None, "capabilities": {}})))
        daemon.answers({0})
        daemon.send(frame(request(1, "workspace/executeCommand", {
            "command": "codegen.applyDiff", "arguments": [{"diff": PLANT_DIFF, "root": str(workspace)}]})))
        assert daemon.answers({1})[1]["result"]["applied"] is True
        assert (workspace / "pwned.txt").exists()
        assert daemon.finish()[0] == 0
    finally:
        daemon.process.kill()


def test_a_request_that_fails_inside_the_daemon_gets_one_line_and_no_traceback(tmp_path):
    """A client that sends commands before `initialize` makes them fail inside their handlers."""
    daemon = RawDaemon(tmp_path)
    try:
        for msg_id, command in ((1, "codegen.memory"), (2, "codegen.context"), (3, "codegen.collectFeedback")):
            daemon.send(frame(request(msg_id, "workspace/executeCommand", {"command": command, "arguments": [{}]})))
        answers = daemon.answers({1, 2, 3})
        for answer in answers.values():
            raw = json.dumps(answer)
            assert "traceback" not in raw.lower() and 'File \\"' not in raw, raw
            error = answer["error"]
            assert error["data"] == {"kind": "internal", "setting": None, "env": None} and "\n" not in error["message"]
            assert error["message"].startswith("codegen failed: ") and "daemon's log" in error["message"]
        daemon.initialize()
        code, log = daemon.finish()
        assert code == 0 and "Traceback" in log  # the details went to the log instead
    finally:
        daemon.process.kill()


def test_a_key_others_can_read_fails_commands_with_unsafe_state(tmp_path, monkeypatch):
    """codegen's own key (the seal on its state) readable by others: commands say so and what to do."""
    state = tmp_path / "state"
    (state / "codegen").mkdir(parents=True)
    key = state / "codegen" / "key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)
    monkeypatch.setenv("XDG_STATE_HOME", str(state))  # for the daemon this test starts
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    daemon = RawDaemon(workspace)
    try:
        daemon.initialize()
        commands = [("codegen.clarify", {"prompt": "a calculator"}),
                    ("codegen.applyDiff", {"diff": "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
                                                   "-    return a + b\n+    return b + a\n"})]
        for msg_id, (command, args) in enumerate(commands, 1):
            daemon.send(frame(request(msg_id, "workspace/executeCommand", {"command": command, "arguments": [args]})))
        for answer in daemon.answers({1, 2}).values():
            error = answer["error"]
            assert error["data"] == {"kind": "unsafe-state", "setting": None, "env": None}, error
            assert str(key) in error["message"] and "chmod 600" in error["message"]
        assert (workspace / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    finally:
        daemon.process.kill()


def plant_journal(repo: Path, outside: Path) -> None:
    writer = repo / ".codegen" / "writer"
    writer.mkdir(parents=True)
    (writer / "journal.2-committing.json").write_text(json.dumps({"state": "committing", "dirs": [], "entries": [
        {"path": "../outside/secret.txt", "temp": ".nope.codegen-tmp", "backup": None}]}))


async def test_a_warning_about_ignored_state_is_shown_to_the_user(tmp_path, editor_factory):
    """The journal is read at `initialized`, in a worker thread: its warning still reaches the editor."""
    clone, outside = hostile_clone(tmp_path, plant_journal)
    editor = await editor_factory(clone, client="neovim")
    for _ in range(200):
        warnings = [m for m in editor.client.messages if "journal.2-committing.json" in m.message]
        if warnings:
            break
        await asyncio.sleep(0.05)
    assert len(warnings) == 1, [m.message for m in editor.client.messages]
    assert warnings[0].type == types.MessageType.Warning and warnings[0].message.startswith("codegen: ignored ")
    assert outside.changes() == []


async def test_a_folder_the_client_adds_later_may_be_a_root_until_it_is_removed(tmp_path, editor_factory):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    editor = await editor_factory(first)
    folder = types.WorkspaceFolder(uri=second.as_uri(), name="second")

    def change(added: list, removed: list) -> None:
        editor.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=added, removed=removed)))

    change([folder], [])
    result = await editor.execute("codegen.applyDiff", {"diff": PLANT_DIFF, "root": str(second)})
    assert result["applied"] is True and (second / "pwned.txt").exists()
    (second / "pwned.txt").unlink()
    change([], [folder])
    with pytest.raises(JsonRpcException, match="not a workspace folder the client opened"):
        await editor.execute("codegen.applyDiff", {"diff": PLANT_DIFF, "root": str(second)})
    assert not (second / "pwned.txt").exists()
