"""SHOW requests: the model asks to see code, and codegen answers in the same conversation.

Every system prompt that quotes code documents one line format (preprompts/show_format):

    SHOW: path            the whole file
    SHOW: path::Name      one definition (``Class.method`` for a method)
    SHOW: path:A-B        lines A to B (``path:A``: the definitions around line A)

Each request is answered from the workspace as it is now (editor buffers first), quoted with line
numbers as the rest of the context is, within a token budget; one that cannot be served is
answered saying why (no such file, no such definition, too long — with the file's outline).
Code already quoted in the conversation is not sent again.

A path a model names is untrusted: it must be workspace-relative, outside .git/ and .codegen/,
resolve inside the root (symlinks included), name a regular UTF-8 file within the edit size
limit, and be a file the workspace does not ignore (.gitignore, vendored and tool folders), since
that is where secrets and other people's code live. A prose request ("please send `cart.py`") is
understood as a fallback: the files and definitions it names are served the same way.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..context.focus import decorated_start, quote
from ..context.languages import language_for_path
from ..context.shown import conversation_views, quote_around, shown_whole
from ..context.tags import Definition, extract
from ..context.tokens import count_tokens
from ..context.walk import SKIPPED_DIRS, folder_specs, is_ignored
from ..edits.paths import normalize_rel_path, protected_name, read_workspace_text, resolve_inside
from ..edits.types import EditError, EditLimits

if TYPE_CHECKING:
    from ..context.resolve import Resolver

#: Tokens of code the answers to one turn's SHOW requests may carry, over all its rounds.
SHOW_BUDGET = 8000
#: Follow-ups that answer SHOW requests (or blind rewrites) in one turn.
MAX_SHOW_ROUNDS = 3
#: Requests served from one answer; more are answered "ask again".
MAX_REQUESTS = 8
#: Definitions listed in a file's outline, and entries in a folder's listing.
OUTLINE_ENTRIES = 60
MAX_LISTED = 100

_SHOW_LINE = re.compile(r"^\s*(?:[-*>]\s*)?[`*_]*SHOW[`*_]*\s*:[`*_]*\s*(?P<value>.+?)\s*$", re.MULTILINE)
_FENCE = re.compile(r"^\s*```.*?^\s*```", re.MULTILINE | re.DOTALL)
_RANGE = re.compile(r"^(?P<path>.+?)(?::|#|\s+lines?\s+)L?(?P<first>\d+)(?:\s*[-–:]\s*L?(?P<last>\d+))?$")
_SYMBOL = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")
_NOTE = re.compile(r"\s+(?:—|–|-|\(|#|because\b|to\b|for\b|so\b).*$")
# Prose that says the model could not see something, or asks to be shown it (the fallback).
_SEE = re.compile(
    r"\b(?:could\s*n[o']?t|can\s*n[o']?t|cannot|did\s*n[o']?t|unable to|was\s*n[o']?t able to) see\b"
    r"|\bshow me\b|\b(?:was|were)\s*n[o']?t shown\b|\bnot (?:been )?shown\b|\bneed to see\b"
    r"|\bwithout seeing\b|\bplease (?:share|provide|send|paste)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n")
_WORD = re.compile(r"[A-Za-z_][\w./-]*")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
#: Definitions a prose request may name.
MAX_PROSE_SYMBOLS = 4


@dataclass(frozen=True)
class ShowRequest:
    """One request to see code, as the model wrote it and as it was understood."""

    text: str
    path: str = ""
    symbol: str = ""
    #: 1-based, inclusive; (A, A) from ``path:A``.
    lines: tuple[int, int] | None = None
    #: Understood from prose, not a SHOW line.
    prose: bool = False


@dataclass
class Served:
    """The answer to one request: the text that goes back to the model, and what it cost."""

    request: ShowRequest
    text: str
    #: The code is in the conversation now (sent, or already there).
    shown: bool
    tokens: int = 0
    #: What was shown, for the record and the next iteration (``path``, ``path::Name``, ``path:A-B``).
    label: str = ""

    def record(self, call: str) -> dict:
        return {"request": self.request.text, "from": "prose" if self.request.prose else "SHOW",
                "shown": self.label if self.shown else "", "answer": "" if self.shown else self.text,
                "tokens": self.tokens, "call": call}


def show_requests(answer: str) -> list[ShowRequest]:
    """The SHOW lines of ``answer`` (outside code blocks), in order, without repeats."""
    found: list[ShowRequest] = []
    for match in _SHOW_LINE.finditer(_FENCE.sub("", answer)):
        for value in re.split(r"[,;]\s+", match["value"]):
            request = parse_request(value)
            if request is not None and request not in found:
                found.append(request)
    return found


def prose_asks(answer: str) -> list[str]:
    """The sentences of the answer's prose that say it could not see something or ask to be shown it."""
    return [s for s in _SENTENCE.split(_FENCE.sub(" ", answer)) if _SEE.search(s)]


