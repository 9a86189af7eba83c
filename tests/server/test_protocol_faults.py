"""The daemon under bad input, as raw bytes on its stdin: it answers every well-formed request after a bad one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.raw_daemon import ANSWER_WITHIN, RawDaemon, frame, request


@pytest.fixture
def daemon(tmp_path):
    (tmp_path / "app.py").write_text("def main():\n    return 1\n")
    started = RawDaemon(tmp_path)
    yield started
    if started.process.poll() is None:
        started.process.kill()
        started.process.wait()


def test_a_content_length_too_long_is_answered_and_the_next_requests_are_too(daemon):
    daemon.initialize()
    daemon.send(frame(daemon_context(1), extra_length=50))
    for msg_id in range(2, 12):
        daemon.send(daemon.context_request(msg_id))
    answers = daemon.answers(set(range(1, 12)))
    assert answers[1]["error"]["code"] == -32600 and "Content-Length" in answers[1]["error"]["message"]
    assert all("text" in answers[i]["result"] for i in range(2, 12))
    code, stderr = daemon.finish()
    assert code == 0
    assert stderr.count("bytes of input") == 1 and "is longer than the message" in stderr, stderr


def test_a_content_length_too_long_on_the_last_message_does_not_hang(daemon):
    daemon.initialize()
    daemon.send(frame(daemon_context(1), extra_length=50))
    answers = daemon.answers({1})  # nothing more arrives: the daemon stops waiting for the 50 bytes
    assert answers[1]["error"]["code"] == -32600
    daemon.send(daemon.context_request(2))
    assert "text" in daemon.answers({2})[2]["result"]
    assert daemon.finish()[0] == 0


def test_a_content_length_too_short_loses_only_that_message(daemon):
    daemon.initialize()
    daemon.send(frame(daemon_context(1), extra_length=-10))
    for msg_id in (2, 3, 4):
        daemon.send(daemon.context_request(msg_id))
    answers = daemon.answers({None, 2, 3, 4})
    assert answers[None]["error"]["code"] == -32700
    assert all("text" in answers[i]["result"] for i in (2, 3, 4))
    assert daemon.finish()[0] == 0


def test_invalid_requests_get_the_json_rpc_error_they_deserve(daemon):
    daemon.initialize()
    daemon.send(frame(request(1, "workspace/executeCommand", None)))  # "params": null
    daemon.send(frame(request(2, "workspace/executeCommand", [1, 2])))  # params of the wrong shape
    daemon.send(frame({"jsonrpc": "2.0", "id": 3, "method": 42}))
    daemon.send(frame({"jsonrpc": "1.0", "id": 4, "method": "shutdown"}))
    daemon.send(frame("[" + json.dumps(request(5, "shutdown", None)) + "]"))
    daemon.send(b"\r\n\r\nnot a header at all\r\n")
    daemon.send(frame("{not json}"))
    daemon.send(daemon.context_request(6))
    answers = daemon.answers({None, 1, 2, 3, 4, 6})
    assert answers[1]["error"]["code"] == -32602 and "workspace/executeCommand" in answers[1]["error"]["message"]
    assert answers[2]["error"]["code"] == -32602
    assert answers[3]["error"]["code"] == -32600 and answers[4]["error"]["code"] == -32600
    assert "text" in answers[6]["result"]
    code, stderr = daemon.finish()
    assert code == 0 and "TypeError" not in stderr and "Traceback" not in stderr


def test_shutdown_with_null_params_is_fine(daemon):
    daemon.initialize()
    daemon.send(frame(request(1, "shutdown", None)))
    assert daemon.answers({1})[1]["result"] is None
    daemon.send(frame({"jsonrpc": "2.0", "method": "exit", "params": None}))
    assert daemon.process.wait(timeout=ANSWER_WITHIN) == 0


def test_initialized_with_null_params_still_starts_the_session(daemon):
    """`"params": null` on `initialized` is no params: the session's start (file watching) still runs."""
    daemon.send(frame(request(0, "initialize", {"processId": None, "rootUri": daemon.root.as_uri(),
                                                 "capabilities": {}})))
    daemon.answers({0})
    daemon.send(frame({"jsonrpc": "2.0", "method": "initialized", "params": None}))
    daemon.send(daemon.context_request(1))
    assert "def main" in daemon.answers({1})[1]["result"]["text"]
    code, stderr = daemon.finish()
    assert code == 0 and "watching 1 folders of" in stderr, stderr


def test_exit_without_shutdown_ends_with_1(daemon):
    daemon.initialize()
    daemon.send(frame({"jsonrpc": "2.0", "method": "exit"}))
    assert daemon.process.wait(timeout=ANSWER_WITHIN) == 1


@pytest.mark.parametrize("stdin", [b"garbage\n", b""])
def test_input_that_is_not_lsp_is_said_on_stderr(tmp_path, stdin):
    done = subprocess.run([sys.executable, "-m", "codegen_server.server"], input=stdin, capture_output=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode != 0
    assert b"no LSP message arrived on stdin" in done.stderr and not done.stdout


def daemon_context(msg_id: int) -> dict:
    return request(msg_id, "workspace/executeCommand",
                   {"command": "codegen.context", "arguments": [{"task": "anything", "budget": 200}]})


def test_a_message_over_the_size_limit_is_refused_and_the_next_request_answered(tmp_path):
    (tmp_path / "app.py").write_text("def main():\n    return 1\n")
    daemon = RawDaemon(tmp_path, "--max-message-mb", "0.01")  # 10 KB
    try:
        daemon.initialize()
        big = daemon_context(1)
        big["params"]["arguments"][0]["task"] = "x" * 50_000
        daemon.send(frame(big))
        opened = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": (tmp_path / "big.py").as_uri(), "languageId": "python", "version": 1, "text": "y" * 50_000}}}
        daemon.send(frame(opened))
        daemon.send(daemon.context_request(2))
        error = daemon.answers({1})[1]["error"]
        assert error["code"] == -32600 and error["data"]["kind"] == "message_too_large", error
        assert error["data"]["size"] == len(json.dumps(big).encode())
        logged = daemon.notification("window/logMessage")  # the notification has no id to answer
        assert "over the limit" in logged["params"]["message"]
        assert "text" in daemon.answers({2})[2]["result"]
        code, stderr = daemon.finish()
        assert code == 0 and stderr.count("skipped a") == 2, stderr
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()


def test_a_first_message_over_the_size_limit_is_not_held_before_initialize(tmp_path):
    (tmp_path / "app.py").write_text("def main():\n    return 1\n")
    daemon = RawDaemon(tmp_path, "--max-message-mb", "0.01")
    try:
        big = daemon_context(1)
        big["params"]["arguments"][0]["task"] = "x" * 50_000
        daemon.send(frame(big))
        assert daemon.answers({1})[1]["error"]["data"]["kind"] == "message_too_large"
        daemon.initialize()
        daemon.send(daemon.context_request(2))
        assert "text" in daemon.answers({2})[2]["result"]
        assert daemon.finish()[0] == 0
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
