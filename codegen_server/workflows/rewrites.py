"""No blind rewrites, and answers to requests to see code, before anything is applied.

A rewrite written from signatures and tests drops behaviour nobody pinned. So before applying,
each whole-file block for an existing file is checked against the conversation the model
answered (the messages actually sent). A blind one is set aside and the model is answered once
with the file's text (within budget; else the definitions its rewrite touched); if it rewrites
blind again, that file is refused. `SHOW:` lines (show.py) — or, as a fallback, prose like
"show me `cart.py`" naming a workspace file or definition — are answered in the same follow-up.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..context.focus import quote
from ..context.shown import conversation_views, quote_around, shown_whole
from ..context.tokens import count_tokens
from ..edits import PatchResult, render_diff
from ..edits.parse import parse_answer
from ..edits.paths import normalize_rel_path
from ..edits.types import FileChange
from ..model import Message
from .show import MAX_REQUESTS, CodeShower, Served, prose_asks, prose_requests, show_requests


@dataclass
class FollowUp:
    """The message that answers blind rewrites and requests to see code, and what it holds."""

    message: str
    #: Files whose blind rewrite was set aside (and sent).
    set_aside: list[str] = field(default_factory=list)
    #: The answer to each request to see code.
    served: list[Served] = field(default_factory=list)
    #: Tokens of code the message carries.
    tokens: int = 0


def conversation_text(messages: Sequence[Message]) -> str:
    """Everything the model was sent and said, as one text."""
    return "\n".join(str(m.get("content") or "") for m in messages)


def whole_file_paths(answer: str) -> set[str]:
    """Workspace paths the answer writes as whole-file blocks."""
    paths = set()
    for file_patch in parse_answer(answer):
        if file_patch.whole_text is not None:
            raw = file_patch.new_path or file_patch.old_path
            if raw:
                try:
                    paths.add(normalize_rel_path(raw))
                except ValueError:
                    continue  # an unsafe path: the edits engine refuses it on its own
    return paths


def blind_rewrites(answer: str, patch: PatchResult, conversation: str) -> list[FileChange]:
    """Changes that replace an existing file whole without its whole text having been in ``conversation``."""
    whole = whole_file_paths(answer)
    if not whole:
        return []
    views = conversation_views(conversation)
    return [c for c in patch.changes
            if c.kind in ("modify", "rename") and c.path in whole and not shown_whole(c.old_text or "", views)]


def without(patch: PatchResult, paths: set[str]) -> PatchResult:
    """The patch minus the changes to ``paths``."""
    kept = [c for c in patch.changes if c.path not in paths]
    return PatchResult(kept, patch.failures, render_diff(kept))


def _changed_old_lines(old: str, new: str, *, inserts: bool = True) -> list[tuple[int, int]]:
    """0-based (first, last) ranges of ``old`` that ``new`` replaces or removes (and where it inserts)."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    wanted = {"replace", "delete"} | ({"insert"} if inserts else set())
    return [(i1, max(i1, i2 - 1)) for tag, i1, i2, _, _ in matcher.get_opcodes() if tag in wanted]


def build_follow_up(root: Path, buffers: Mapping[str, str], answer: str, patch: PatchResult, conversation: str,
                    *, budget: int, set_aside: set[str], last_round: bool) -> FollowUp | None:
    """The follow-up that answers an answer's blind rewrites and requests to see code, or None when it
    needs none. ``budget``: tokens of code it may carry; ``set_aside``: files already answered for a
    blind rewrite (a second one is refused, not answered again); ``last_round``: no more after it.

    Blocking (reads files, may load the index); run it in a worker thread.
    """
    blind = [c for c in blind_rewrites(answer, patch, conversation) if c.path not in set_aside]
    requests = show_requests(answer)
    shower = CodeShower(root, buffers, conversation, budget)
    if not requests and not blind and prose_asks(answer):
        requests = prose_requests(answer, shower.resolver)
    if not blind and not requests:
        return None
    follow = FollowUp("", [c.path for c in blind])
    parts = [_set_aside(change, shower) for change in blind]
    for request in requests[:MAX_REQUESTS]:
        served = shower.serve(request)
        if request.prose and not (served.shown and served.tokens):
            continue  # prose is no format: only what it named and we sent is answered
        follow.served.append(served)
        parts.append(served.text)
    follow.served += [Served(r, "", shown=False) for r in requests[MAX_REQUESTS:]]
    if requests[MAX_REQUESTS:]:
        parts.append(f"Only {MAX_REQUESTS} requests are answered at a time: ask again for "
                     + ", ".join(f"`{r.text}`" for r in requests[MAX_REQUESTS:]) + ".")
    if not parts:
        return None
    follow.tokens = budget - shower.budget
    opening = "Nothing has been applied yet." if patch.changes or patch.failures or blind else ""
    asked = parts[len(blind):]
    body = parts[:len(blind)] + (["What you asked to see, as it is now:\n\n" + "\n\n".join(asked)] if asked else [])
    closing = ("No more code can be shown for this answer: give your complete answer with what you have."
               if last_round else "Now give your complete answer.")
    follow.message = "\n\n".join(filter(None, [opening, *body, closing]))
    return follow


def _set_aside(change: FileChange, shower: CodeShower) -> str:
    """What a blind rewrite of ``change.path`` gets: the file as it is now, or the definitions it changed."""
    old = change.old_text or ""
    lines = old.splitlines()
    block = f"{change.path} (all of it, {len(lines)} lines):\n{quote(lines, 0, len(lines) - 1, set())}" if lines \
        else f"{change.path} (the file is empty)."
    cost = count_tokens(block)
    news = (f"You replaced {change.path} whole, but its whole current text was not in this conversation, so the "
            "replacement was set aside: it would drop whatever you were not shown.")
    if cost <= shower.budget:
        shower.budget -= cost
        shower.note_sent(block)
        return f"{news} Here it is as it is now:\n\n{block}"
    excerpts = [quote_around(change.path, old, first, last) for first, last in _changed_old_lines(old, change.new_text or "")]
    excerpt = "\n\n".join(dict.fromkeys(excerpts))
    shower.budget -= count_tokens(excerpt)
    shower.note_sent(excerpt)
    return (f"{news} The file is too long to show whole ({len(lines)} lines); these are the definitions your "
            f"replacement changes, as they are now — change them with a diff:\n\n{change.path}\n{excerpt}")


def change_summary(changes: Sequence[FileChange], whole: set[str]) -> list[dict]:
    """For each changed existing file: whether it was replaced whole, and how much of it changed."""
    out = []
    for change in changes:
        if change.kind not in ("modify", "rename") or change.old_text is None:
            continue
        old_lines = change.old_text.splitlines()
        changed = sum(last - first + 1 for first, last in
                      _changed_old_lines(change.old_text, change.new_text or "", inserts=False))
        out.append({"path": change.new_path or change.path, "whole_file": change.path in whole,
                    "lines": len(old_lines), "changed_lines": changed,
                    "changed_share": round(changed / len(old_lines), 3) if old_lines else 0.0})
    return out