def prose_requests(answer: str, resolver: Resolver) -> list[ShowRequest]:
    """The workspace files and defined names that the answer's prose asks to see (the fallback for
    models that ask in words): only names the index knows, since prose is not a request format."""
    sentences = prose_asks(answer)
    files: list[ShowRequest] = []
    symbols: list[ShowRequest] = []
    paths = list(resolver.records)
    for sentence in sentences:
        for word in _WORD.findall(sentence.replace("`", " ")):
            word = word.strip("./-")
            if "/" in word or re.search(r"\.\w{1,5}$", word):
                matches = [p for p in paths if p == word or p.endswith("/" + word)]
                if len(matches) == 1 and all(r.path != matches[0] for r in files):
                    files.append(ShowRequest(word, path=matches[0], prose=True))
                    continue
            name = word.rsplit(".", 1)[-1]
            # Plain words ("file", "test") are prose; code-like names are symbols.
            code_like = ("_" in name or any(c.isupper() for c in name[1:]) or f"`{word}" in sentence
                         or f"{name}(" in sentence)
            if (_IDENTIFIER.match(name) and code_like and name in resolver.definers
                    and all(r.symbol != name for r in symbols)):
                symbols.append(ShowRequest(name, symbol=name, prose=True))
    return files + symbols[:MAX_PROSE_SYMBOLS]


def parse_request(value: str) -> ShowRequest | None:
    """One request from the value of a SHOW line: ``path``, ``path::Name``, ``path:A-B`` or ``Name``."""
    text = value.replace("`", "").strip().strip("'\"").strip()  # markdown quoting is not part of a path
    if "::" not in text and not _RANGE.match(text):
        text = _NOTE.sub("", text).strip().strip("`'\"")  # "SHOW: cart.py (the rest of it)"
    if not text:
        return None
    if "::" in text:
        path, _, symbol = text.partition("::")
        symbol = _NOTE.sub("", symbol).strip().strip("`'\"()")
        return ShowRequest(text, path=path.strip().strip("`"), symbol=symbol.removesuffix("()"))
    if (ranged := _RANGE.match(text)) is not None:
        first = int(ranged["first"])
        last = int(ranged["last"]) if ranged["last"] else first
        return ShowRequest(text, path=ranged["path"].strip().strip("`"), lines=(min(first, last), max(first, last)))
    if _SYMBOL.match(text.removesuffix("()")) and not _looks_like_file(text):
        return ShowRequest(text, symbol=text.removesuffix("()"))
    return ShowRequest(text, path=text)


def _looks_like_file(text: str) -> bool:
    return "/" in text or bool(re.search(r"\.[A-Za-z0-9]{1,5}$", text))


