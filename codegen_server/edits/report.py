"""Failure reports worded for a person and for the model's retry."""

from __future__ import annotations

from collections.abc import Sequence

from codegen_server.edits.types import HunkFailure


def format_failures(failures: Sequence[HunkFailure]) -> str:
    """A plain-text report: which hunk failed, why, what was searched, and the closest lines."""
    parts: list[str] = []
    for f in failures:
        where = f"{f.path or '(no file)'} hunk {f.hunk_index + 1}" if f.hunk_index >= 0 else (f.path or "patch")
        head = f"{where} {f.header}".rstrip()
        block = [f"{head}: {f.reason}"]
        if f.searched:
            block.append("  searched for:")
            block += [f"    | {line}" for line in f.searched.splitlines()]
        if f.closest:
            block.append(f"  closest lines in the file (from line {f.closest_line}):")
            block += [f"    | {line}" for line in f.closest.splitlines()]
        parts.append("\n".join(block))
    return "\n\n".join(parts)
