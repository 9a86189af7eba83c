"""FrameBuffer: whole messages out of any chunking; after a wrong Content-Length, the next message still comes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from codegen_server.server.framing import FrameBuffer, max_message_bytes

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


def too_large_request(msg_id: int, size: int) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "method": "workspace/executeCommand",
            "params": {"command": "codegen.context", "arguments": [{"task": "x" * size}]}}


def read_limited(data: bytes, cuts: list[int], limit: int) -> list:
    buffer, frames = FrameBuffer(limit), []
    edges = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in zip(edges, edges[1:]):
        buffer.feed(data[start:end])
        while (frame := buffer.next_frame()) is not None:
            frames.append(frame)
    assert buffer.drain() is None
    return frames


@settings(max_examples=200, deadline=None)
@given(messages, messages, st.integers(min_value=0, max_value=3000), st.lists(st.integers(min_value=0), max_size=12))
def test_a_message_over_the_limit_is_skipped_with_its_id_and_the_next_ones_still_come(before, after, extra, cuts):
    limit = 1000
    big = too_large_request(7, limit + extra)
    data = b"".join(framed(m) for m in before) + framed(big) + b"".join(framed(m) for m in after)
    frames = read_limited(data, cuts, limit)
    assert [f.message for f in frames if f.body is not None] == before + after
    [skipped] = [f for f in frames if f.too_large]
    assert skipped.too_large == len(json.dumps(big).encode()) and skipped.body is None
    assert skipped.message == {"jsonrpc": "2.0", "id": 7, "method": "workspace/executeCommand"}
    assert frames.index(skipped) == len(before)  # in its place among the others


def test_a_skipped_message_is_never_held_whole():
    limit, chunk = 1000, 4096
    big = framed(too_large_request(1, 2_000_000))
    buffer, frames = FrameBuffer(limit), []
    for start in range(0, len(big), chunk):
        buffer.feed(big[start:start + chunk])
        frames += filter(None, [buffer.next_frame()])
        assert buffer.pending <= 1  # nothing of the body is kept ("1": a skip goes on)
    assert [f.too_large for f in frames] == [len(big) - big.index(b"\r\n\r\n") - 4]


def test_a_message_whose_start_names_no_method_is_skipped_without_an_id():
    frames = read_limited(framed({"params": {"text": "x" * 5000}, "id": 3, "method": "m"}), [17, 999], 1000)
    assert frames[0].too_large and frames[0].message == {}


def test_the_limit_comes_from_the_flag_then_the_environment_then_64_mb():
    assert max_message_bytes(2) == 2 * 1024 * 1024
    assert max_message_bytes(None, {"CODEGEN_MAX_MESSAGE_MB": "0.5"}) == 512 * 1024
    assert max_message_bytes(None, {}) == 64 * 1024 * 1024
    assert max_message_bytes(None, {"CODEGEN_MAX_MESSAGE_MB": "lots"}) == 64 * 1024 * 1024
    assert max_message_bytes(None, {"CODEGEN_MAX_MESSAGE_MB": "-1"}) == 64 * 1024 * 1024


def test_a_small_message_with_a_huge_content_length_is_answered_once_input_stalls():
    request = {"jsonrpc": "2.0", "id": 4, "method": "shutdown"}
    buffer = FrameBuffer(1000)
    buffer.feed(b"Content-Length: 999999999\r\n\r\n" + json.dumps(request).encode())
    assert buffer.next_frame() is None and buffer.skipping
    frame = buffer.next_frame(stalled=True)
    assert frame.message == request and "longer than the message" in frame.problem


def test_a_large_message_that_stalls_half_way_is_still_skipped_not_held():
    buffer = FrameBuffer(1000)
    body = json.dumps(too_large_request(2, 500_000)).encode()
    buffer.feed(b"Content-Length: %d\r\n\r\n" % len(body) + body[:30_000])
    assert buffer.next_frame() is None and buffer.next_frame(stalled=True) is None
    assert buffer.skipping and buffer.pending <= 1
    buffer.feed(body[30_000:] + framed({"id": 5}))
    frames = [buffer.next_frame(), buffer.next_frame()]
    assert frames[0].too_large == len(body) and frames[0].message["id"] == 2 and frames[1].message == {"id": 5}
