"""LSP base-protocol framing that survives bad input: `Content-Length` headers and bodies.

pygls 2.1's reader trusts every `Content-Length`: one that is too long swallows the
next messages' headers and one that is too short leaves the rest of the body to be
read as headers, so the daemon stays alive but answers nothing until a stray blank
line happens to realign it. ``FrameBuffer`` instead holds what arrived, cuts whole
messages out of it, and when a frame is wrong it resynchronises on the next header
and says what it dropped.

Reading is linear in the message size: a body is parsed once, when its last byte is
there; until then only the newly arrived bytes are searched for a next header (which
a valid JSON body cannot hold), the one sign worth parsing early for that its
Content-Length was too long. A body over the size limit is skipped as it arrives,
never held whole.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

#: Where a header block may start: after junk we look for the next of these.
_HEADER_START = re.compile(rb"content-(?:length|type)\s*:", re.IGNORECASE)
_CONTENT_LENGTH = re.compile(rb"^content-length\s*:\s*(\d+)\s*$", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*\s*:.*$")
#: How far past a body's end a header that began inside it can run: "content-length:" and a space.
_HEADER_LOOKAHEAD = 16
_HEADER_NAMES = (b"content-length", b"content-type")
#: A header block longer than this is not one.
_MAX_HEADER = 8192
#: A Content-Length header line. Inside a JSON body it cannot occur (a raw CR is not allowed in a
#: string, a bare word not outside one), so finding one there means the body's length is wrong.
_HEADER_IN_BODY = re.compile(rb"content-length[ \t]{0,8}:[ \t]{0,8}\d{1,15}[ \t]{0,8}\r\n", re.IGNORECASE)
#: The longest header line ``_HEADER_IN_BODY`` matches.
_HEADER_LINE_MAX = 64
#: Of a skipped message this much of the start is kept: the "id" and "method" a client writes first.
_SKIPPED_HEAD = 65536

DEFAULT_MAX_MESSAGE_MB = 64
MAX_MESSAGE_ENV = "CODEGEN_MAX_MESSAGE_MB"


def max_message_bytes(megabytes: float | None = None, env: dict[str, str] | None = None) -> int:
    """The size limit of one message: ``megabytes`` (the flag), else CODEGEN_MAX_MESSAGE_MB, else 64 MB.

    An environment value that is not a positive number is ignored (with the default), not fatal:
    the daemon must start.
    """
    if megabytes is None:
        raw = (os.environ if env is None else env).get(MAX_MESSAGE_ENV, "").strip()
        try:
            megabytes = float(raw) if raw else DEFAULT_MAX_MESSAGE_MB
        except ValueError:
            megabytes = DEFAULT_MAX_MESSAGE_MB
        if not 0 < megabytes < float("inf"):
            megabytes = DEFAULT_MAX_MESSAGE_MB
    return int(megabytes * 1024 * 1024)


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
    #: The size of a message skipped for being over the limit (0 otherwise); ``message`` then holds
    #: what its start told of it ("id", "method"), ``dropped`` nothing (its bytes were not kept).
    too_large: int = 0


@dataclass
class _Skip:
    """A message over the size limit, being skipped as its bytes arrive."""

    length: int
    remaining: int
    head: bytearray = field(default_factory=bytearray)
    #: Every byte skipped so far is in ``head``: a wrong Content-Length can still be undone.
    whole: bool = True

    def take(self, chunk: bytes | bytearray) -> int:
        """Skip the part of ``chunk`` that belongs to the message; how many bytes that was."""
        count = min(self.remaining, len(chunk))
        room = _SKIPPED_HEAD - len(self.head)
        if room > 0:
            self.head += chunk[:min(count, room)]
        self.whole = self.whole and count <= room
        self.remaining -= count
        return count


def _json(data: bytes) -> tuple[bool, object]:
    try:
        return True, json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; `[[[[...` nested past the stack
        return False, None


class FrameBuffer:
    """Bytes in, frames out; never blocks and never loses a well-framed message."""

    def __init__(self, max_message: int | None = None) -> None:
        self._data = bytearray()
        self._max = max_message_bytes() if max_message is None else max_message
        #: The body awaited: where it starts in ``_data`` and its Content-Length.
        self._awaited: tuple[int, int] | None = None
        #: Where the search for a header inside the awaited body goes on.
        self._searched = 0
        self._skip: _Skip | None = None

    def feed(self, chunk: bytes) -> None:
        if self._skip is not None and self._skip.remaining:
            chunk = chunk[self._skip.take(chunk):]
        self._data += chunk

    @property
    def pending(self) -> int:
        return len(self._data) + (1 if self._skip is not None and self._skip.remaining else 0)

    @property
    def skipping(self) -> bool:
        """A message over the size limit is being skipped."""
        return self._skip is not None

    def next_frame(self, stalled: bool = False) -> Frame | None:
        """The next frame, or None until more bytes arrive.

        ``stalled`` says no bytes came for a while: a body shorter than its
        `Content-Length` that is already a whole JSON message is then taken as
        wrongly framed instead of waited on forever.
        """
        frame = self._skipped(stalled) if self._skip is not None else self._next_frame(stalled)
        if frame is not None:
            self._awaited = None
        return frame

    def _skipped(self, stalled: bool) -> Frame | None:
        skip = self._skip
        assert skip is not None
        if skip.remaining and stalled and skip.whole and _json_prefix(bytes(skip.head))[1] is not None:
            # Nothing more is coming, all of it is still here and it is a whole message: a wrong
            # Content-Length, not a large message. Read it again as an ordinary (misframed) frame.
            self._skip = None
            self._data[:0] = skip.head
            self._awaited = (0, skip.length)
            self._searched = 0
            return self._next_frame(stalled)
        if skip.remaining:
            return None
        self._skip = None
        return self._too_large(skip)

    def _too_large(self, skip: _Skip) -> Frame:
        problem = (f"a message of {skip.length} bytes, over the limit of {self._max} bytes "
                   f"(--max-message-mb, {MAX_MESSAGE_ENV})")
        return Frame(problem=problem, message=_leading_members(bytes(skip.head)), too_large=skip.length)

    def _next_frame(self, stalled: bool) -> Frame | None:
        if self._awaited is None:
            frame = self._header()
            if frame is not None or self._awaited is None:
                return frame
        body_start, length = self._awaited
        data = self._data
        if len(data) >= body_start + length:
            with memoryview(data) as view:  # one copy of the body, not two
                available = bytes(view[body_start:body_start + length])
            ok, message = _json(available)
            if ok:
                del data[:body_start + length]
                return Frame(body=available, message=message)
            return self._misframed(body_start, available, length, complete=True)
        if not stalled:
            # Parse early only when a header turned up inside the body; searched in the new bytes alone.
            found = _header_line_end(data, max(self._searched, body_start), body_start)
            self._searched = found if found is not None else max(self._searched, len(data) - 1)
            if found is None:
                return None
        return self._misframed(body_start, bytes(data[body_start:]), length, complete=False, stalled=stalled)

    def _header(self) -> Frame | None:
        """Read the header block at the start; sets ``_awaited`` when there is one, or starts a skip."""
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
        if length > self._max:
            self._skip = _Skip(length, length)
            skipped = self._skip.take(data[body_start:])
            del data[:body_start + skipped]
            return self._skipped(stalled=False)
        self._awaited = (body_start, length)
        self._searched = body_start
        return None

    # -- helpers --
    def _take(self, count: int) -> bytes:
        taken = bytes(self._data[:count])
        del self._data[:count]
        return taken

    def drain(self) -> Frame | None:
        """At the end of input: whatever is left, dropped (a message cut short, or junk)."""
        if self._skip is not None:
            skip, self._skip = self._skip, None
            return self._too_large(skip)
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


def _header_line_end(data: bytearray, start: int, floor: int) -> int | None:
    """Where the first Content-Length line ending after ``start`` ends (none before ``floor``), or None.

    Line ends are looked for first (a byte search, far faster than the regular expression over
    every byte), and only the line before each is matched.
    """
    while (crlf := data.find(b"\r\n", start)) >= 0:
        match = _HEADER_IN_BODY.search(data, max(floor, crlf - _HEADER_LINE_MAX), crlf + 2)
        if match is not None:
            return match.end()
        start = crlf + 2
    return None


def _leading_members(head: bytes) -> dict:
    """The members a JSON object's start gives whole, up to the first object or array value.

    Clients write "jsonrpc", "id" and "method" before "params": enough to answer a request
    whose body was not read.
    """
    text = head.decode("utf-8", "ignore")  # the cut may split a character
    decoder = json.JSONDecoder()
    members: dict = {}
    position = _after_blanks(text, 0)
    if text[position:position + 1] != "{":
        return members
    position += 1
    while True:
        try:
            key, position = decoder.raw_decode(text, _after_blanks(text, position))
            position = _after_blanks(text, position)
            if not isinstance(key, str) or text[position:position + 1] != ":":
                return members
            position = _after_blanks(text, position + 1)
            if text[position:position + 1] in ("{", "[", ""):
                return members
            members[key], position = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            return members
        position = _after_blanks(text, position)
        if text[position:position + 1] != ",":
            return members
        position += 1


def _after_blanks(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position
