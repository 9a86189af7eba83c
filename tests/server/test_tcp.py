"""`codegen-server --tcp HOST:PORT`: the same daemon over a socket, served only to a client with the token.

Tried as an attacker would: another program on the machine connects without the token, a web
page makes the browser POST an LSP body to the port, a command names a `root` the client never
opened. Nothing is served and nothing is written; the real client, with the token, still works.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

from codegen_server.model.scripted_server import ScriptStep
from tests.support.hostile import hostile_clone

#: A diff that would create a file in the folder it is applied to.
PLANT_DIFF = "--- /dev/null\n+++ b/pwned.txt\n@@ -0,0 +1 @@\n+written through codegen\n"


def lsp_frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def initialize(root: Path, options: dict | None = None, msg_id: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "initialize", "params": {
        "processId": None, "rootUri": root.as_uri(), "capabilities": {}, "initializationOptions": options}}


def apply_diff(root: Path, msg_id: int = 2) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "workspace/executeCommand", "params": {
        "command": "codegen.applyDiff", "arguments": [{"diff": PLANT_DIFF, "root": str(root)}]}}


class TcpDaemon:
    """codegen-server --tcp as a subprocess; its port and token file come from the line it prints on stderr."""

    def __init__(self, *options: str, env: dict | None = None) -> None:
        run_env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY") and not k.startswith("OPENAI_")}
        run_env.update(env or {})
        self.process = subprocess.Popen([sys.executable, "-m", "codegen_server.server", *options],
                                        env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.process.stderr.readline()
        match = re.search(r"listening on (\S+):(\d+); the client's token is in (.+)$", line)
        assert match, line + self.process.stderr.read() if self.process.poll() is not None else line
        self.port = int(match.group(2))
        self.token_file = Path(match.group(3).strip())
        self.token = self.token_file.read_text().strip()

    def exchange(self, data: bytes, timeout: float = 20) -> bytes:
        """Send ``data`` on a new connection; everything the daemon sent back before it closed the connection."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            received = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    return received
                received += chunk
        raise AssertionError(f"the daemon kept the connection open; it sent {received!r}")

    async def client(self, root: Path, token: str | None = None) -> LanguageClient:
        """A real LSP client (pygls) that sends the token, initialized on ``root``."""
        client = LanguageClient("tcp-test", "1.0")
        await client.start_tcp("127.0.0.1", self.port)
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
            initialization_options={"token": self.token if token is None else token}))
        client.initialized(types.InitializedParams())
        return client

    @staticmethod
    async def finish(client: LanguageClient) -> None:
        """End the session as an editor does (the client's reader stops when the daemon hangs up)."""
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def tcp_daemon():
    started: list[TcpDaemon] = []

    def start(*options: str, env: dict | None = None) -> TcpDaemon:
        daemon = TcpDaemon("--tcp", "127.0.0.1:0", *options, env=env)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop()


async def test_a_client_with_the_token_drives_the_daemon_over_tcp(tmp_path, scripted_model, tcp_daemon):
    model = scripted_model([ScriptStep(content="1. Which operations?")])
    daemon = tcp_daemon(env={"OPENAI_BASE_URL": model.base_url, "CODEGEN_MODEL": "scripted-model"})
    info = daemon.token_file.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.getuid()
    assert len(daemon.token) >= 40

    client = await daemon.client(tmp_path)
    try:
        result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="codegen.clarify", arguments=[{"prompt": "a calculator"}]))
        assert result["questions"] == ["Which operations?"]
    finally:
        await daemon.finish(client)
    assert daemon.process.wait(timeout=20) == 0
    assert not daemon.token_file.exists()  # removed at exit
    assert daemon.token not in daemon.process.stderr.read()


def plant_nothing(repo: Path, outside: Path) -> None:
    (repo / "app.py").write_text("print('hello')\n")


