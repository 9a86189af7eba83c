"""Steps shared by generate, feedback and fix: ask the model for a change, turn it into edits, offer them.

The answer goes through the edits engine; when some hunks cannot be placed, the
precise failures go back to the model once for a corrected answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field

from ..edits import PatchResult, format_failures, plan_patch
from ..edits.types import HunkFailure
from ..model import Message
from ..store import Run
from .host import Applier, Host, WorkflowError
from .model_call import ask


@dataclass
class ChangeOutcome:
    """What became of a change the model proposed (generate, feedback)."""

    run_id: str
    files: list[dict]
    diff: str
    applied: bool
    apply: str
    reason: str = ""
    failures: list[dict] = field(default_factory=list)
    usage: dict = field(default_factory=dict)


@dataclass
class ProposedChange:
    """The model's last answer, the edits it makes, and what the asking cost."""

    answer: str
    patch: PatchResult
    usage: dict = field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})


def retry_request(failures: list[HunkFailure]) -> str:
    """The message that sends failed hunks back to the model for a corrected answer."""
    return ("Some of your changes could not be applied, so nothing was written:\n\n"
            + format_failures(failures)
            + "\n\nAnswer again with the complete corrected change: copy context lines exactly from the files.")


async def ask_for_changes(host: Host, run: Run, purpose: str, messages: list[Message], *,
                          salvage: bool = False, require_edit: bool = True) -> ProposedChange:
    """Ask, plan the answer's edits against the workspace (editor buffers first), retry failed hunks once.

    ``messages`` grows with the conversation. With ``require_edit``, an answer that holds no
    edit at all raises WorkflowError.
    """
    first = ProposedChange("", PatchResult())
    proposal = await _ask_once(host, run, purpose, messages, salvage, require_edit, first)
    if proposal.patch.failures:
        messages.append({"role": "user", "content": retry_request(proposal.patch.failures)})
        proposal = await _ask_once(host, run, f"{purpose}-retry", messages, salvage, require_edit, proposal)
    return proposal


async def _ask_once(host: Host, run: Run, purpose: str, messages: list[Message], salvage: bool,
                    require_edit: bool, previous: ProposedChange) -> ProposedChange:
    completion = await ask(host, run, purpose, messages)
    messages.append({"role": "assistant", "content": completion.text})
    usage = {"prompt_tokens": previous.usage["prompt_tokens"] + completion.usage.prompt_tokens,
             "completion_tokens": previous.usage["completion_tokens"] + completion.usage.completion_tokens}
    patch = await asyncio.to_thread(plan_patch, completion.text, host.root,
                                    buffers=dict(host.open_buffers()), salvage=salvage)
    if require_edit and not patch.changes and not patch.failures:
        raise WorkflowError("The model's answer held no files or diffs; nothing to apply. "
                            f"See {run.dir / 'calls'} for what it said.")
    return ProposedChange(completion.text, patch, usage)


async def offer_changes(run: Run, applier: Applier, proposal: ProposedChange, *, label: str,
                        **outcome: object) -> ChangeOutcome:
    """Apply the proposal unless some hunk failed; record the diff and the outcome in ``run``.

    ``outcome`` adds fields to the outcome stored in run.json (an explanation, say).
    """
    patch = proposal.patch
    if patch.failures:
        failures = [asdict(f) for f in patch.failures]
        await run.write_json("failures.json", failures)
        await run.update_meta(status="failed", outcome="edits did not apply")
        return ChangeOutcome(run.id, [], patch.diff, False, "none", format_failures(patch.failures), failures,
                             proposal.usage)
    await run.write_text("diff.patch", patch.diff)
    decision = await applier.apply(patch.changes, label=label)
    files = [{"path": c.path, "action": c.kind} for c in patch.changes]
    await run.update_meta(status="applied" if decision.applied else "not-applied",
                          outcome={"applied": decision.applied, "how": decision.how, "reason": decision.reason,
                                   "files": files, "usage": proposal.usage, **outcome})
    return ChangeOutcome(run.id, files, patch.diff, decision.applied, decision.how, decision.reason, [],
                         proposal.usage)
