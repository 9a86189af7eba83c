"""Read LSP messages from stdin or a TCP connection and hand them to the protocol.

This replaces pygls's reader loop (see ``framing``) and checks each message's
JSON-RPC envelope before pygls sees it, so that every request gets an answer:
a malformed one gets the JSON-RPC error it deserves (`-32700` not JSON, `-32600`
not a request, `-32602` params that do not fit the method) with its id when it
has one, and whatever is dropped is logged once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest, JsonRpcParseError
from pygls.protocol import JsonRPCProtocol

from ..redaction import redact
from .framing import Frame, FrameBuffer

log = logging.getLogger(__name__)


class _QuietDeserializeErrors(logging.Filter):
    """pygls logs a traceback for every message it cannot structure; ``handle_json`` logs one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Unable to deserialize message")


logging.getLogger("pygls.protocol.json_rpc").addFilter(_QuietDeserializeErrors())

#: After this long without a byte, a body shorter than its Content-Length is looked at again.
STALL_SECONDS = 0.5
_CHUNK = 65536


@dataclass
class ReadSummary:
    """What one connection delivered: for the daemon's exit status and message."""

    messages: int = 0
    dropped_bytes: int = 0


#: Reads the next chunk; b"" at the end of input; raises TimeoutError after ``timeout`` seconds.
ChunkReader = Callable[[float | None], Awaitable[bytes]]


def stdin_chunks(fd: int, already_read: bytes = b"") -> ChunkReader:
    """Chunks from a file descriptor, read in a daemon thread, after ``already_read``.

    A daemon thread and ``os.read`` (no buffered reader's lock) let the process exit
    while the read is still blocked, which a thread pool's worker would not.
    """
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    if already_read:
        queue.put_nowait(already_read)
    loop = asyncio.get_running_loop()

    def pump() -> None:
        while True:
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError:
                chunk = b""
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
            if not chunk:
                return

    threading.Thread(target=pump, name="codegen-stdin", daemon=True).start()

    async def read(timeout: float | None) -> bytes:
        return await asyncio.wait_for(queue.get(), timeout)

    return read


def stream_chunks(reader: asyncio.StreamReader) -> ChunkReader:
    async def read(timeout: float | None) -> bytes:
        return await asyncio.wait_for(reader.read(_CHUNK), timeout)

    return read


def prefixed(first: bytes, read: ChunkReader) -> ChunkReader:
    """``first`` (bytes already read), then whatever ``read`` gives."""
    pending = [first] if first else []

    async def read_after(timeout: float | None) -> bytes:
        return pending.pop() if pending else await read(timeout)

    return read_after


async def read_messages(read: ChunkReader, protocol: JsonRPCProtocol, stop: asyncio.Event,
                        max_message: int | None = None) -> ReadSummary:
    """Deliver every message from ``read`` to ``protocol`` until the input ends or ``stop`` is set.

    A message over ``max_message`` bytes (default: ``framing.max_message_bytes()``) is skipped unread.
    """
    frames = FrameBuffer(max_message)
    summary = ReadSummary()
    stalled = False
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            frame = frames.next_frame(stalled)
            if frame is not None:
                deliver(protocol, frame, summary)
                continue
            reading = asyncio.ensure_future(read(STALL_SECONDS if frames.pending else None))
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                reading.cancel()
                break
            try:
                chunk = reading.result()
            except (TimeoutError, asyncio.TimeoutError):
                stalled = True
                continue
            if not chunk:
                break
            frames.feed(chunk)
            stalled = False
        leftover = frames.drain()
        if leftover is not None:
            deliver(protocol, leftover, summary)
    finally:
        stopping.cancel()
    return summary


def deliver(protocol: JsonRPCProtocol, frame: Frame, summary: ReadSummary) -> None:
    """Hand one frame to pygls, or answer and log what was wrong with it."""
    if frame.body is not None:
        summary.messages += 1
        handle_json(protocol, frame.message)
        return
    if frame.too_large:
        _refuse_too_large(protocol, frame, summary)
        return
    summary.dropped_bytes += len(frame.dropped)
    if not frame.problem:
        return
    preview = redact(frame.dropped[:120].decode("utf-8", "replace"))
    log.warning("dropped %d bytes of input (%s): %r", len(frame.dropped), frame.problem, preview)
    request_id = _request_id(frame.message)
    if request_id is not None:
        summary.messages += 1
        _reply_error(protocol, request_id, JsonRpcInvalidRequest(
            f"message dropped: {frame.problem}; send it again with the right Content-Length"))
    elif frame.not_json:
        _reply_error(protocol, None, JsonRpcParseError(f"message dropped: {frame.problem}"))


