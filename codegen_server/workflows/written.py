"""What a writing run changed: its start checkpoint, the files written since, and which run to undo.

Every run that writes (generate, feedback, markers, apply, fix) saves a ``start`` checkpoint right
before its first write and names it in run.json (``start_checkpoint``); when it ends — done, failed
or cancelled — ``written`` in run.json lists the files that differ from that start. Undo without a
run id takes the latest run (by ``started``) that left files changed; a cancelled command reports
what stays written and the run to undo.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..store import Run, RunStore
from ..store.checkpoints import Checkpoint, CheckpointError, CheckpointStore
from .host import WorkflowError

#: Files a cancel message names before it says "and N more".
_NAMED = 5


async def save_start(run: Run) -> Checkpoint:
    """The run's start checkpoint: saved now (the workspace before its first write), or the one it has."""
    store = CheckpointStore(run.root, run.dir)
    known = (await run.meta()).get("start_checkpoint")
    try:
        if isinstance(known, str) and known:
            return await asyncio.to_thread(store.get, known)
        start = await asyncio.to_thread(store.save, "start")
    except CheckpointError as error:
        raise WorkflowError(str(error)) from None
    await run.update_meta(start_checkpoint=start.id)
    return start


async def record_written(run: Run) -> list[str] | None:
    """Record in run.json, and return, the files that differ from the run's start; None when it has
    no start checkpoint (it never came to writing)."""
    start = (await run.meta()).get("start_checkpoint")
    if not isinstance(start, str) or not start:
        return None
    try:
        written = await asyncio.to_thread(CheckpointStore(run.root, run.dir).changed_since, start)
    except CheckpointError as error:
        raise WorkflowError(str(error)) from None
    await run.update_meta(written=written)
    return written


def latest_undoable(store: RunStore) -> str:
    """The id of the latest run (by ``started``) that left files changed and has a start to return to.

    Blocking (it reads every run.json); raises WorkflowError when there is none.
    """
    run = next((r for r in store.list_runs() if r.undoable), None)
    if run is None:
        raise WorkflowError("No run of this workspace left files changed: there is nothing to undo.")
    return run.id


@dataclass
class CancelReport:
    """What a cancelled command leaves behind, for its answer."""

    #: The run to undo (its latest run that came to writing), or None when none did.
    run_id: str | None = None
    #: Files that differ from that run's start: what stays written.
    written: list[str] = field(default_factory=list)
    #: Where the run returned the workspace when cancelled ("start", "iteration 2"), or None.
    restored_to: str | None = None

    def sentence(self, title: str) -> str:
        """``title`` was cancelled, and what that left: "nothing was written" only when that is true."""
        returned = f"; the workspace was returned to {self.restored_to}" if self.restored_to else ""
        if not self.written:
            return f"{title} was cancelled{returned}; nothing stays written." if returned else \
                f"{title} was cancelled; nothing was written."
        named = ", ".join(self.written[:_NAMED]) + (f" and {len(self.written) - _NAMED} more"
                                                     if len(self.written) > _NAMED else "")
        return (f"{title} was cancelled{returned}; {len(self.written)} file(s) stay written: {named}. "
                f"Undo run {self.run_id} to return to its start.")


async def record_all_written(stores: Sequence[RunStore]) -> None:
    """Record ``written`` in every run of ``stores`` that came to writing: a failed command's runs
    too leave the truth in run.json, so undo's default and the run list see what they changed."""
    for run in [run for store in stores for run in store.touched]:
        await record_written(run)


async def cancel_report(stores: Sequence[RunStore]) -> CancelReport:
    """The report for a cancelled command whose workflow used ``stores``.

    Its first run that came to writing is the one to undo (a generate that went on into a fix: the
    generate, whose start precedes the fix's), with the files now differing from that start; where
    the workspace was returned to comes from the run that returned it (a fix). Every such run
    records its own ``written`` on the way.
    """
    report: CancelReport | None = None
    for run in [run for store in stores for run in store.touched]:
        meta = await run.meta()
        if not meta.get("start_checkpoint"):
            continue
        written = await record_written(run) or []
        if report is None:
            report = CancelReport(run.id, written)
        restored = meta.get("restored_to")
        if isinstance(restored, str):
            report.restored_to = restored
    return report or CancelReport()
