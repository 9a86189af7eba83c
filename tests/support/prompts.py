"""Checks on the system prompts codegen actually sent (taken from the scripted model's requests)."""

from __future__ import annotations

import re
from collections import Counter

_FENCED = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


def assert_one_voice(system: str, *, existing_code: bool) -> None:
    """Each instruction once, the answer formats in one order (diffs, whole files, SHOW requests),
    and only the formats the request can use: no diff rules and no SHOW requests for an empty workspace."""
    prose = " ".join(_FENCED.sub(" ", system).split())
    sentences = [s for s in _SENTENCE_END.split(prose) if len(s) > 20]
    repeated = [s for s, n in Counter(sentences).items() if n > 1]
    assert not repeated, f"said twice: {repeated}"
    # The whole-file rule, the SHOW format and the diff example each come once, wherever they are.
    assert system.count("shown all of it") <= 1 and system.count("SHOW lines") <= 1
    assert system.count("\n```diff\n") <= 1
    headings = ["\n```diff\n", "Write a new file whole", "SHOW lines"] if existing_code else ["Write a new file whole"]
    assert [system.find(h) for h in headings] == sorted(system.find(h) for h in headings) and -1 not in [
        system.find(h) for h in headings], headings
    if not existing_code:
        assert "```diff" not in system and "SHOW" not in system and "/dev/null" not in system
