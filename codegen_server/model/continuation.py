"""Answers cut off at the output limit: ask for the rest, and stitch the parts.

A model that hits its output limit stops mid-answer (``finish_reason: "length"``).
Its answer goes back to it as an assistant message with a request to go on from
where it stopped; the continuation is joined to the partial answer. Models often
restart the cut line, repeat a few lines, or re-open the code block they were in:
that overlap is removed so the stitched answer reads as one.
"""

from __future__ import annotations

import re

from .types import Message

CONTINUE_REQUEST = (
    "Your answer was cut off at the output limit. Continue it exactly where it stopped: start with the "
    "very next character, repeat nothing, add no introduction, and close any code block you were writing."
)

_FENCE_LINE = re.compile(r"^(`{3,}|~{3,})[^\n`]*$", re.MULTILINE)
#: The shortest repeated text taken for an overlap rather than a coincidence.
_MIN_OVERLAP = 8
#: How far back to look for a repeated tail.
_MAX_OVERLAP = 4000


def continuation_messages(messages: list[Message], partial: str) -> list[Message]:
    """The request for the rest of ``partial``, the answer so far to ``messages``."""
    return [*messages, {"role": "assistant", "content": partial}, {"role": "user", "content": CONTINUE_REQUEST}]


def ends_inside_fence(text: str) -> bool:
    """Whether ``text`` ends inside a fenced code block (an odd number of fence lines)."""
    return len(_FENCE_LINE.findall(text)) % 2 == 1


def stitch(before: str, after: str) -> str:
    """``before`` continued by ``after``, without the part ``after`` repeats."""
    if ends_inside_fence(before):
        # A continuation that re-opens the block it was cut in ("```python\n...") drops that fence line.
        first_line, newline, rest = after.lstrip("\n").partition("\n")
        if newline and _FENCE_LINE.fullmatch(first_line) and len(first_line.strip("`~")) > 0:
            after = rest
    limit = min(len(before), len(after), _MAX_OVERLAP)
    for size in range(limit, _MIN_OVERLAP - 1, -1):
        if before.endswith(after[:size]):
            return before + after[size:]
    return before + after
