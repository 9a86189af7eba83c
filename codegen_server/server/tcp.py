"""`codegen-server --tcp`: who may talk to the daemon over a socket.

Anything on the machine can connect to a TCP port, and any web page the user visits can make
the browser send an HTTP POST to one; a body that looks like LSP would otherwise be served.
So, before anything is served:

- the daemon listens on loopback unless told otherwise (``is_loopback``);
- each start makes a new token, written 0600 in the user's state folder (``TokenFile``), that
  the client sends in its `initialize`: ``initializationOptions: {"token": "..."}``;
- the first message of a connection must be that `initialize`, framed exactly as LSP frames it
  (``first_message``): a connection that starts with anything else (an HTTP request line, other
  headers) is closed unanswered; one whose `initialize` lacks the token gets an error, then closed.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..trust.key import state_home
from .framing import MAX_MESSAGE_ENV

if TYPE_CHECKING:
    from .transport import ChunkReader

#: A connection that has not sent its whole first message by then is closed.
AUTH_SECONDS = 30.0
#: A first message (an `initialize`, with the client's capabilities) larger than this is not one,
#: whatever --max-message-mb allows later messages: nobody unauthenticated makes the daemon hold more.
MAX_FIRST_MESSAGE = 4 * 1024 * 1024
_MAX_HEADER = 8192
_HEADER_NAMES = (b"content-length", b"content-type")
_HEADER_LINE = re.compile(rb"^content-(?:length|type)[ \t]*:[^\r\n]*$", re.IGNORECASE)
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d{1,10})[ \t]*$", re.IGNORECASE)
TOKEN_OPTION = "token"
#: The JSON-RPC error a connection without the token gets before it is closed.
UNAUTHENTICATED = -32600
INVALID_REQUEST = -32600


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_path(port: int) -> Path:
    """Where the token of the daemon listening on ``port`` is kept."""
    return state_home() / f"tcp-{port}.token"


class TokenFile:
    """A fresh token in a file only this user can read, removed by ``remove``."""

    def __init__(self, port: int) -> None:
        self.token = secrets.token_urlsafe(32)
        self.path = token_path(port)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written beside its name and renamed over it: a stale file of a daemon that was killed is replaced,
        # and a reader never sees half a token.
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, self.token.encode("ascii") + b"\n")
        finally:
            os.close(fd)
        os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class FirstMessage:
    """What the first bytes of a connection were."""

    #: The parsed first message when it was a well-framed JSON body; None: close without a word.
    message: Any = None
    #: Whatever came after it, to be read as the next messages.
    rest: bytes = b""
    #: The Content-Length of a first message over the size limit (0 otherwise); it was not read.
    too_large: int = 0
    #: The limit it was over.
    limit: int = 0


async def first_message(read: ChunkReader, timeout: float = AUTH_SECONDS,
                        max_message: int = MAX_FIRST_MESSAGE) -> FirstMessage:
    """Read one strictly framed LSP message: only `Content-Length`/`Content-Type` headers, from byte one.

    Returns an empty ``FirstMessage`` as soon as the bytes cannot be one (an HTTP request line, any
    other header), when the input ends or stalls past ``timeout``, or when the body is not JSON.
    A body longer than ``max_message`` (the daemon's --max-message-mb) or MAX_FIRST_MESSAGE, the
    smaller, is not read: the result has ``too_large`` set.
    """
    limit = min(max_message, MAX_FIRST_MESSAGE)
    data = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        end = data.find(b"\r\n\r\n")
        if not _may_be_header(bytes(data if end < 0 else data[:end + 2]), complete=end >= 0):
            return FirstMessage()
        if end >= 0:
            length = _content_length(bytes(data[:end]))
            if length is None:
                return FirstMessage()
            if length > limit:
                return FirstMessage(too_large=length, limit=limit)
            if len(data) >= end + 4 + length:
                body = bytes(data[end + 4:end + 4 + length])
                try:
                    return FirstMessage(json.loads(body), bytes(data[end + 4 + length:]))
                except (ValueError, RecursionError):
                    return FirstMessage()
        elif len(data) > _MAX_HEADER:
            return FirstMessage()
        try:
            chunk = await read(max(0.0, deadline - time.monotonic()))
        except (TimeoutError, OSError):  # asyncio's TimeoutError is the built-in one
            return FirstMessage()
        if not chunk:
            return FirstMessage()
        data += chunk


def _may_be_header(data: bytes, complete: bool) -> bool:
    """Whether ``data`` is a header block of LSP's own headers only, or (not ``complete``) the start of one."""
    *lines, last = data.split(b"\r\n")
    if not all(_HEADER_LINE.match(line) for line in lines):
        return False
    if complete:
        return not last
    # The line still arriving: the start of a header name, or a header line so far.
    return any(name.startswith(last.lower()) for name in _HEADER_NAMES) or bool(_HEADER_LINE.match(last))


def _content_length(header: bytes) -> int | None:
    lengths = [int(m.group(1)) for line in header.split(b"\r\n") if (m := _CONTENT_LENGTH.match(line))]
    return lengths[0] if len(lengths) == 1 else None


def authenticate(message: Any, token: str) -> tuple[bool, Any]:
    """Whether ``message`` is an `initialize` carrying ``token``, and the id to answer a refusal with.

    On success the token is taken out of the message's `initializationOptions`: nothing after
    this (settings, logs) ever sees it.
    """
    if not isinstance(message, dict):
        return False, None
    msg_id = message.get("id")
    if isinstance(msg_id, bool) or not isinstance(msg_id, (int, str)):
        msg_id = None
    params = message.get("params")
    options = params.get("initializationOptions") if isinstance(params, dict) else None
    given = options.get(TOKEN_OPTION) if isinstance(options, dict) else None
    if message.get("method") != "initialize" or msg_id is None or not isinstance(given, str):
        return False, msg_id
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), token.encode("ascii")):
        return False, msg_id
    del options[TOKEN_OPTION]
    return True, msg_id


def too_large(first: FirstMessage) -> bytes:
    """The framed error a first message over the size limit gets (it was not read, so it has no id)."""
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {
        "code": INVALID_REQUEST, "data": {"kind": "message_too_large", "size": first.too_large},
        "message": (f"message not read: a first message of {first.too_large} bytes, over the limit of "
                    f"{first.limit} bytes (--max-message-mb, {MAX_MESSAGE_ENV})")}}).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def refusal(msg_id: Any, path: Path) -> bytes:
    """The framed error a connection without the token gets."""
    body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": {
        "code": UNAUTHENTICATED, "data": {"kind": "unauthenticated"},
        "message": ("codegen-server over TCP serves only a client that sends its token: the first message must "
                    f"be `initialize` with initializationOptions.token set to the contents of {path}")}}).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
