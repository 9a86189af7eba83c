"""codegen-server as a subprocess spoken to in raw bytes: for tests of framing and start-up."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

#: Seconds a test waits for one answer; the daemon answers in well under one.
ANSWER_WITHIN = 20


def frame(message: dict | str, extra_length: int = 0) -> bytes:
    body = (message if isinstance(message, str) else json.dumps(message)).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body) + extra_length, body)


def request(msg_id: int, method: str, params: object = None, *, with_params: bool = True) -> dict:
    message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if with_params:
        message["params"] = params
    return message


class RawDaemon:
    """codegen-server as a subprocess, spoken to in bytes; answers are parsed as a client would."""

    def __init__(self, root: Path, *options: str) -> None:
        """``options`` are the daemon's command-line options (default: ``--log-level INFO``)."""
        env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY") and not k.startswith("OPENAI_")}
        self.process = subprocess.Popen([sys.executable, "-m", "codegen_server.server", *(options or ("--log-level", "INFO"))],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=env, cwd=root)
        self.root = root
        self.messages: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.process.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.messages.put(json.loads(out.read(length)))

    def send(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def answers(self, ids: set, timeout: float = ANSWER_WITHIN) -> dict:
        """Wait for the responses to ``ids`` (server-to-client requests and notifications are skipped)."""
        got: dict = {}
        deadline = time.monotonic() + timeout
        while set(got) != ids:
            try:
                message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no answer to {sorted(ids - set(got), key=str)} (got {got})") from None
            if "method" not in message and message.get("id", "none") in ids:
                got[message["id"]] = message
        return got

    def notification(self, method: str, timeout: float = ANSWER_WITHIN) -> dict:
        """Wait for the next `method` notification; responses and other messages before it are put back."""
        skipped, deadline = [], time.monotonic() + timeout
        try:
            while True:
                try:
                    message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
                except queue.Empty:
                    raise AssertionError(f"no {method} notification (got {skipped})") from None
                if message.get("method") == method and "id" not in message:
                    return message
                skipped.append(message)
        finally:
            for message in skipped:
                self.messages.put(message)

    def initialize(self) -> None:
        self.send(frame(request(0, "initialize", {"processId": None, "rootUri": self.root.as_uri(),
                                                   "capabilities": {}})))
        self.answers({0})
        self.send(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))

    def context_request(self, msg_id: int) -> bytes:
        return frame(request(msg_id, "workspace/executeCommand",
                             {"command": "codegen.context", "arguments": [{"task": "anything", "budget": 200}]}))

    def finish(self) -> tuple[int, str]:
        self.send(frame(request(999, "shutdown", None, with_params=False)))
        assert self.answers({999})[999]["result"] is None
        self.send(frame({"jsonrpc": "2.0", "method": "exit"}))
        code = self.process.wait(timeout=ANSWER_WITHIN)
        return code, self.process.stderr.read().decode()
