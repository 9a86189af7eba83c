"""The workspace's memory: standing preferences every prompt includes (`.codegen/memory.md`).

Plain Markdown a person reads, edits and commits: a heading, a line saying what the file is,
then one ``- `` bullet per preference. Anything else a user writes in it is kept as it is;
only the bullets are entries.
"""

from __future__ import annotations

import re
from pathlib import Path

from .runs import _atomic_write, codegen_dir

FILE_NAME = "memory.md"
_HEADER = """# codegen memory

Standing preferences for this workspace. codegen includes them in every request it sends to the
model (generate, feedback, fix). Edit freely: one `- ` bullet per preference.
"""
_BULLET = re.compile(r"^[-*] +(?P<text>\S.*)$")


def memory_path(root: Path) -> Path:
    return root / ".codegen" / FILE_NAME


def read_entries(root: Path) -> list[str]:
    """The preferences remembered in ``root``, in order (none when the file does not exist)."""
    try:
        text = memory_path(root).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [m["text"].strip() for line in text.splitlines() if (m := _BULLET.match(line.strip()))]


def remember(root: Path, preference: str) -> list[str]:
    """Append ``preference`` (one line; not added twice) and return every entry."""
    entry = " ".join(preference.split())
    if not entry:
        raise ValueError("a preference to remember cannot be empty")
    entries = read_entries(root)
    if entry in entries:
        return entries
    path = memory_path(root)
    codegen_dir(root)
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    if not text.endswith("\n"):
        text += "\n"
    _atomic_write(path, f"{text}- {entry}\n")
    return entries + [entry]


def forget(root: Path, number: int) -> list[str]:
    """Remove entry ``number`` (1-based, as `codegen memory` lists them) and return the rest."""
    entries = read_entries(root)
    if not 1 <= number <= len(entries):
        raise IndexError(f"there is no memory entry {number}: the memory holds {len(entries)}")
    path = memory_path(root)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    seen = 0
    for index, line in enumerate(lines):
        if _BULLET.match(line.strip()):
            seen += 1
            if seen == number:
                del lines[index]
                break
    _atomic_write(path, "".join(lines))
    return entries[:number - 1] + entries[number:]


def prompt_section(root: Path) -> str:
    """The memory as a section of a system prompt, or "" when nothing is remembered."""
    entries = read_entries(root)
    if not entries:
        return ""
    bullets = "\n".join(f"- {entry}" for entry in entries)
    return ("# The user's standing preferences for this workspace\n"
            "Follow these in everything you write here unless the request says otherwise:\n" + bullets)
