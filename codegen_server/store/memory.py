"""The workspace's memory: standing preferences every prompt includes (`.codegen/memory.md`).

Plain Markdown a person reads, edits and commits: a heading, a line saying what the file is,
then one ``- `` bullet per preference. Anything else a user writes in it is kept as it is;
only the bullets are entries.

It is the workspace's content, so it is not sealed; but it goes to the model as instructions, so
it is read only as a regular file inside a real ``.codegen`` folder, never through a symlink (to a
secret outside, to ``/dev/zero`` or ``/dev/stdin``) and never past a size cap. One that is not is
ignored with a warning: nothing of it reaches the model, and ``remember``/``forget`` refuse to replace it.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..trust.files import STATE_DIR, RefusedPath, read_regular, state_dir, write_state
from ..trust.notices import ignored
from .runs import StateRefused, codegen_dir, refused

FILE_NAME = "memory.md"
#: The most of a memory file codegen reads: preferences, not a book.
MAX_BYTES = 256 * 1024
_HEADER = """# codegen memory

Standing preferences for this workspace. codegen includes them in every request it sends to the
model (generate, feedback, fix). Edit freely: one `- ` bullet per preference.
"""
_BULLET = re.compile(r"^[-*] +(?P<text>\S.*)$")
_REMEDY = (f"No preference from it is sent to the model; make it a regular file inside the workspace "
           f"(at most {MAX_BYTES // 1024} KiB)")


def memory_path(root: Path) -> Path:
    return root / STATE_DIR / FILE_NAME


def _read(root: Path) -> str | None:
    """The memory file's text, None when there is none; raises RefusedPath when it is not a plain file."""
    data = read_regular(state_dir(root) / FILE_NAME, MAX_BYTES)
    return None if data is None else data.decode("utf-8", errors="replace")


def _entries(text: str | None) -> list[str]:
    lines = (text or "").splitlines()
    return [m["text"].strip() for line in lines if (m := _BULLET.match(line.strip()))]


def read_entries(root: Path) -> list[str]:
    """The preferences remembered in ``root``, in order (none when the file does not exist or is ignored)."""
    try:
        return _entries(_read(root))
    except RefusedPath as error:
        ignored(error.path, f"it {error.why}", _REMEDY)
        return []


def _read_for_change(root: Path) -> str | None:
    """The memory's text before a change; raises StateRefused rather than replace a file it cannot read."""
    try:
        return _read(root)
    except RefusedPath as error:
        raise StateRefused(f"{error}; codegen neither reads nor replaces it: make it a regular file inside "
                           "the workspace. Nothing was written.") from None


def _write(root: Path, text: str) -> None:
    try:
        write_state(codegen_dir(root) / FILE_NAME, text.encode("utf-8"))
    except RefusedPath as error:
        raise refused(error) from None


def remember(root: Path, preference: str) -> list[str]:
    """Append ``preference`` (one line; not added twice) and return every entry."""
    entry = " ".join(preference.split())
    if not entry:
        raise ValueError("a preference to remember cannot be empty")
    text = _read_for_change(root)
    entries = _entries(text)
    if entry in entries:
        return entries
    text = _HEADER if text is None else text
    if not text.endswith("\n"):
        text += "\n"
    _write(root, f"{text}- {entry}\n")
    return entries + [entry]


def forget(root: Path, number: int) -> list[str]:
    """Remove entry ``number`` (1-based, as `codegen memory` lists them) and return the rest."""
    text = _read_for_change(root)
    entries = _entries(text)
    if not 1 <= number <= len(entries):
        raise IndexError(f"there is no memory entry {number}: the memory holds {len(entries)}")
    lines = (text or "").splitlines(keepends=True)
    seen = 0
    for index, line in enumerate(lines):
        if _BULLET.match(line.strip()):
            seen += 1
            if seen == number:
                del lines[index]
                break
    _write(root, "".join(lines))
    return entries[:number - 1] + entries[number:]


def prompt_section(root: Path) -> str:
    """The memory as a section of a system prompt, or "" when nothing is remembered."""
    entries = read_entries(root)
    if not entries:
        return ""
    bullets = "\n".join(f"- {entry}" for entry in entries)
    return ("# The user's standing preferences for this workspace\n"
            "Follow these in everything you write here unless the request says otherwise:\n" + bullets)
