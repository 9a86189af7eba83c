"""One fix iteration's record, and what the next iterations' requests say about it.

Each iteration asks in a conversation of its own, whose context is the code as it is now. The
iterations before it come as a compact summary — the diagnosis in a line, what was changed or
why nothing was, what was refused and why, the tests before and after — and the code the model
asked to see is shown again as it is now. Carrying the old conversations instead would quote
code that has changed since (a diff written against it no longer applies) and make every request
a whole iteration longer, which the token budget cannot afford for long.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .show import SHOW_BUDGET, CodeShower, ShowRequest

#: Characters of one refusal or action kept in the summary of an earlier iteration.
LINE_CHARS = 300
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)", re.DOTALL)


@dataclass
class Iteration:
    number: int
    failing_before: int
    diagnosis: str
    edited: list[str]
    #: Edits not made: refused test edits, hunks that would not apply.
    refused: list[str]
    actions: list[str]
    failing_after: int
    checkpoint: str
    #: Seconds from the model's answer to the next test verdict.
    verdict_seconds: float
    #: Per changed existing file: replaced whole or edited, and how much of it changed.
    rewritten_files: list[dict] = field(default_factory=list)
    #: Proposed files that make an editor, a shell or git run code: [{path, why}] (``edits.sensitive``).
    sensitive: list[dict] = field(default_factory=list)
    #: Code shown on the model's requests (``path``, ``path::Name``, ``path:A-B``); not an iteration of its own.
    shown: list[str] = field(default_factory=list)
    #: Requests to see code left unanswered when the rounds or the token budget ran out.
    unanswered: list[str] = field(default_factory=list)
    #: Tests failing after it that did not fail before it (from a whole-suite run).
    new_failures: list[str] = field(default_factory=list)
    #: Tests failing before it that pass after it.
    fixed: list[str] = field(default_factory=list)
    #: How the culprits were found: {method: coverage | static, why, seconds, tool, budget, test_seconds} (``localize.py``).
    localization: dict = field(default_factory=dict)


def one_line(text: str, limit: int = 240) -> str:
    """The first sentence of ``text`` on one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    match = _FIRST_SENTENCE.match(flat)
    line = match.group(1) if match else flat
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def history_text(iterations: Sequence[Iteration]) -> str:
    """What was tried before and what came of it, a few lines per iteration ('' before the first)."""
    if not iterations:
        return ""
    lines = [f"What was tried before (this is iteration {iterations[-1].number + 1}; the code quoted here is "
             "as it is now, with every applied change in it):"]
    for it in iterations:
        lines.append(f"- Iteration {it.number}: diagnosis: {one_line(it.diagnosis) or '(none)'}")
        if it.shown:
            lines.append(f"  Shown on request: {', '.join(it.shown)}.")
        if it.edited:
            lines.append(f"  Applied: changes to {', '.join(it.edited)}.")
        elif not it.refused and not it.actions:
            why = ("your requests to see code were still unanswered when its rounds ran out (answered above)"
                   if it.unanswered else "the plan held no edit")
            lines.append(f"  Nothing was applied: {why}.")
        for refusal in it.refused:
            # The last iteration's in full: which hunks did not apply, and why, is what the next answer needs.
            text = refusal.replace("\n", "\n    ") if it is iterations[-1] else _clip(refusal)
            lines.append(f"  Not applied: {text}")
        for action in it.actions:
            lines.append(f"  Action: {_clip(action)}")
        tests = f"  Tests: {it.failing_before} failing before, {it.failing_after} after"
        if it.fixed:
            tests += f"; now passing: {', '.join(it.fixed[:5])}"
        if it.new_failures:
            tests += f"; newly failing: {', '.join(it.new_failures[:5])}"
        lines.append(tests + ".")
    return "\n".join(lines)


def shown_again(root: Path, buffers: Mapping[str, str], requests: Sequence[ShowRequest], context: str) -> str:
    """The code the model asked to see in earlier iterations, as it is now, where ``context`` does not
    already quote it; within half the show budget. Blocking: run it in a worker thread."""
    if not requests:
        return ""
    shower = CodeShower(root, buffers, context, SHOW_BUDGET // 2)
    parts = []
    for request in requests:
        served = shower.serve(request)
        if served.shown and served.tokens:
            parts.append(served.text)
    if not parts:
        return ""
    return "Code you asked to see in earlier iterations, as it is now:\n\n" + "\n\n".join(parts)


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= LINE_CHARS else flat[:LINE_CHARS - 1].rstrip() + "…"