def test_a_connection_without_the_token_gets_an_error_and_is_closed_unserved(tmp_path, tcp_daemon):
    clone, outside = hostile_clone(tmp_path, plant_nothing)
    daemon = tcp_daemon()
    for options in (None, {"token": "guessed-" + "x" * 40}, {"token": daemon.token[:-1]}):
        answer = daemon.exchange(lsp_frame(initialize(clone, options)) + lsp_frame(apply_diff(outside.folder)))
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert body["id"] == 1 and body["error"]["data"]["kind"] == "unauthenticated", body
        assert str(daemon.token_file) in body["error"]["message"] and daemon.token not in answer.decode()
        assert answer.count(b"Content-Length") == 1  # the error, and nothing else: applyDiff was never served
    # A first message that is not initialize is refused the same way, even with the token elsewhere in it.
    answer = daemon.exchange(lsp_frame({**apply_diff(outside.folder), "token": daemon.token}))
    assert b'"unauthenticated"' in answer and answer.count(b"Content-Length") == 1
    assert not (outside.folder / "pwned.txt").exists() and not (clone / "pwned.txt").exists()
    assert outside.changes() == []


def test_an_http_request_to_the_port_is_answered_with_nothing(tmp_path, tcp_daemon):
    """What any web page can make the browser send: a POST whose body is LSP (framed, or bare JSON)."""
    clone, outside = hostile_clone(tmp_path, plant_nothing)
    daemon = tcp_daemon()
    framed = lsp_frame(initialize(clone)) + lsp_frame(apply_diff(outside.folder))
    bare = json.dumps(initialize(clone)).encode()
    for body in (framed, bare):
        for content_type in ("text/plain", "application/json"):
            request = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: https://attacker.example\r\n"
                       b"Content-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
                       % (daemon.port, content_type.encode(), len(body), body))
            assert daemon.exchange(request) == b""
    assert daemon.exchange(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == b""
    # Headers of LSP's own, then one that is not: not an LSP client either.
    assert daemon.exchange(b"Content-Length: %d\r\nHost: x\r\n\r\n%s" % (len(bare), bare)) == b""
    assert not (outside.folder / "pwned.txt").exists() and not (clone / "pwned.txt").exists()
    assert outside.changes() == []
    assert daemon.process.poll() is None  # still listening for its client


def test_a_first_message_over_max_message_mb_is_refused_unread(tmp_path, tcp_daemon):
    daemon = tcp_daemon("--max-message-mb", "0.01")  # 10,485 bytes
    padded = initialize(tmp_path, {"token": daemon.token, "padding": "x" * 20_000})
    answer = daemon.exchange(lsp_frame(padded))
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["id"] is None and body["error"]["data"] == {"kind": "message_too_large",
                                                            "size": len(json.dumps(padded))}
    assert "10485 bytes" in body["error"]["message"] and answer.count(b"Content-Length") == 1
    # Under the limit, the same connection is read as before (here: refused for its missing token).
    assert b"unauthenticated" in daemon.exchange(lsp_frame(initialize(tmp_path)))


async def test_the_first_message_limit_is_the_smaller_of_max_message_mb_and_the_tcp_cap():
    from codegen_server.server.tcp import MAX_FIRST_MESSAGE, first_message

    def reader(*chunks: bytes):
        pending = list(chunks)

        async def read(timeout: float | None) -> bytes:
            return pending.pop(0) if pending else b""

        return read

    body = json.dumps(initialize(Path("/tmp"))).encode()
    framed = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    whole = await first_message(reader(framed[:7], framed[7:]), max_message=len(body))
    assert whole.message["method"] == "initialize" and not whole.too_large
    over = await first_message(reader(framed), max_message=len(body) - 1)
    assert (over.message, over.too_large, over.limit) == (None, len(body), len(body) - 1)
    # A header alone is enough to refuse: the body is never awaited.
    huge = await first_message(reader(b"Content-Length: %d\r\n\r\n" % (MAX_FIRST_MESSAGE + 1)),
                               max_message=64 * 1024 * 1024)
    assert (huge.too_large, huge.limit) == (MAX_FIRST_MESSAGE + 1, MAX_FIRST_MESSAGE)


async def test_after_refused_connections_the_real_client_is_still_served(tmp_path, tcp_daemon):
    daemon = tcp_daemon()
    assert daemon.exchange(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}") == b""
    assert b"unauthenticated" in daemon.exchange(lsp_frame(initialize(tmp_path)))
    client = await daemon.client(tmp_path)
    try:
        result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="codegen.memory", arguments=[{}]))
        assert result["entries"] == []
    finally:
        await daemon.finish(client)