class CodeShower:
    """Serves SHOW requests for one reply: reads the workspace safely, quotes, keeps to a budget.

    Blocking (reads files, may load the index); use it from a worker thread.
    """

    def __init__(self, root: Path, buffers: Mapping[str, str], conversation: str, budget: int) -> None:
        self.root = root
        self.buffers = dict(buffers)
        self.budget = budget
        self._conversation = conversation
        self._sent: list[str] = []  # what this reply carries so far: checked like the conversation
        self._resolver: Resolver | None = None

    @property
    def resolver(self) -> Resolver:
        """The index's names, loaded when a request needs them (a bare name, a path to complete)."""
        if self._resolver is None:
            from ..context import engine_for  # the engine loads when first needed
            from ..context.resolve import Resolver

            engine = engine_for(self.root)
            engine.refresh()
            for path, text in self.buffers.items():
                engine.update_document(path, text)
            self._resolver = Resolver(engine.index, engine.index.records())
        return self._resolver

    def note_sent(self, text: str) -> None:
        """Count ``text`` (going into the same reply) as in the conversation."""
        self._sent.append(text)

    def serve(self, request: ShowRequest) -> Served:
        """The answer to ``request``: the code, or why it cannot be shown."""
        if not request.path and not self._exists(request.symbol):
            return self._serve_name(request)
        path, why = self._find(request.path or request.symbol)
        if path is None:
            return Served(request, f"`{request.text}`: {why}", shown=False)
        try:
            text = self._read(path)
        except (EditError, OSError) as error:
            return Served(request, f"`{request.text}`: not shown — {_reason(error)}", shown=False)
        if text is None:
            return self._serve_folder(request, path)
        if request.symbol and request.path:
            return self._serve_definition(request, path, text)
        if request.lines is not None:
            return self._serve_lines(request, path, text)
        return self._serve_file(request, path, text)

    def _exists(self, name: str) -> bool:
        """Whether a bare name is a file or folder at the root (``SHOW: src``), not a definition's name."""
        try:
            return (self.root / normalize_rel_path(name)).exists()
        except EditError:
            return False

    # -- finding and reading ---------------------------------------------------------------------
    def _find(self, raw: str) -> tuple[str | None, str]:
        """The workspace path ``raw`` names (completed when unambiguous), or None and why not."""
        try:
            rel = normalize_rel_path(raw.removeprefix("a/").removeprefix("b/") if raw.startswith(("a/", "b/"))
                                     and not (self.root / raw).exists() else raw)
        except EditError as error:
            if any(protected_name(part) for part in raw.replace("\\", "/").split("/")):
                return None, "not shown — codegen does not show what is inside .git/ or .codegen/."
            return None, f"not shown — {_reason(error)}"
        if rel in self.buffers:
            return rel, ""
        why = self._refused(rel)
        if why:
            return None, why
        try:
            target = resolve_inside(self.root, rel)
        except EditError as error:
            if "outside the workspace" in str(error):  # without naming where the link leads
                return None, "not shown — it is a symbolic link that leads outside the workspace."
            return None, f"not shown — {_reason(error)}"
        real_rel = os.path.relpath(target, os.path.realpath(self.root)).replace(os.sep, "/")
        if real_rel != rel and (why := self._refused(real_rel)):
            return None, why
        if target.exists():
            return rel, ""
        known = sorted(set(self.resolver.records) | set(self.buffers))
        matches = [p for p in known if p.endswith("/" + rel)]
        if len(matches) == 1:
            return matches[0], ""
        if matches:
            return None, f"several files match; name one of: {', '.join(matches[:8])}."
        close = difflib.get_close_matches(rel, known, n=3, cutoff=0.6)
        return None, "no such file in the workspace" + (f" (did you mean {', '.join(close)}?)" if close else ".")

    def _refused(self, rel: str) -> str:
        """Why ``rel`` is not shown (an ignored or vendored file), or ''."""
        folder, _, _ = rel.rpartition("/")
        if any(part in SKIPPED_DIRS for part in rel.split("/")[:-1]):
            return "not shown — it is in a vendored or tool folder, which codegen does not show."
        specs = folder_specs(self.root, folder)
        if specs is None or is_ignored(specs, rel):
            return "not shown — the workspace's .gitignore excludes it, and codegen does not show ignored files."
        return ""

    def _read(self, path: str) -> str | None:
        """The file's text (the editor's buffer first); None for a folder."""
        if path in self.buffers:
            return self.buffers[path]
        target = resolve_inside(self.root, path)
        if target.is_dir():
            return None
        text = read_workspace_text(self.root, path, EditLimits())
        if text is None:
            raise FileNotFoundError(f"{path} does not exist")
        return text

    # -- answering ---------------------------------------------------------------------------------
    def _already(self, code: str) -> bool:
        views = conversation_views("\n".join([self._conversation, *self._sent]))
        return shown_whole(code, views)

    def _fit(self, request: Served) -> Served:
        """Charge the budget for ``request``'s text, or say it no longer fits."""
        if request.tokens > self.budget:
            return Served(request.request, f"`{request.request.text}`: not shown — it is about {request.tokens} "
                          f"tokens, more than the {max(self.budget, 0)} left for code in this turn; ask for less "
                          "(a definition or a line range).", shown=False)
        self.budget -= request.tokens
        self.note_sent(request.text)
        return request

    def _serve_folder(self, request: ShowRequest, path: str) -> Served:
        """A folder: the files and folders in it that codegen would show."""
        try:
            entries = sorted(os.scandir(resolve_inside(self.root, path)), key=lambda e: e.name)
        except (EditError, OSError) as error:
            return Served(request, f"`{request.text}`: not shown — {_reason(error)}", shown=False)
        names = []
        for entry in entries[:MAX_LISTED]:
            rel = f"{path}/{entry.name}"
            if protected_name(entry.name) or self._refused(rel + ("/x" if entry.is_dir() else "")):
                continue
            names.append(entry.name + ("/" if entry.is_dir(follow_symlinks=False) else ""))
        more = f" (and {len(entries) - MAX_LISTED} more entries)" if len(entries) > MAX_LISTED else ""
        listing = ", ".join(names) or "nothing codegen shows"
        return Served(request, f"`{request.text}`: {path}/ is a folder; it holds: {listing}{more}. "
                      "Ask for a file in it.", shown=False)

    def _serve_file(self, request: ShowRequest, path: str, text: str) -> Served:
        lines = text.splitlines()
        if self._already(text):
            return Served(request, f"`{request.text}`: {path} is quoted whole above, unchanged.", True, 0, path)
        heading = f"{path} (all of it, {len(lines)} lines):" if lines else f"{path} (the file is empty)."
        body = f"{heading}\n{quote(lines, 0, len(lines) - 1, set())}" if lines else heading
        tokens = count_tokens(body)
        if tokens <= self.budget:
            return self._fit(Served(request, body, True, tokens, path))
        outline = _outline(path, text)
        answer = (f"`{request.text}`: {path} has {len(lines)} lines (about {tokens} tokens), more than the "
                  f"{max(self.budget, 0)} tokens left for code in this turn. Ask for definitions "
                  f"(SHOW: {path}::Name) or line ranges (SHOW: {path}:A-B)")
        answer += f". Its definitions:\n{outline}" if outline else "."
        return Served(request, answer, shown=False, tokens=count_tokens(answer))

    def _serve_lines(self, request: ShowRequest, path: str, text: str) -> Served:
        lines = text.splitlines()
        first, last = request.lines or (1, 1)
        if not lines or first > len(lines):
            return Served(request, f"`{request.text}`: {path} has only {len(lines)} lines.", shown=False)
        if first == last:  # one line: the definitions around it, the line marked
            body = f"{path} around line {first}:\n{quote_around(path, text, first - 1, first - 1)}"
            label = f"{path}:{first}"
        else:
            last = min(last, len(lines))
            code = "\n".join(lines[first - 1:last])
            if self._already(code):
                return Served(request, f"`{request.text}`: lines {first}-{last} of {path} are quoted above, unchanged.",
                              True, 0, f"{path}:{first}-{last}")
            wanted = last
            body = f"{path}, lines {first}-{last} of {len(lines)}:\n{quote(lines, first - 1, last - 1, set())}"
            while count_tokens(body) > self.budget and last > first:  # what fits, and where it stops
                last = first + (last - first) // 2
                body = (f"{path}, lines {first}-{last} of {len(lines)} (cut to what this turn can still show; ask "
                        f"for {path}:{last + 1}-{wanted} for the rest):\n{quote(lines, first - 1, last - 1, set())}")
            label = f"{path}:{first}-{last}"
        return self._fit(Served(request, body, True, count_tokens(body), label))

    def _serve_definition(self, request: ShowRequest, path: str, text: str) -> Served:
        if language_for_path(path) is None:
            return Served(request, f"`{request.text}`: codegen cannot find definitions in {path} (not a language it "
                          f"parses); ask for the whole file or a line range (SHOW: {path}:A-B).", shown=False)
        definitions = extract(language_for_path(path), text.encode("utf-8")).definitions
        found = _matching(definitions, request.symbol)
        if not found:
            outline = _outline(path, text)
            return Served(request, f"`{request.text}`: {path} defines no `{request.symbol}`"
                          + (f". Its definitions:\n{outline}" if outline else "."), shown=False)
        return self._quote_definitions(request, path, text.splitlines(), definitions, found)

    def _quote_definitions(self, request: ShowRequest, path: str, lines: list[str], definitions: list[Definition],
                           found: list[int]) -> Served:
        blocks, labels = [], []
        for index in found:
            definition = definitions[index]
            start = decorated_start(lines, definition.line)
            code = "\n".join(lines[start:definition.end_line + 1])
            name = _qualified(definitions, index)
            labels.append(f"{path}::{name}")
            if self._already(code):
                blocks.append(f"{path}::{name} is quoted above, unchanged.")
                continue
            blocks.append(f"{path}::{name} (lines {start + 1}-{definition.end_line + 1}):\n"
                          f"{quote(lines, start, definition.end_line, set())}")
        body = "\n\n".join(blocks)
        if all(block.endswith("unchanged.") for block in blocks):
            return Served(request, f"`{request.text}`: " + " ".join(blocks), True, 0, ", ".join(labels))
        return self._fit(Served(request, body, True, count_tokens(body), ", ".join(labels)))

    def _serve_name(self, request: ShowRequest) -> Served:
        """A definition named without its file: wherever the index finds it (at most two)."""
        *owner, name = request.symbol.split(".")
        targets = [t for t in self.resolver.definers.get(name, [])
                   if not owner or self.resolver.parent_name(t) == owner[-1]]
        if not targets:
            return Served(request, f"`{request.text}`: no definition named `{request.symbol}` in the workspace's "
                          "code; name its file (SHOW: path::Name).", shown=False)
        served: list[Served] = []
        for path in list(dict.fromkeys(t.path for t in targets))[:2]:
            text = self.resolver.lines(path)
            definitions = self.resolver.records[path].tags.definitions
            found = [t.index for t in targets if t.path == path]
            served.append(self._quote_definitions(request, path, text, definitions, found))
        more = len({t.path for t in targets}) - 2
        text = "\n\n".join(s.text for s in served) + (f"\n\n(`{name}` is defined in {more} more files.)" if more > 0 else "")
        return Served(request, text, any(s.shown for s in served), sum(s.tokens for s in served),
                      ", ".join(s.label for s in served if s.shown))


