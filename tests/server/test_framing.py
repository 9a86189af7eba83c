"""FrameBuffer: whole messages out of any chunking; after a wrong Content-Length, the next message still comes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from codegen_server.server.framing import FrameBuffer

messages = st.lists(st.dictionaries(st.sampled_from(["id", "method", "text"]),
                                    st.one_of(st.integers(), st.text(max_size=40)), min_size=1), min_size=1,
                    max_size=6)


def framed(message: dict, extra: int = 0) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body) + extra, body)


def read_all(data: bytes, cuts: list[int]) -> tuple[list, list]:
    buffer, bodies, problems = FrameBuffer(), [], []
    edges = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in zip(edges, edges[1:]):
        buffer.feed(data[start:end])
        while (frame := buffer.next_frame()) is not None:
            (bodies if frame.body is not None else problems).append(frame.message if frame.body else frame)
    return bodies, problems


@settings(max_examples=200, deadline=None)
@given(messages, st.lists(st.integers(min_value=0), max_size=12))
def test_well_framed_messages_come_out_whole_however_the_bytes_arrive(batch, cuts):
    bodies, problems = read_all(b"".join(framed(m) for m in batch), cuts)
    assert bodies == batch and not [p for p in problems if p.problem]


@settings(max_examples=200, deadline=None)
@given(messages, messages, st.integers(min_value=-8, max_value=60).filter(lambda n: n != 0),
       st.lists(st.integers(min_value=0), max_size=12))
def test_after_a_wrong_content_length_the_following_messages_still_come(before, after, wrong_by, cuts):
    bad = {"id": 99, "method": "workspace/executeCommand", "params": {"command": "x" * 20}}
    data = b"".join(framed(m) for m in before) + framed(bad, wrong_by) + b"".join(framed(m) for m in after)
    bodies, problems = read_all(data, cuts)
    assert bodies[:len(before)] == before
    assert bodies[len(before):] == after  # nothing of the next messages is lost
    assert problems and all(p.problem for p in problems if p.dropped.strip())
    if wrong_by > 0:
        assert any(p.message == bad for p in problems)  # too long: the request is known, so it can be answered


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghij {}[]:,0123456789", min_size=1, max_size=40), messages,
       st.integers(min_value=1, max_value=60), st.lists(st.integers(min_value=0), max_size=12))
def test_a_body_that_is_not_json_and_too_long_a_length_still_lets_the_next_message_through(garbage, after, wrong_by,
                                                                                        cuts):
    body = b"~" + garbage.encode()  # never JSON
    rest = b"".join(framed(m) for m in after)
    wrong_by = min(wrong_by, len(framed(after[0])))  # a longer one waits for bytes that are not coming yet
    data = b"Content-Length: %d\r\n\r\n%s" % (len(body) + wrong_by, body) + rest
    bodies, problems = read_all(data, cuts)
    assert bodies == after  # the length ran into the next header: that message is not swallowed
    assert [p for p in problems if p.problem and "not JSON" in p.problem]
