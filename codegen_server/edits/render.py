"""Unified diff text for computed changes (git-style a/ b/ headers)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from codegen_server.edits.types import FileChange

_NO_EOL = "\\ No newline at end of file\n"


def _opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib opcodes, with the common head and tail trimmed first: matching is the slow part."""
    p = 0
    limit = min(len(a), len(b))
    while p < limit and a[p] == b[p]:
        p += 1
    s = 0
    while s < limit - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    middle = difflib.SequenceMatcher(None, a[p : len(a) - s], b[p : len(b) - s]).get_opcodes()
    ops = [("equal", 0, p, 0, p)] + [(t, i1 + p, i2 + p, j1 + p, j2 + p) for t, i1, i2, j1, j2 in middle]
    ops.append(("equal", len(a) - s, len(a), len(b) - s, len(b)))
    merged: list[tuple[str, int, int, int, int]] = []
    for op in ops:
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if merged and op[0] == "equal" and merged[-1][0] == "equal":
            merged[-1] = ("equal", merged[-1][1], op[2], merged[-1][3], op[4])
        else:
            merged.append(op)
    return merged or [("equal", 0, 0, 0, 0)]


def _range(start: int, length: int) -> str:
    first = start + 1 if length else start
    return f"{first}" if length == 1 else f"{first},{length}"


def _line(prefix: str, text: str) -> list[str]:
    # A CR-only line ends in "\r": it has its ending (the marker is for a last line without one).
    return [prefix + text] if text.endswith(("\n", "\r")) else [prefix + text + "\n", _NO_EOL]


def _diff_lines(old: str, new: str, old_name: str, new_name: str, context: int = 3) -> list[str]:
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    if a == b:
        return []
    matcher = difflib.SequenceMatcher()  # only hosts get_grouped_opcodes, which reads cached opcodes
    matcher.opcodes = _opcodes(a, b)
    out = [f"--- {old_name}\n", f"+++ {new_name}\n"]
    for group in matcher.get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2 - i1)} +{_range(j1, j2 - j1)} @@\n")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                for text in a[a1:a2]:
                    out += _line(" ", text)
                continue
            for text in a[a1:a2]:
                out += _line("-", text)
            for text in b[b1:b2]:
                out += _line("+", text)
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
            out.append(f"new file mode {'100755' if ch.mode and ch.mode & 0o111 else '100644'}\n")
        elif ch.kind == "delete":
            out.append("deleted file mode 100644\n")
        elif ch.kind == "rename":
            out += [f"rename from {ch.path}\n", f"rename to {new_path}\n"]
        out += _diff_lines(ch.old_text or "", ch.new_text or "", old_name, new_name)
    return "".join(out)