def _refuse_too_large(protocol: JsonRPCProtocol, frame: Frame, summary: ReadSummary) -> None:
    """A request too large to read gets an error with its id; without one the client is told in a log message."""
    summary.dropped_bytes += frame.too_large
    method = frame.message.get("method") if isinstance(frame.message, dict) else None
    log.warning("skipped %s (%s)", f"a {method} message" if isinstance(method, str) else "a message", frame.problem)
    request_id = _request_id(frame.message)
    text = f"message not read: {frame.problem}"
    if request_id is not None:
        summary.messages += 1
        _reply_error(protocol, request_id, JsonRpcInvalidRequest(
            text, data={"kind": "message_too_large", "size": frame.too_large}))
    else:
        protocol._send_data({"jsonrpc": "2.0", "method": "window/logMessage",
                             "params": {"type": 1, "message": f"codegen: {text}"}})


def handle_json(protocol: JsonRPCProtocol, data: Any) -> None:
    """Check a parsed message's JSON-RPC envelope, then let pygls structure and handle it."""
    problem = _envelope_problem(data)
    if problem:
        log.warning("invalid JSON-RPC message (%s): %r", problem, redact(str(data)[:120]))
        if not isinstance(data, dict) or "method" in data:  # never answer what may be the client's response
            _reply_error(protocol, _request_id(data), JsonRpcInvalidRequest(problem))
        return
    try:
        message = _structure(protocol, data)
    except JsonRpcException:
        method = data.get("method")
        if "id" in data and method:
            log.warning("answered %s (id %r) with an invalid-params error: %r", method, data["id"],
                        redact(str(data.get("params"))[:120]))
            _reply_error(protocol, data["id"], JsonRpcInvalidParams(
                f"invalid params for {method}: they do not match what the LSP specification requires"))
        else:
            log.warning("dropped a message whose content does not fit %s", method or "a response")
        return
    try:
        protocol.handle_message(message)
    except Exception:  # pygls answers requests itself; this is a bug to log, not a reason to stop reading
        log.exception("could not handle a %s message", data.get("method", "response"))


def _structure(protocol: JsonRPCProtocol, data: dict) -> Any:
    """pygls's typed message for ``data``; `"params": null` read as no params, or as an empty object
    where the method's params are an object with nothing required (`initialized`)."""
    if "params" not in data or data["params"] is not None:
        return protocol.structure_message(data)
    without = {key: value for key, value in data.items() if key != "params"}
    try:
        return protocol.structure_message(without)
    except JsonRpcException:
        return protocol.structure_message({**without, "params": {}})


def _envelope_problem(data: Any) -> str:
    if isinstance(data, list):
        return "JSON-RPC batches are not used by LSP; send one message per frame"
    if not isinstance(data, dict):
        return "a JSON-RPC message is a JSON object"
    if data.get("jsonrpc") != "2.0":
        return 'a JSON-RPC message needs "jsonrpc": "2.0"'
    if "id" in data and not _valid_id(data["id"]):
        return "a request id is a number or a string"
    if "method" in data:
        if not isinstance(data["method"], str) or not data["method"]:
            return "`method` must be a non-empty string"
        if data.get("params") is not None and not isinstance(data["params"], (dict, list)):
            return "`params` must be an object or an array"
    elif "id" not in data:
        return "a message needs a `method` (request, notification) or an `id` (response)"
    return ""


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, (int, str)) and not isinstance(value, bool))


def _request_id(data: Any) -> Any:
    """The id to answer with: a request's id, else None."""
    if isinstance(data, dict) and "method" in data and _valid_id(data.get("id")):
        return data.get("id")
    return None


def _reply_error(protocol: JsonRPCProtocol, msg_id: Any, error: JsonRpcException) -> None:
    answered_early = getattr(protocol, "answered_early", None)
    if answered_early is not None and answered_early(msg_id, error=error.to_response_error()):
        return
    # Built by hand: pygls's converter leaves out an `"id": null`, which JSON-RPC requires here.
    body = {"code": error.code, "message": error.message}
    if error.data is not None:
        body["data"] = error.data
    protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "error": body})
