"""`initialize` is answered before the server is loaded, with exactly what pygls answers once it is."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.raw_daemon import ANSWER_WITHIN, RawDaemon, frame, request

VSCODE_LIKE = {"general": {"positionEncodings": ["utf-16"]},
               "textDocument": {"synchronization": {"willSave": True, "willSaveWaitUntil": True, "didSave": True}},
               "workspace": {"applyEdit": True, "fileOperations": {"didCreate": True, "willRename": True}}}
NEOVIM_LIKE = {"general": {"positionEncodings": ["utf-8", "utf-16", "utf-32"]},
               "textDocument": {"synchronization": {"willSave": False, "willSaveWaitUntil": True}},
               "notebookDocument": {"synchronization": {}}}
CLIENTS = {"nothing declared": {}, "vscode-like": VSCODE_LIKE, "neovim-like": NEOVIM_LIKE,
           "unknown encodings only": {"general": {"positionEncodings": ["ascii"]}}}


def pygls_capabilities(log: str) -> dict:
    """The capabilities pygls computed itself, from its debug log line."""
    marker = "Server capabilities: "
    line = next(line for line in log.splitlines() if marker in line)
    return json.loads(line[line.index(marker) + len(marker):])


@pytest.mark.parametrize("client", CLIENTS.values(), ids=CLIENTS.keys())
def test_the_early_answer_is_the_one_pygls_computes_and_the_only_one(tmp_path, client):
    (tmp_path / "app.py").write_text("def main():\n    return 1\n")
    log = tmp_path / "daemon.log"
    daemon = RawDaemon(tmp_path, "--log-level", "DEBUG", "--log-file", str(log))
    try:
        # All at once, as a client that does not wait: the server reads on from the early reader's bytes.
        daemon.send(frame(request(0, "initialize", {"processId": None, "rootUri": tmp_path.as_uri(),
                                                    "capabilities": client}))
                    + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
                    + frame(request(1, "workspace/executeCommand",
                                    {"command": "codegen.context", "arguments": [{"task": "main", "budget": 200}]})))
        answers = daemon.answers({0, 1})
        assert "main" in answers[1]["result"]["text"]
        code, _ = daemon.finish()
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
    assert code == 0
    extra = []
    while not daemon.messages.empty():
        extra.append(daemon.messages.get())
    assert not [m for m in extra if m.get("id") == 0], extra  # pygls's own answer was not sent too
    text = log.read_text()
    assert answers[0]["result"]["capabilities"] == pygls_capabilities(text)
    assert answers[0]["result"]["serverInfo"]["name"] == "codegen-server"
    assert "differs from pygls's" not in text


def test_the_answer_is_written_before_lsprotocol_is_imported(tmp_path):
    """One pipe for stdout and stderr, and Python's import trace on stderr: the order is the proof."""
    messages = (frame(request(0, "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}))
                + frame(request(1, "shutdown", None, with_params=False))
                + frame({"jsonrpc": "2.0", "method": "exit"}))
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "codegen_server.server"], input=messages,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path, timeout=ANSWER_WITHIN)
    output = done.stdout
    assert done.returncode == 0, output[-2000:]
    answer = output.index(b'"id":0,"result":{"capabilities"')
    assert answer < output.index(b"lsprotocol.types"), "initialize was answered only after the server loaded"
    assert output.count(b'"id":0') == 1


@pytest.mark.parametrize(("params", "refused"), [
    ({"processId": "me", "capabilities": {}}, True),
    ({"processId": None, "capabilities": "none"}, False),
    ({"processId": None, "capabilities": {"general": {"positionEncodings": "utf-8"}}}, False),
], ids=["processId a string", "capabilities not an object", "encodings not a list"])
def test_an_initialize_the_early_reader_does_not_vouch_for_is_answered_by_pygls(tmp_path, params, refused):
    """pygls refuses some odd params and accepts others; either way it answers, once."""
    daemon = RawDaemon(tmp_path)
    try:
        daemon.send(frame(request(0, "initialize", params)))
        answer = daemon.answers({0})[0]
        assert ("error" in answer) == refused, answer
        if refused:
            assert answer["error"]["code"] == -32602
            daemon.initialize()  # the client can still start the session properly
        code, _ = daemon.finish()
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
    assert code == 0
    assert not [m for m in list(daemon.messages.queue) if m.get("id") == 0]


def test_params_pygls_refuses_after_the_early_answer_are_told_to_the_user_not_answered_twice(tmp_path):
    """The early reader vouches for the envelope, not every field: pygls's refusal becomes a message."""
    log = tmp_path / "daemon.log"
    daemon = RawDaemon(tmp_path, "--log-file", str(log))
    try:
        daemon.send(frame(request(0, "initialize", {"processId": None, "capabilities": {},
                                                    "workspaceFolders": "not a list"})))
        assert "capabilities" in daemon.answers({0})[0]["result"]
        seen = []
        while not any(m.get("method") == "window/showMessage" for m in seen):
            seen.append(daemon.messages.get(timeout=ANSWER_WITHIN))
        shown = next(m for m in seen if m.get("method") == "window/showMessage")
        assert shown["params"]["type"] == 1 and "could not initialize" in shown["params"]["message"]
        assert not [m for m in seen if m.get("id") == 0]
        code, _ = daemon.finish()
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
    assert not [m for m in list(daemon.messages.queue) if m.get("id") == 0]
    assert "differs from pygls's" in log.read_text()
