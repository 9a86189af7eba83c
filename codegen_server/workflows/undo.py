"""Undo: return the workspace to a checkpoint of a run — its start, or any iteration.

Recipe:
1. Open the run (no id: the latest run, by ``started``, that left files changed) and its checkpoints.
2. Find the checkpoint: "start" (the default), a label ("iteration 3"), or an id ("0003").
3. Restore it byte for byte; the state just before is checkpointed too, so the undo can be undone.
4. Record what the run now leaves written (nothing, after a return to its start), so the next
   undo without an id goes on to the run before it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..store.checkpoints import CheckpointError, CheckpointStore
from .host import Host, WorkflowError
from .written import latest_undoable, record_written


@dataclass
class UndoResult:
    run_id: str
    restored_to: str
    written: list[str]
    removed: list[str]
    #: The checkpoint of the state before this undo (undo it with this id).
    before_undo: str
    #: Symlinks the checkpoint holds that point outside the workspace: not created.
    skipped_links: list[str] = field(default_factory=list)


async def undo(host: Host, run_id: str | None = None, checkpoint: str = "start") -> UndoResult:
    """Return the workspace to ``checkpoint`` of run ``run_id`` (None: the latest run that left files changed)."""
    if not run_id:
        run_id = await asyncio.to_thread(latest_undoable, host.store)
    run = host.store.open(run_id)
    try:
        store = CheckpointStore(host.root, run.dir)
        saved = await asyncio.to_thread(store.list)
    except CheckpointError as error:
        raise WorkflowError(str(error)) from None
    if not saved:
        raise WorkflowError(f"Run {run_id} has no checkpoints to return to.")
    wanted = next((c for c in saved if checkpoint in (c.id, c.label)), None)
    if wanted is None:
        names = ", ".join(f"{c.id} ({c.label})" for c in saved)
        raise WorkflowError(f"Run {run_id} has no checkpoint {checkpoint!r}; it has: {names}.")
    host.progress.phase(f"restoring {wanted.label}")
    try:
        result = await asyncio.to_thread(store.restore, wanted.id)
    except CheckpointError as error:
        raise WorkflowError(str(error)) from None
    await run.update_meta(undone_to=wanted.label)
    await record_written(run)
    return UndoResult(run_id, wanted.label, list(result.written), list(result.removed), result.safety.id,
                      list(result.skipped_links))
