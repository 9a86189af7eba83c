"""No blind rewrites: a whole-file answer for an existing file is applied only if the model was shown
that whole file; and when a model says it could not see something, it is shown it before anything is applied.

A rewrite written from signatures and tests drops behaviour nobody pinned. So before applying,
each whole-file block for an existing file is checked against the conversation the model
answered (the messages actually sent). A blind one is set aside and the model is answered once
with the file's text (within budget; else the definitions its rewrite touched) and asked for a
diff; if it rewrites blind again, that file is refused. Prose like "I could not see X" / "show me
X" naming a workspace file or symbol gets that file or definition sent, in the same follow-up.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..context.focus import definition_piece
from ..context.resolve import Resolver
from ..context.shown import conversation_views, quote_around, shown_whole
from ..context.tokens import count_tokens
from ..edits import PatchResult, render_diff
from ..edits.parse import parse_answer
from ..edits.paths import normalize_rel_path
from ..edits.types import FileChange
from ..model import Message

#: Tokens of file text a follow-up may carry (all files and definitions together).
SHOW_BUDGET = 6000
MAX_SYMBOLS = 4

_SEE = re.compile(
    r"\b(?:could\s*n[o']?t|can\s*n[o']?t|cannot|did\s*n[o']?t|unable to|was\s*n[o']?t able to) see\b"
    r"|\bshow me\b|\b(?:was|were)\s*n[o']?t shown\b|\bnot (?:been )?shown\b|\bneed to see\b"
    r"|\bwithout seeing\b|\bplease (?:share|provide|send|paste)\b",
    re.IGNORECASE,
)
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n")
_TOKEN = re.compile(r"[A-Za-z_][\w./-]*")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


@dataclass
class FollowUp:
    """The message that answers a blind rewrite or a request to see something, and what it holds."""

    message: str
    set_aside: list[str] = field(default_factory=list)  # files whose blind rewrite was not applied
    shown: list[str] = field(default_factory=list)  # files and symbols sent whole (or in part)


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


def asked_to_see(answer: str) -> list[str]:
    """The sentences of the answer's prose that say it could not see something or ask to be shown it."""
    prose = _FENCE.sub(" ", answer)
    return [s for s in _SENTENCE.split(prose) if _SEE.search(s)]


def _named(sentences: list[str], resolver: Resolver) -> tuple[list[str], list[str]]:
    """Workspace files and defined symbols the sentences name."""
    files: list[str] = []
    symbols: list[str] = []
    paths = list(resolver.records)
    for sentence in sentences:
        for token in _TOKEN.findall(sentence.replace("`", " ")):
            token = token.strip("./-")
            if "/" in token or re.search(r"\.\w{1,5}$", token):
                matches = [p for p in paths if p == token or p.endswith("/" + token)]
                if len(matches) == 1 and matches[0] not in files:
                    files.append(matches[0])
                    continue
            name = token.rsplit(".", 1)[-1]
            # Plain words ("file", "test") are prose; code-like names are symbols.
            code_like = "_" in name or any(c.isupper() for c in name[1:]) or f"`{token}" in sentence or f"{name}(" in sentence
            if _IDENTIFIER.match(name) and code_like and name in resolver.definers and name not in symbols:
                symbols.append(name)
    return files, symbols[:MAX_SYMBOLS]


def _changed_old_lines(old: str, new: str, *, inserts: bool = True) -> list[tuple[int, int]]:
    """0-based (first, last) ranges of ``old`` that ``new`` replaces or removes (and where it inserts)."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    wanted = {"replace", "delete"} | ({"insert"} if inserts else set())
    return [(i1, max(i1, i2 - 1)) for tag, i1, i2, _, _ in matcher.get_opcodes() if tag in wanted]


def _file_block(path: str, text: str) -> str:
    return f"{path}\n```\n{text}{'' if text.endswith(chr(10)) or not text else chr(10)}```"


def build_follow_up(root: Path, buffers: Mapping[str, str], answer: str, patch: PatchResult,
                    conversation: str) -> FollowUp | None:
    """The follow-up for blind rewrites and requests to see, or None when the answer needs none.

    Blocking (reads the index); run it in a worker thread.
    """
    blind = blind_rewrites(answer, patch, conversation)
    sentences = asked_to_see(answer)
    if not blind and not sentences:
        return None
    from ..context import engine_for  # the engine loads when first needed

    engine = engine_for(root)
    engine.refresh()
    for path, text in buffers.items():
        engine.update_document(path, text)
    resolver = Resolver(engine.index, engine.index.records())
    files, symbols = _named(sentences, resolver) if sentences else ([], [])
    views = conversation_views(conversation)
    budget = SHOW_BUDGET
    parts: list[str] = []
    follow = FollowUp("", [c.path for c in blind])

    for change in blind:
        old = change.old_text or ""
        block = _file_block(change.path, old)
        cost = count_tokens(block)
        if cost <= budget:
            budget -= cost
            parts.append(f"You replaced {change.path} whole, but its whole current text was not in this "
                         "conversation, so the replacement was set aside: it would drop whatever you were not "
                         f"shown. Here is {change.path} as it is now:\n\n{block}")
        else:
            excerpts = [quote_around(change.path, old, first, last) for first, last in _changed_old_lines(old, change.new_text or "")]
            excerpt = "\n\n".join(dict.fromkeys(excerpts))
            parts.append(f"You replaced {change.path} whole, but its whole current text was not in this "
                         f"conversation, so the replacement was set aside. The file is too long to show whole "
                         f"({len(old.splitlines())} lines); these are the definitions your replacement changes, "
                         f"as they are now:\n\n{change.path}\n{excerpt}")
            budget -= count_tokens(excerpt)
        follow.shown.append(change.path)

    for path in files:
        if path in follow.shown:
            continue
        text = buffers.get(path)
        if text is None:
            source = engine.index.source(path)
            text = source.decode("utf-8", "replace") if source is not None else None
        if text is None or shown_whole(text, views):
            continue
        block = _file_block(path, text)
        if count_tokens(block) <= budget:
            budget -= count_tokens(block)
            parts.append(f"You asked to see {path}. Here it is as it is now:\n\n{block}")
            follow.shown.append(path)
    for name in symbols:
        for target in resolver.resolve(name, files[0] if files else "", set())[:2]:
            definition = resolver.definition(target)
            if shown_whole("\n".join(resolver.lines(target.path)[definition.line:definition.end_line + 1]), views):
                continue  # already in the conversation
            piece = definition_piece(resolver, target, "", "Definition")
            if count_tokens(piece.text) <= budget:
                budget -= count_tokens(piece.text)
                parts.append(f"You asked to see `{name}`:\n{piece.text}")
                follow.shown.append(name)
    if not parts:
        return None  # it named nothing we could show
    parts.append("Answer again with the complete change, as unified diffs against the text above "
                 "(do not replace existing files whole).")
    follow.message = "Nothing has been applied yet.\n\n" + "\n\n".join(parts)
    return follow


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
