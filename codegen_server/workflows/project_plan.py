"""A new project's plan: the files the model lists before writing them, read whole or as it streams.

The plan is one JSON block, ``{"files": [{path, purpose, interfaces}, ...]}``, listed in the order the
files build on each other. Read as it streams (``PlanStream``), each entry is known the moment its
object closes, so its file can be asked for while the rest of the plan is still being written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

#: Most files one plan may name (a larger plan is a sign of a misread answer, not a project).
MAX_PLANNED_FILES = 60

_JSON_BLOCK = re.compile(r"^```(?:json)?[ \t]*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
#: Where a plan's list of files opens: a fence, then ``{"files": [`` (whitespace anywhere between).
_PLAN_OPENING = re.compile(r'^```(?:json)?[ \t]*\n\s*\{\s*"files"\s*:\s*\[', re.MULTILINE)
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class PlannedFile:
    """One file of the plan: where it goes, what it owns, what the other files may use from it."""

    path: str
    purpose: str
    interfaces: str = ""


def parse_plan(answer: str) -> list[PlannedFile] | None:
    """The plan in an answer (a JSON block ``{"files": [{path, purpose, interfaces}]}``), or None."""
    for match in _JSON_BLOCK.finditer(answer):
        try:
            data = json.loads(match["body"])
        except ValueError:
            continue
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, list) or not 0 < len(files) <= MAX_PLANNED_FILES:
            continue
        planned = [_planned(entry) for entry in files]
        if None in planned:
            return None
        if len({p.path for p in planned}) == len(planned):
            return planned  # type: ignore[return-value]  # no None in it
    return None


def render_plan(plan: list[PlannedFile]) -> str:
    """The plan as each per-file request shows it."""
    parts = []
    for planned in plan:
        part = f"- {planned.path}: {planned.purpose}"
        if planned.interfaces.strip():
            part += "\n" + "\n".join(f"    {line}" for line in planned.interfaces.strip().splitlines())
        parts.append(part)
    return "\n".join(parts)


class PlanStream:
    """The entries of a plan, each returned by ``feed`` as soon as the streamed text has closed it.

    Only a block that opens like a plan near the answer's start is read. Reading stops for good at
    anything that would make ``parse_plan`` refuse it (an entry that is no file, a path out of the
    workspace, a path twice, too many files), at what is not JSON, and at an entry too long to be
    one file's: the entries returned are then what the answer began with, and the caller checks them
    against ``parse_plan``'s reading of the whole answer once it is complete.
    """

    #: A plan opens within this many characters of the answer's start (after a sentence or two).
    OPENS_WITHIN = 4000
    #: An entry longer than this stops the reading (each attempt to decode it reads it again).
    LONGEST_ENTRY = 20_000

    def __init__(self) -> None:
        self._text = ""
        self._at: int | None = None  # where the next entry starts; None: the list is not open yet
        self._paths: set[str] = set()
        self.stopped = False

    def feed(self, text: str) -> list[PlannedFile]:
        """Take the next piece of the answer; the entries it completed."""
        if self.stopped:
            return []
        searched = len(self._text)
        self._text += text
        if self._at is None:
            # Only the tail can hold an opening not seen before (``^`` needs a line start, not pos).
            opening = _PLAN_OPENING.search(self._text, max(0, searched - 200))
            if opening is None:
                self.stopped = len(self._text) > self.OPENS_WITHIN
                return []
            self._at = opening.end()
        elif "}" not in text and "]" not in text and "`" not in text:
            return []  # nothing that could close an entry, the list or the block
        return self._entries()

    def _entries(self) -> list[PlannedFile]:
        found: list[PlannedFile] = []
        while True:
            at = self._skip_separators(self._at or 0)
            self._text, self._at = self._text[at:], 0  # what came before is read
            if not self._text:
                return found  # the next entry has not begun
            if self._text[0] == "]":
                self.stopped = True  # the list is complete
                return found
            try:
                entry, end = _DECODER.raw_decode(self._text)
            except ValueError:
                # Not complete yet, unless the block closed on it or it is longer than any entry.
                self.stopped = "\n```" in self._text or len(self._text) > self.LONGEST_ENTRY
                return found
            planned = _planned(entry)
            if planned is None or planned.path in self._paths or len(self._paths) >= MAX_PLANNED_FILES:
                self.stopped = True
                return found
            self._paths.add(planned.path)
            found.append(planned)
            self._at = end

    def _skip_separators(self, at: int) -> int:
        while at < len(self._text) and (self._text[at].isspace() or self._text[at] == ","):
            at += 1
        return at


def _planned(entry: object) -> PlannedFile | None:
    """One entry of the plan, or None if it names no file inside the workspace."""
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        return None
    path = entry["path"].strip().removeprefix("./")
    if not path or path.startswith("/") or ".." in path.split("/"):
        return None
    return PlannedFile(path, str(entry.get("purpose", "")), _text(entry.get("interfaces", "")))


def _text(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(map(str, value))
    return str(value) if value else ""
