"""What a conversation showed the model, and quoting the definitions around given lines of a file.

`shown_whole` answers "was this file's whole current text in the messages?" from the messages
themselves: the text must appear in one piece, either raw (a file block) or as the engine
quotes code (a line-number column, `>` marking lines of interest).
"""

from __future__ import annotations

import re

from .focus import MAX_BODY_LINES, decorated_start, quote
from .languages import language_for_path
from .tags import Definition, extract

_NUMBERED = re.compile(r"^ *\d+[> ](?: |$)")
FUNCTION_KINDS = frozenset({"function", "method"})


def _lines_of(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def _needle(text: str) -> str:
    return "\n".join(_lines_of(text)).strip("\n")


def conversation_views(conversation: str) -> tuple[str, str]:
    """The conversation as sent, and with the engine's line-number column removed."""
    raw = conversation.splitlines()
    return ("\n".join(line.rstrip() for line in raw),
            "\n".join(_NUMBERED.sub("", line, count=1).rstrip() for line in raw))


def shown_whole(text: str, conversation: str | tuple[str, str]) -> bool:
    """True when all of ``text`` appears, in one piece, in ``conversation`` (raw or as numbered quotes)."""
    needle = _needle(text)
    if not needle:
        return True
    views = conversation if isinstance(conversation, tuple) else conversation_views(conversation)
    return any(needle in view for view in views)


def _definitions(path: str, text: str) -> list[Definition]:
    language = language_for_path(path)
    if language is None:
        return []
    return extract(language, text.encode("utf-8")).definitions


def enclosing_definitions(path: str, text: str, first: int, last: int) -> list[tuple[int, int]]:
    """(start, end) 0-based spans of the outermost functions touching lines first..last, or the
    innermost other definitions holding them; decorators included."""
    lines = text.splitlines()
    definitions = _definitions(path, text)
    spans: list[tuple[int, int]] = []
    for line in range(first, last + 1):
        around = [d for d in definitions if d.line <= line <= d.end_line and d.kind not in ("constant", "field")]
        if not around:
            continue
        functions = [d for d in around if d.kind in FUNCTION_KINDS]
        chosen = functions[0] if functions else around[-1]
        span = (decorated_start(lines, chosen.line), chosen.end_line)
        if span not in spans:
            spans.append(span)
    return spans


def quote_around(path: str, text: str, first: int, last: int) -> str:
    """The whole definitions enclosing lines first..last (0-based) of ``text``, with line numbers;
    lines outside any definition (module level) get ten lines either side."""
    lines = text.splitlines()
    if not lines:
        return "(the file is empty)"
    first, last = max(0, min(first, len(lines) - 1)), max(0, min(last, len(lines) - 1))
    spans = enclosing_definitions(path, text, first, last) or [(max(first - 10, 0), min(last + 10, len(lines) - 1))]
    blocks = []
    for start, end in spans:
        marked = set(range(first, last + 1))
        blocks.append(quote(lines, start, end, marked, window=end - start + 1 > MAX_BODY_LINES))
    return "\n      ⋮\n".join(blocks)
