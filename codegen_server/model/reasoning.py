"""Keep a reasoning model's thinking out of its answer.

Reasoning models stream their thinking either in a separate delta field
(``reasoning_content`` from DeepSeek/vLLM/llama.cpp, ``reasoning`` from Ollama and
OpenRouter) or inline, as a ``<think>…</think>`` block at the start of the content
(Qwen3, DeepSeek-R1 distills served raw). Neither is part of the answer: the
edits parser must never see it, but the run records it.
"""

from __future__ import annotations

from typing import Any

_OPEN = "<think>"
_CLOSE = "</think>"
#: Delta fields that carry thinking, by server family.
REASONING_FIELDS = ("reasoning_content", "reasoning")


def reasoning_delta(delta: Any) -> str:
    """The thinking text a streamed delta carries in a side field ("" if none)."""
    extra = getattr(delta, "model_extra", None) or {}
    for name in REASONING_FIELDS:
        value = extra.get(name, getattr(delta, name, None))
        if isinstance(value, str) and value:
            return value
    return ""


class ThinkSplitter:
    """Splits streamed content into (answer, thinking) as it arrives.

    Only a ``<think>`` block that opens the content counts (after leading blank space):
    a ``<think>`` later in an answer is the answer's own text (a file may hold one).
    Text that could still become ``<think>`` or ``</think>`` is held back until it is
    decided, so no fragment of a tag ever reaches the answer.
    """

    def __init__(self) -> None:
        self._state = "start"  # start -> think -> after-think -> answer, or start -> answer
        self._held = ""

    def feed(self, piece: str) -> tuple[str, str]:
        """Take the next streamed fragment; return the (answer, thinking) text now decided."""
        if self._state == "answer":
            return piece, ""
        if self._state == "after-think":  # the blank lines between the thinking and the answer
            piece = piece.lstrip()
            if piece:
                self._state = "answer"
            return piece, ""
        self._held += piece
        answer = thinking = ""
        if self._state == "start":
            stripped = self._held.lstrip()
            if stripped.startswith(_OPEN):
                self._state, self._held = "think", stripped[len(_OPEN):]
            elif _OPEN.startswith(stripped):
                return "", ""  # blank space or a partial "<think": undecided yet
            else:
                self._state, answer, self._held = "answer", self._held, ""
                return answer, ""
        end = self._held.find(_CLOSE)
        if end >= 0:
            thinking, rest = self._held[:end], self._held[end + len(_CLOSE):]
            self._state, self._held = "after-think", ""
            answer, _ = self.feed(rest)
            return answer, thinking
        # Hold back a tail that may be the start of "</think>".
        keep = _partial_suffix(self._held, _CLOSE)
        thinking, self._held = self._held[:len(self._held) - keep], self._held[len(self._held) - keep:]
        return "", thinking

    def finish(self) -> tuple[str, str]:
        """The stream ended: whatever was held back is (answer, thinking)."""
        held, self._held = self._held, ""
        if self._state == "think":  # a think block never closed: all of it was thinking
            return "", held
        return held, ""


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
