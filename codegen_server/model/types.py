"""What a model call returns: the answer, its cost, and how it was obtained."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

Message = dict[str, str]
#: Called with each streamed text fragment (progress reporting).
TokenCallback = Callable[[str], None]
#: Called before each retry with the failure's kind ("rate-limited", "timeout", ...) and the seconds it waits.
RetryCallback = Callable[[str, float], None]


@dataclass
class Usage:
    """Tokens a call cost. ``estimated``: the server reported none, so they were counted locally."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens,
                     self.estimated or other.estimated)


@dataclass
class Continuation:
    """One request for the rest of an answer that was cut off at the output limit."""

    #: What this continuation added, as the model sent it (before stitching).
    text: str
    finish_reason: str | None
    usage: Usage
    attempts: int = 1
    reasoning: str = ""


@dataclass
class Completion:
    """One finished model answer (stitched from its continuations, if it was cut off)."""

    #: The answer, without any reasoning the model did before it.
    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    #: The last part's finish reason: "stop", or "length" when the answer is still cut off.
    finish_reason: str | None = None
    attempts: int = 1
    seconds: float = 0.0
    #: What went wrong on the attempts that were retried, e.g. ["429", "stream-dropped"].
    retried: list[str] = field(default_factory=list)
    #: The model's thinking (reasoning deltas and a leading <think> block); never part of ``text``.
    reasoning: str = ""
    #: The requests that asked for the rest of a cut-off answer, in order.
    continuations: list[Continuation] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        """The answer ends cut off: the model hit its output limit and no continuation finished it."""
        return self.finish_reason == "length"
