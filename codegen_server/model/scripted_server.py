"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions wire format.

It answers from a script — a list of steps served in order, or a function of the
request — and can misbehave on purpose: HTTP errors (429 with Retry-After, 500),
slow answers, and streams that drop mid-answer. It can also behave like the real
servers that differ from OpenAI's: answers cut off at the output limit
(``finish_reason: "length"``), no usage, reasoning deltas, ``content: null``
deltas, a role-only first chunk, no ``[DONE]``, an error object inside an
HTTP 200 stream, a 200 stream with no event at all, and an answer that never ends. `codegen replay`
serves a recorded run through it; the test suite uses it as the model.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Sequence


@dataclass
class ScriptStep:
    """One scripted answer."""

    content: str = ""
    status: int = 200
    error_message: str = "scripted error"
    retry_after: float | None = None
    #: Seconds to wait before sending anything (exercises client timeouts).
    delay: float = 0.0
    #: Seconds between streamed chunks (exercises cancellation mid-stream).
    chunk_delay: float = 0.0
    #: Close the connection after streaming this many characters (a dropped stream).
    drop_after: int | None = None
    chunk_size: int = 16
    #: The finish reason sent at the end: "length" is an answer cut off at the output limit.
    finish_reason: str = "stop"
    #: Send a usage chunk when the request asks for one (llama-cpp-python, for one, never does).
    usage: bool = True
    #: Thinking streamed before the answer, in the delta field named by ``reasoning_field``.
    reasoning: str = ""
    reasoning_field: str = "reasoning_content"
    #: Interleave deltas whose content is null (as some servers do around role and tool deltas).
    null_content: bool = False
    #: The first chunk carries only the role, no content key at all.
    role_only_first: bool = False
    #: End the stream with "data: [DONE]" (some servers just close it).
    send_done: bool = True
    #: After streaming this many characters, send this error object in the 200 stream and end it.
    stream_error: dict | None = None
    stream_error_after: int = 0
    #: Answer 200 and end the stream at once with no event (llama-cpp-python on a prompt over its context).
    empty_stream: bool = False
    #: Stream ``content`` over and over until the client hangs up (a runaway model; needs content).
    endless: bool = False


Responder = Callable[[dict], ScriptStep]


class ScriptedModelServer:
    """Serve scripted chat completions on 127.0.0.1; records every request body it gets."""

    def __init__(self, script: Sequence[ScriptStep] | Responder, host: str = "127.0.0.1", port: int = 0) -> None:
        self._responder = script if callable(script) else _in_order(list(script))
        self.requests: list[dict] = []
        #: Monotonic times at which a client hung up mid-stream (a cancelled request).
        self.hangups: list[float] = []
        #: Monotonic times at which a streamed answer was sent to its end (its last chunk written).
        self.finished: list[float] = []
        #: The most chat requests that were being answered at the same time.
        self.most_at_once = 0
        self._answering = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "ScriptedModelServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-model", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "ScriptedModelServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def _next_step(self, body: dict) -> ScriptStep:
        with self._lock:
            self.requests.append(body)
            return self._responder(body)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send_json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                else:
                    self._send_json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._send_json(400, {"error": {"message": "request body is not JSON"}})
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                with server._lock:
                    server._answering += 1
                    server.most_at_once = max(server.most_at_once, server._answering)
                try:
                    self._answer(server._next_step(body), body)
                finally:
                    with server._lock:
                        server._answering -= 1

            def _answer(self, step: ScriptStep, body: dict) -> None:
                if step.delay:
                    time.sleep(step.delay)
                if step.status != 200:
                    headers = {"Retry-After": f"{step.retry_after:g}"} if step.retry_after is not None else {}
                    self._send_json(step.status, {"error": {"message": step.error_message,
                                                            "type": "scripted"}}, headers)
                    return
                model = body.get("model", "scripted")
                if body.get("stream"):
                    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                    self._stream(step, model, _prompt_tokens(body), include_usage)
                else:
                    self._send_json(200, _completion(step, model, _prompt_tokens(body)))

            def _send_json(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, step: ScriptStep, model: str, prompt_tokens: int, include_usage: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                ident = f"chatcmpl-{uuid.uuid4().hex[:12]}"
                text = step.content
                limit = len(text) if step.drop_after is None else min(step.drop_after, len(text))
                if step.stream_error is not None:
                    limit = min(limit, step.stream_error_after)
                try:
                    if step.empty_stream:
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    first = {"role": "assistant"} if step.role_only_first else {"role": "assistant", "content": ""}
                    self._event(_chunk(ident, model, first))
                    for start in range(0, len(step.reasoning), step.chunk_size):
                        piece = step.reasoning[start:start + step.chunk_size]
                        self._event(_chunk(ident, model, {"content": None, step.reasoning_field: piece}))
                    starts = range(0, limit, step.chunk_size)
                    for start in itertools.cycle(starts) if step.endless else starts:
                        if step.chunk_delay:
                            time.sleep(step.chunk_delay)
                        if step.null_content:
                            self._event(_chunk(ident, model, {"content": None}))
                        piece = text[start:min(start + step.chunk_size, limit)]
                        self._event(_chunk(ident, model, {"content": piece}))
                    if step.drop_after is not None:
                        # Cut the connection without the terminating chunk: a real protocol error.
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    if step.stream_error is not None:
                        self._event({"error": step.stream_error})
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    self._event(_chunk(ident, model, {}, finish_reason=step.finish_reason))
                    server.finished.append(time.monotonic())
                    if include_usage and step.usage:
                        completion_tokens = _count_tokens(step.reasoning + text)
                        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                 "total_tokens": prompt_tokens + completion_tokens}
                        self._event({"id": ident, "object": "chat.completion.chunk", "created": int(time.time()),
                                     "model": model, "choices": [], "usage": usage})
                    if step.send_done:
                        self._raw(b"data: [DONE]\n\n")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    # The client went away (cancelled): note when, and stop.
                    server.hangups.append(time.monotonic())
                    self.close_connection = True

            def _event(self, payload: dict) -> None:
                self._raw(b"data: " + json.dumps(payload).encode() + b"\n\n")

            def _raw(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        return Handler


def _in_order(steps: list[ScriptStep]) -> Responder:
    remaining = list(steps)

    def respond(body: dict) -> ScriptStep:
        if not remaining:
            return ScriptStep(status=400, error_message="the script has no answer left for this request")
        return remaining.pop(0)

    return respond


def _count_tokens(text: str) -> int:
    # The scripted server only needs plausible usage figures: about 4 characters a token.
    return max(1, len(text) // 4) if text else 0


def _prompt_tokens(body: dict) -> int:
    return sum(_count_tokens(str(m.get("content", ""))) for m in body.get("messages", []))


def _chunk(ident: str, model: str, delta: dict, finish_reason: str | None = None) -> dict:
    return {"id": ident, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


def _completion(step: ScriptStep, model: str, prompt_tokens: int) -> dict:
    text = step.content
    answer = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
              "model": model,
              "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                           "finish_reason": step.finish_reason}]}
    if step.usage:
        answer["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": _count_tokens(text),
                           "total_tokens": prompt_tokens + _count_tokens(text)}
    return answer
