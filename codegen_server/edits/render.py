"""Unified diff text for computed changes (git-style a/ b/ headers)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from codegen_server.edits.types import FileChange

_NO_EOL = "\\ No newline at end of file\n"


def _diff_lines(old: str, new: str, old_name: str, new_name: str) -> list[str]:
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    out: list[str] = []
    for line in difflib.unified_diff(a, b, old_name, new_name, n=3):
        if line.endswith("\n"):
            out.append(line)
        else:
            out += [line + "\n", _NO_EOL]  # a last line without newline, marked as git does
    return out


def diff_texts(path: str, old: str | None, new: str | None) -> FileChange:
    """A FileChange from two texts (None meaning the file is absent)."""
    kind = "create" if old is None else "delete" if new is None else "modify"
    return FileChange(path, kind, old, new)


def render_diff(changes: Sequence[FileChange]) -> str:
    """One unified diff for all changes, with git-style headers."""
    out: list[str] = []
    for ch in changes:
        new_path = ch.new_path or ch.path
        old_name = "/dev/null" if ch.old_text is None else f"a/{ch.path}"
        new_name = "/dev/null" if ch.new_text is None else f"b/{new_path}"
        out.append(f"diff --git a/{ch.path} b/{new_path}\n")
        if ch.kind == "create":
            out.append("new file mode 100644\n")
        elif ch.kind == "delete":
            out.append("deleted file mode 100644\n")
        elif ch.kind == "rename":
            out += [f"rename from {ch.path}\n", f"rename to {new_path}\n"]
        body = _diff_lines(ch.old_text or "", ch.new_text or "", old_name, new_name)
        out += body
    return "".join(out)
