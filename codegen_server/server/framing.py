"""LSP base-protocol framing that survives bad input: `Content-Length` headers and bodies.

pygls 2.1's reader trusts every `Content-Length`: one that is too long swallows the
next messages' headers and one that is too short leaves the rest of the body to be
read as headers, so the daemon stays alive but answers nothing until a stray blank
line happens to realign it. ``FrameBuffer`` instead holds what arrived, cuts whole
messages out of it, and when a frame is wrong it resynchronises on the next header
and says what it dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

#: Where a header block may start: after junk we look for the next of these.
_HEADER_START = re.compile(rb"content-(?:length|type)\s*:", re.IGNORECASE)
_CONTENT_LENGTH = re.compile(rb"^content-length\s*:\s*(\d+)\s*$", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*\s*:.*$")
#: How far past a body's end a header that began inside it can run: "content-length:" and a space.
_HEADER_LOOKAHEAD = 16
_HEADER_NAMES = (b"content-length", b"content-type")
#: A header block longer than this is not one.
_MAX_HEADER = 8192


@dataclass
class Frame:
    """One result of reading: a message body, or something dropped and why.

    ``body`` is set for a well-framed message, and ``message`` is its parsed JSON.
    Otherwise ``problem`` says what was wrong, ``dropped`` holds the bytes thrown
    away, and ``message`` holds what could still be read of a wrongly framed message
    (so a request can get its error).
    """

    body: bytes | None = None
    problem: str = ""
    dropped: bytes = b""
    message: object = None
    #: The frame held a body that is not JSON: it deserves a JSON-RPC parse error.
    not_json: bool = False


def _json(data: bytes) -> tuple[bool, object]:
    try:
        return True, json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; `[[[[...` nested past the stack
        return False, None


class FrameBuffer:
    """Bytes in, frames out; never blocks and never loses a well-framed message."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, chunk: bytes) -> None:
        self._data += chunk

    @property
    def pending(self) -> int:
        return len(self._data)

    def next_frame(self, stalled: bool = False) -> Frame | None:
        """The next frame, or None until more bytes arrive.

        ``stalled`` says no bytes came for a while: a body shorter than its
        `Content-Length` that is already a whole JSON message is then taken as
        wrongly framed instead of waited on forever.
        """
        data = self._data
        match = _HEADER_START.search(data)
        if match is None:
            # No header yet: all but a tail that could begin a "Content-Length:" is junk.
            keep = 15
            return self._drop(len(data) - keep, "bytes that are not an LSP message") if len(data) > keep else None
        if match.start():
            return self._drop(match.start(), "bytes that are not an LSP message")
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > _MAX_HEADER:
                return self._drop_to_next_header(1, "a header block without an end")
            return None
        length = self._content_length(bytes(data[:end]))
        if length is None:
            return self._drop_to_next_header(end + 4, "a header without a valid Content-Length")
        body_start = end + 4
        available = bytes(data[body_start:body_start + length])
        if len(available) == length:
            ok, message = _json(available)
            if ok:
                del data[:body_start + length]
                return Frame(body=available, message=message)
            return self._misframed(body_start, available, length, complete=True)
        return self._misframed(body_start, available, length, complete=False, stalled=stalled)

    # -- helpers --
    def _take(self, count: int) -> bytes:
        taken = bytes(self._data[:count])
        del self._data[:count]
        return taken

    def drain(self) -> Frame | None:
        """At the end of input: whatever is left, dropped (a message cut short, or junk)."""
        if not self._data:
            return None
        return self._drop(len(self._data), "an incomplete message at the end of input")

    def _drop(self, count: int, problem: str) -> Frame:
        dropped = self._take(count)
        if not dropped.strip():
            return Frame(dropped=dropped)  # blank lines between messages: nothing to report
        return Frame(problem=problem, dropped=dropped)

    def _drop_to_next_header(self, offset: int, problem: str) -> Frame:
        match = _HEADER_START.search(self._data, offset)
        return Frame(problem=problem, dropped=self._take(match.start() if match else len(self._data)))

    @staticmethod
    def _content_length(header: bytes) -> int | None:
        length = None
        for line in header.split(b"\r\n"):
            if not _HEADER_LINE.match(line):
                return None
            match = _CONTENT_LENGTH.match(line)
            if match:
                length = int(match.group(1))
        return length

    def _misframed(self, body_start: int, available: bytes, length: int, *, complete: bool,
                   stalled: bool = False) -> Frame | None:
        """A body that is not JSON as framed: a Content-Length too long, too short, or garbage."""
        value, end = _json_prefix(available)
        if end is not None and (end < len(available) or stalled):
            # A whole message and then more (the next header), or nothing more coming: too long.
            # Only the message is dropped; what follows it stays to be read as the next frame.
            problem = f"Content-Length {length} is longer than the message ({end} bytes)"
            return Frame(problem=problem, dropped=self._take(body_start + end), message=value)
        if not complete:
            return None
        # The next message's header may begin inside the wrong length and run past it: look a
        # header name's length further, and wait for those bytes when the tail could start one.
        window = bytes(self._data[body_start:body_start + length + _HEADER_LOOKAHEAD])
        match = _HEADER_START.search(window)
        if match is None and len(window) < length + _HEADER_LOOKAHEAD and not stalled \
                and _ends_like_a_header_name(available):
            return None
        cut = body_start + (match.start() if match and match.start() < length else length)
        return Frame(problem=f"a body of {length} bytes that is not JSON (a wrong Content-Length?)",
                     dropped=self._take(cut), not_json=True)


def _ends_like_a_header_name(data: bytes) -> bool:
    """Whether ``data`` ends with the first bytes of a header name, the rest yet to arrive."""
    tail = data[-len(_HEADER_NAMES[0]):].lower()
    return any(name.startswith(tail[i:]) for name in _HEADER_NAMES for i in range(len(tail)))


def _json_prefix(data: bytes) -> tuple[object, int | None]:
    """The JSON value ``data`` starts with and the byte offset after it (and its trailing blanks)."""
    text = data.decode("utf-8", "surrogateescape")
    start = len(text) - len(text.lstrip())
    try:
        value, end = json.JSONDecoder().raw_decode(text, start)
    except (ValueError, RecursionError):
        return None, None
    end += len(text[end:]) - len(text[end:].lstrip())
    return value, len(text[:end].encode("utf-8", "surrogateescape"))