async def test_over_tcp_a_root_the_client_did_not_open_is_refused(tmp_path, tcp_daemon):
    clone, outside = hostile_clone(tmp_path, plant_nothing)
    (clone / "sub").mkdir()
    (clone / "escape").symlink_to(outside.folder)  # inside the folder by name, outside by where it leads
    daemon = tcp_daemon()
    client = await daemon.client(clone)
    try:
        for root in (outside.folder, outside.folder.as_uri(), tmp_path, clone / "escape", clone / ".." / "outside"):
            with pytest.raises(JsonRpcException) as refused:
                await client.workspace_execute_command_async(types.ExecuteCommandParams(
                    command="codegen.applyDiff", arguments=[{"diff": PLANT_DIFF, "root": str(root)}]))
            assert "not a workspace folder the client opened" in refused.value.message, root
        assert outside.changes() == [] and not (tmp_path / "pwned.txt").exists()
        # The opened folder, and a folder inside it, are fine.
        for root in (clone, clone / "sub"):
            result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="codegen.applyDiff", arguments=[{"diff": PLANT_DIFF, "root": str(root)}]))
            assert result["applied"] is True and (root / "pwned.txt").exists()
    finally:
        await daemon.finish(client)


async def test_over_tcp_a_client_that_opened_no_folder_cannot_name_a_root(tmp_path, tcp_daemon):
    daemon = tcp_daemon()
    client = LanguageClient("tcp-test", "1.0")
    await client.start_tcp("127.0.0.1", daemon.port)
    try:
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), initialization_options={"token": daemon.token}))
        with pytest.raises(JsonRpcException, match="not a workspace folder the client opened"):
            await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="codegen.applyDiff", arguments=[{"diff": PLANT_DIFF, "root": str(tmp_path)}]))
        assert not (tmp_path / "pwned.txt").exists()
    finally:
        await daemon.finish(client)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com"])
def test_a_host_other_machines_can_reach_needs_allow_remote(host):
    done = subprocess.run([sys.executable, "-m", "codegen_server.server", "--tcp", f"{host}:0"],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "--allow-remote" in done.stderr and "not a loopback address" in done.stderr
    assert "listening" not in done.stderr


def test_allow_remote_listens_where_it_is_told_and_still_wants_the_token(tmp_path):
    daemon = TcpDaemon("--tcp", "0.0.0.0:0", "--allow-remote")
    try:
        assert b"unauthenticated" in daemon.exchange(lsp_frame(initialize(tmp_path)))
    finally:
        daemon.stop()
    assert not daemon.token_file.exists()  # removed when the daemon is terminated too


def test_help_says_where_the_token_is_and_what_allow_remote_risks():
    done = subprocess.run([sys.executable, "-m", "codegen_server.server", "--help"], capture_output=True, text=True,
                          timeout=60)
    text = " ".join(done.stdout.split())
    assert "tcp-PORT.token" in text and "initializationOptions" in text and '{"token"' in text
    assert "--allow-remote" in text and "Risky" in text


async def test_the_token_never_reaches_the_log(tmp_path, tcp_daemon):
    """At DEBUG pygls logs every message: the initialize that carried the token among them."""
    log_file = tmp_path / "daemon.log"
    daemon = tcp_daemon("--log-level", "DEBUG", "--log-file", str(log_file))
    client = await daemon.client(tmp_path)
    await daemon.finish(client)
    daemon.process.wait(timeout=20)
    log = log_file.read_text()
    assert "initializationOptions" in log or "initialization_options" in log
    assert daemon.token not in log
