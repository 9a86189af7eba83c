"""Answer `initialize` before pygls and lsprotocol are loaded.

Loading lsprotocol's ~1,000 attrs classes takes about 0.3 s, and an editor waits for the
`initialize` answer before it shows the server as ready or sends the documents it has open.
The answer is known in advance: the capabilities our registered features give (checked in
as ``capabilities.json``), the position encoding chosen from the client's list as pygls
chooses it, and the server's name and version. So the daemon reads the first message with
the standard library only, answers it if it is a well-formed `initialize`, then loads the
server and hands it every byte it read: pygls handles that `initialize` as usual (workspace,
client capabilities, settings) and its own answer is compared with the early one, not sent.

Stdlib only: importing this module must stay cheap.
"""

from __future__ import annotations

import json
import os
import select
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .framing import FrameBuffer

CAPABILITIES_FILE = Path(__file__).with_name("capabilities.json")
SERVER_NAME = "codegen-server"
#: The encodings pygls supports, in pygls's order; utf-16 when the client names none of them.
SUPPORTED_ENCODINGS = ("utf-8", "utf-16", "utf-32")
DEFAULT_ENCODING = "utf-16"
#: textDocumentSync options pygls fills from the client's declaration (see ``initialize_result``).
WILL_SAVE_KEYS = ("willSave", "willSaveWaitUntil")
#: A first message cut short for this long is left to the daemon's reader (it resynchronises).
STALL_SECONDS = 0.5
_CHUNK = 65536


@dataclass
class EarlyStart:
    """What happened before the server was loaded: the bytes read, and the answer sent if any."""

    consumed: bytes = b""
    #: The id of the `initialize` request already answered, and the result it got.
    answered_id: int | str | None = None
    result: dict[str, Any] = field(default_factory=dict)


def initialize_result(params: dict[str, Any], capabilities: dict[str, Any]) -> dict[str, Any]:
    """The `initialize` result pygls would give for ``params`` with these server ``capabilities``."""
    client = params.get("capabilities") or {}
    encodings = (client.get("general") or {}).get("positionEncodings") or []
    encoding = next((e for e in encodings if e in SUPPORTED_ENCODINGS), DEFAULT_ENCODING)
    capabilities = json.loads(json.dumps(capabilities))  # a copy: the sync options vary per client
    sync = capabilities.get("textDocumentSync")
    if isinstance(sync, dict):
        # pygls offers will-save only to a client that declares it, and echoes a declared false.
        declared = ((client.get("textDocument") or {}).get("synchronization") or {})
        for key in WILL_SAVE_KEYS:
            if declared.get(key) is None:
                sync.pop(key, None)
            elif not declared[key]:
                sync[key] = False
    return {"capabilities": {"positionEncoding": encoding, **capabilities},
            "serverInfo": {"name": SERVER_NAME, "version": __version__}}


def is_plain_initialize(message: object) -> bool:
    """A well-formed `initialize` request whose params pygls will accept as they are.

    Anything unusual (odd types, a missing processId) goes to pygls, which answers errors.
    """
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or message.get("method") != "initialize":
        return False
    msg_id, params = message.get("id"), message.get("params")
    if isinstance(msg_id, bool) or not isinstance(msg_id, (int, str)) or not isinstance(params, dict):
        return False
    process_id = params.get("processId", "missing")
    if process_id is not None and (isinstance(process_id, bool) or not isinstance(process_id, int)):
        return False
    capabilities = params.get("capabilities")
    if not isinstance(capabilities, dict):
        return False
    general = capabilities.get("general", {})
    if not isinstance(general, dict):
        return False
    encodings = general.get("positionEncodings", [])
    if not isinstance(encodings, list) or not all(isinstance(e, str) for e in encodings):
        return False
    return all(params.get(key) is None or isinstance(params[key], str) for key in ("rootUri", "rootPath"))


def answer_initialize(fd_in: int, fd_out: int, max_message: int | None = None) -> EarlyStart:
    """Read the first message from ``fd_in``; answer it on ``fd_out`` if it is `initialize`.

    Returns every byte read, for the server to read again. Never raises on bad input: whatever
    it does not understand is left to the daemon's reader, which answers it properly.
    """
    read = bytearray()
    frames = FrameBuffer(max_message)
    while True:
        frame = frames.next_frame()
        if frame is not None:
            if frame.body is None and not frame.problem:
                continue  # blank lines before the first message
            break
        if frames.skipping:
            return EarlyStart(bytes(read))  # not `initialize`, and too large to hold: the reader skips it
        ready, _, _ = select.select([fd_in], [], [], STALL_SECONDS if frames.pending else None)
        if not ready:
            return EarlyStart(bytes(read))  # a message cut short: the reader's stall logic decides
        try:
            chunk = os.read(fd_in, _CHUNK)
        except OSError:
            chunk = b""
        if not chunk:
            return EarlyStart(bytes(read))
        read += chunk
        frames.feed(chunk)
    if frame.body is None or not is_plain_initialize(frame.message):
        return EarlyStart(bytes(read))
    try:
        capabilities = json.loads(CAPABILITIES_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return EarlyStart(bytes(read))  # an install without the file: pygls answers, only later
    message: dict[str, Any] = frame.message  # type: ignore[assignment]
    result = initialize_result(message["params"], capabilities)
    body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}, separators=(",", ":")).encode()
    try:
        _write_all(fd_out, b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    except OSError:
        return EarlyStart(bytes(read))  # no client to answer: the server finds that out itself
    return EarlyStart(bytes(read), message["id"], result)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
