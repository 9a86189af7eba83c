"""Apply as a run: the patch codegen.applyDiff is given, recorded as a run of kind ``apply`` that undo can reverse.

Recipe:
1. Start a run of kind ``apply`` and keep the patch it was given (``input.patch``, for people).
2. Unless nothing is to be written (apply 'none'), checkpoint the workspace as it is: the run's start.
3. Apply the patch as ``apply.apply_patch`` does (editor buffers first, all files or none).
4. Record the outcome and the files that differ from the start (``written``).
"""

from __future__ import annotations

import asyncio

from .apply import ApplyOutcome, apply_patch
from .host import Applier, Host, PreviewOnly
from .written import record_written, save_start


async def apply_run(host: Host, text: str, *, salvage: bool = False, applier: Applier | None = None) -> ApplyOutcome:
    """Apply ``text`` to the workspace through ``applier`` (None: the disk) as a run; the outcome names it."""
    run = await host.store.create("apply")
    await run.write_text("input.patch", text)
    if not isinstance(applier, PreviewOnly):
        await save_start(run)
    try:
        outcome = await apply_patch(text, host.root, buffers=dict(host.open_buffers()), salvage=salvage,
                                    applier=applier)
    except asyncio.CancelledError:
        await run.update_meta(status="cancelled")
        raise
    outcome.run_id = run.id
    await run.update_meta(status="applied" if outcome.applied else "not-applied",
                          outcome={"applied": outcome.applied, "reason": outcome.reason, "files": outcome.files})
    await record_written(run)
    return outcome
