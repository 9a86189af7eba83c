"""Token counting works offline with tiktoken's real encodings."""

from __future__ import annotations

import socket

import pytest

from codegen_server.context import tokens


def test_encodings_build_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    tokens.encoding.cache_clear()
    try:
        cl100k = tokens.encoding("cl100k_base")
        o200k = tokens.encoding("o200k_base")
    finally:
        tokens.encoding.cache_clear()
    # Known values for these public encodings.
    assert cl100k.encode("hello world") == [15339, 1917]
    assert o200k.encode("hello world") == [24912, 2375]
    assert cl100k.n_vocab == 100277


def test_count_and_truncate() -> None:
    text = "def handler(request):\n    return respond(request)\n" * 50
    total = tokens.count_tokens(text)
    assert total > 100
    assert tokens.count_tokens("<|endoftext|>") > 1  # special tokens count as their text
    cut = tokens.truncate_to_budget(text, 37)
    assert tokens.count_tokens(cut) <= 37 and text.startswith(cut) and cut.endswith("\n")
    assert tokens.truncate_to_budget(text, 0) == ""
    assert tokens.truncate_to_budget(text, total) == text


def test_unknown_encoding_is_a_clear_error() -> None:
    with pytest.raises(tokens.TokenizerUnavailable):
        tokens.encoding("no_such_encoding")