def _matching(definitions: list[Definition], symbol: str) -> list[int]:
    """Indexes of the definitions ``symbol`` names (``Class.method`` through its parents)."""
    *owners, name = symbol.split(".")
    found = []
    for index, definition in enumerate(definitions):
        if definition.name != name:
            continue
        parent, ok = definition.parent, True
        for owner in reversed(owners):
            if parent < 0 or definitions[parent].name != owner:
                ok = False
                break
            parent = definitions[parent].parent
        if ok:
            found.append(index)
    return found


def _qualified(definitions: list[Definition], index: int) -> str:
    names = [definitions[index].name]
    parent = definitions[index].parent
    while parent >= 0:
        names.append(definitions[parent].name)
        parent = definitions[parent].parent
    return ".".join(reversed(names))


def _outline(path: str, text: str) -> str:
    """The file's definitions with their lines, one a line (the first OUTLINE_ENTRIES)."""
    language = language_for_path(path)
    if language is None:
        return ""
    definitions = extract(language, text.encode("utf-8")).definitions
    listed = [i for i, d in enumerate(definitions) if d.kind not in ("constant", "field")]
    entries = [f"  {_qualified(definitions, i)} (lines {definitions[i].line + 1}-{definitions[i].end_line + 1})"
               for i in listed[:OUTLINE_ENTRIES]]
    if len(listed) > OUTLINE_ENTRIES:
        entries.append(f"  ... and {len(listed) - OUTLINE_ENTRIES} more")
    return "\n".join(entries)


def _reason(error: Exception) -> str:
    return str(error).rstrip(".") + "."
