"""Failure reports worded for a person and for the model's retry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codegen_server.edits.types import HunkFailure


def failure_record(failure: HunkFailure) -> dict[str, Any]:
    """The one failure shape every result reports (README "Failures"): ``{file, hunk, reason, closest}``.

    ``hunk`` is the 1-based hunk of the file's diff (null when the failure is no hunk's, e.g. an answer
    without any edit); ``closest`` the nearest text found in the file, or null. Text keeps its lines.
    """
    return {"file": failure.path or None,
            "hunk": failure.hunk_index + 1 if failure.hunk_index >= 0 else None,
            "reason": failure.reason,
            "closest": failure.closest or None}


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
