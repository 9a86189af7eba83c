"""Apply: put a model-written patch into the workspace, or explain precisely why not.

Recipe:
1. Plan the patch against the workspace (editor buffers win over disk); nothing is written.
2. If any hunk failed and this is not a salvage run, stop: report the failures, write nothing.
3. Otherwise (unless a dry run) hand every change to the applier — the disk, atomically (all
   files or none), or the editor's preview.
The CLI (`codegen apply`) and the LSP command codegen.applyDiff both call apply_patch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..edits import HunkFailure, plan_patch
from .host import Applier, DiskApplier


@dataclass
class ApplyOutcome:
    """What apply_patch did: files [{path, action}], whether they were applied, and why not."""

    files: list[dict[str, str]] = field(default_factory=list)
    applied: bool = False
    failures: list[HunkFailure] = field(default_factory=list)
    diff: str = ""
    dry_run: bool = False
    #: Why nothing was applied although every hunk placed (the editor declined, apply was 'none').
    reason: str = ""


async def apply_patch(
    text: str,
    root: Path,
    *,
    buffers: Mapping[str, str] | None = None,
    salvage: bool = False,
    dry_run: bool = False,
    applier: Applier | None = None,
    label: str = "codegen: apply diff",
) -> ApplyOutcome:
    """Plan ``text`` against ``root`` and apply it unless refused or a dry run.

    The applier defaults to an atomic disk write. Raises EditError for unsafe paths, size
    limits and non-UTF-8 files.
    """
    plan = await asyncio.to_thread(plan_patch, text, root, buffers=buffers, salvage=salvage)
    files = [
        {"path": ch.path, "action": ch.kind, **({"newPath": ch.new_path} if ch.new_path else {})}
        for ch in plan.changes
    ]
    outcome = ApplyOutcome(files=files, failures=plan.failures, diff=plan.diff, dry_run=dry_run)
    if plan.failures and not salvage:
        outcome.reason = "some hunks did not apply; nothing was written"
        return outcome
    if dry_run or not plan.changes:
        outcome.reason = "dry run: nothing written" if dry_run else "the patch changes nothing"
        return outcome
    decision = await (applier or DiskApplier(root)).apply(plan.changes, label)
    outcome.applied, outcome.reason = decision.applied, decision.reason
    return outcome
