"""Apply: put a model-written patch into the workspace, or explain precisely why not.

Recipe:
1. Wait for this workspace's turn: one apply at a time per workspace in this process (and, for
   the disk, one writer at a time across processes: the lock under ``.codegen/writer/``).
2. Plan the patch against the workspace (editor buffers win over disk); nothing is written.
3. If any hunk failed and this is not a salvage run, stop: report the failures, write nothing
   in any file. Hunks already applied are reported and never applied twice. A change to a file
   that makes an editor, a shell or git run code is flagged (``sensitive``); bound for the disk,
   where nobody previews it, it stops the whole patch unless configuration edits are allowed.
4. Otherwise (unless a dry run) hand every change to the applier — the disk, atomically (all
   files or none, planned and written under the writer lock so no concurrent update is lost),
   or the editor's preview.
The LSP command codegen.applyDiff calls apply_patch; the CLI (`codegen apply`), which has no
event loop to keep free, calls apply_to_disk, the same steps 2-4 for the disk (and starts faster
without asyncio and the model stack).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..edits import HunkFailure, PatchResult, plan_patch, write_changes
from ..edits.lock import workspace_lock
from ..edits.sensitive import as_dicts, flag_changes
from ..edits.sensitive import refusal as sensitive_refusal

if TYPE_CHECKING:
    import asyncio

    from .host import Applier

# One apply at a time per workspace and event loop: a second one plans against the first's result.
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Path, asyncio.Lock]] = weakref.WeakKeyDictionary()


@dataclass
class ApplyOutcome:
    """What apply_patch / apply_to_disk did: files [{path, action}], whether they were applied, and why not."""

    files: list[dict[str, str]] = field(default_factory=list)
    applied: bool = False
    failures: list[HunkFailure] = field(default_factory=list)
    diff: str = ""
    dry_run: bool = False
    #: Why nothing was applied: a hunk did not place, a dry run, already applied or no change,
    #: or the applier's reason (the editor declined, apply was 'none'). Empty when applied.
    reason: str = ""
    #: Hunks whose result was already in the file: nothing was written for them.
    already_applied: list[HunkFailure] = field(default_factory=list)
    #: Fenced blocks that are no diff and name no file: not applied, and said so.
    not_understood: list[HunkFailure] = field(default_factory=list)
    #: Changed files that make an editor, a shell or git run code: [{path, why}] (``edits.sensitive``).
    sensitive: list[dict[str, str]] = field(default_factory=list)
    #: The run that recorded it (``apply_run``: codegen.applyDiff, MCP's apply_diff), to undo; "" when none
    #: did (the CLI, a dry run).
    run_id: str = ""


#: Why a change with a hunk that did not place was not written; each result's ``failures`` say which and why.
NOT_PLACED = "some hunks did not apply; nothing was written"


def refusal(plan: PatchResult, salvage: bool, *, previewed: bool = True) -> str:
    """Why the plan must not be written at all ("" when it may): all or nothing across files.

    A plan nobody previews (``previewed=False``: straight to disk) must not write a file that
    makes something run code; pass True when configuration edits are allowed.
    """
    if plan.failures and not salvage:
        return NOT_PLACED
    if not previewed:
        return sensitive_refusal(flag_changes(plan.changes))
    return ""


def _turn(root: Path) -> asyncio.Lock:
    import asyncio

    locks = _turns.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(root, asyncio.Lock())


def _plan_and_write(text: str, root: Path, buffers: Mapping[str, str] | None, salvage: bool,
                    allow_config_edits: bool) -> tuple[PatchResult, bool]:
    """Plan and write under the writer lock, so the plan reads what no other writer changes before
    the write; returns the plan and whether it was written."""
    with workspace_lock(root):
        plan = plan_patch(text, root, buffers=buffers, salvage=salvage)
        if refusal(plan, salvage, previewed=allow_config_edits) or not plan.changes:
            return plan, False
        write_changes(root, plan.changes)
        return plan, True


def apply_to_disk(text: str, root: Path, *, salvage: bool = False, dry_run: bool = False,
                  allow_config_edits: bool = False) -> ApplyOutcome:
    """Plan ``text`` against the files under ``root`` and write it unless refused or a dry run.

    A change to a file that makes something run code is refused unless ``allow_config_edits``.
    Blocking (it takes the writer lock). Raises EditError for unsafe paths, size limits and
    non-UTF-8 files.
    """
    if dry_run:
        plan, written = plan_patch(text, root, salvage=salvage), False
    else:
        plan, written = _plan_and_write(text, root, None, salvage, allow_config_edits)
    outcome = _outcome(plan, salvage, dry_run, previewed=dry_run or allow_config_edits)
    outcome.applied = written and not outcome.reason
    return outcome


def _outcome(plan: PatchResult, salvage: bool, dry_run: bool, *, previewed: bool) -> ApplyOutcome:
    """What the plan means before any applier ran: its files and failures, and why it stops here
    (refused, a dry run, nothing to change), or no reason when it is to be applied."""
    outcome = ApplyOutcome(
        files=[{"path": ch.path, "action": ch.kind, **({"newPath": ch.new_path} if ch.new_path else {})}
               for ch in plan.changes],
        failures=plan.failures, diff=plan.diff, dry_run=dry_run,
        already_applied=plan.already_applied, not_understood=plan.not_understood,
        sensitive=as_dicts(flag_changes(plan.changes)))
    outcome.reason = refusal(plan, salvage, previewed=previewed)
    if not outcome.reason and (dry_run or not plan.changes):
        outcome.reason = ("dry run: nothing written" if dry_run
                          else "already applied: nothing written" if plan.already_applied
                          else "the patch changes nothing")
    return outcome


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
    import asyncio

    from .host import DiskApplier

    to_disk = not dry_run and (applier is None or isinstance(applier, DiskApplier))
    # The disk previews nothing: only its own allowance lets a file that runs code through.
    previewed = not to_disk or (isinstance(applier, DiskApplier) and applier.allow_config_edits)
    async with _turn(root):
        if to_disk:
            plan, written = await asyncio.to_thread(_plan_and_write, text, root, buffers, salvage, previewed)
        else:
            plan, written = await asyncio.to_thread(plan_patch, text, root, buffers=buffers, salvage=salvage), False
        outcome = _outcome(plan, salvage, dry_run, previewed=previewed)
        if outcome.reason:
            return outcome
        if to_disk:
            outcome.applied = written
            return outcome
        assert applier is not None
        decision = await applier.apply(plan.changes, label)
        outcome.applied, outcome.reason = decision.applied, decision.reason
        return outcome
