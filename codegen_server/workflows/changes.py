"""Steps shared by generate, feedback and fix: ask the model for a change, turn it into edits, offer them.

The answer goes through the edits engine. Before anything is applied, in the same conversation:
`SHOW:` requests (and a whole-file answer for an existing file the model was not shown whole) are
answered with the code, for a few rounds within a token budget (rewrites.py, show.py); an answer
that neither edits nor asks gets one reminder of what it may answer; when some hunks cannot be
placed, the precise failures go back to the model once, each with the whole function around the
closest match. A rewrite still blind after that is refused for that file.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..context.shown import quote_around
from ..edits import PatchResult, failure_record, format_failures, plan_patch, render_diff
from ..edits.paths import read_workspace_text
from ..edits.sensitive import as_dicts, flag_changes
from ..edits.types import EditLimits, HunkFailure
from ..model import Message
from ..store import Run
from .apply import NOT_PLACED
from .host import Applier, Host, PreviewOnly, WorkflowError
from .model_call import ask
from .rewrites import blind_rewrites, build_follow_up, change_summary, conversation_text, whole_file_paths, without
from .show import MAX_SHOW_ROUNDS, SHOW_BUDGET, ShowRequest, show_requests
from .written import record_written, save_start


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
    #: Per changed existing file: replaced whole or edited, and how much of it changed.
    rewritten_files: list[dict] = field(default_factory=list)
    #: Files left untouched, with the reason (a blind whole-file rewrite).
    refused: list[str] = field(default_factory=list)
    #: Changed files that make an editor, a shell or git run code: [{path, why}] (``edits.sensitive``).
    sensitive: list[dict] = field(default_factory=list)
    #: A note for each file the user took only in part, or not at all, in a file-by-file review.
    left_out: list[str] = field(default_factory=list)


@dataclass
class ProposedChange:
    """The model's last answer, the edits it makes, and what the asking cost."""

    answer: str
    patch: PatchResult
    usage: dict = field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    #: Per changed existing file: {path, whole_file, lines, changed_lines, changed_share}.
    rewritten_files: list[dict] = field(default_factory=list)
    #: Files whose change was refused, each with the reason.
    refused: list[str] = field(default_factory=list)
    #: What the follow-ups showed, and the requests answered without code (``path: why``).
    shown: list[str] = field(default_factory=list)
    not_shown: list[str] = field(default_factory=list)
    #: Requests to see code left unanswered: the rounds or the token budget ran out.
    unanswered: list[str] = field(default_factory=list)
    #: The requests whose code was shown, to show again in a later turn (the fix loop).
    requests: list[ShowRequest] = field(default_factory=list)


@dataclass
class _Turn:
    """What one turn's follow-ups have used so far, and the run's record of them."""

    purpose: str
    spend_limit: int | None
    rounds: int = 0
    budget: int = SHOW_BUDGET
    set_aside: set[str] = field(default_factory=set)
    rewrites: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    reminded: bool = False

    def spent(self, proposal: ProposedChange) -> bool:
        used = proposal.usage["prompt_tokens"] + proposal.usage["completion_tokens"]
        return self.spend_limit is not None and used >= self.spend_limit


def _never(answer: str) -> bool:
    return False


def retry_request(failures: list[HunkFailure], root: Path | None = None,
                  buffers: Mapping[str, str] | None = None) -> str:
    """The message that sends failed hunks back to the model for a corrected answer.

    With ``root``, each hunk that has a closest match comes with the whole function (or class)
    around that match as the file holds it now, so the model can copy its context exactly.
    """
    parts = ["Some of your changes could not be applied, so nothing was written:", format_failures(failures)]
    if root is not None:
        shown: set[tuple[str, str]] = set()
        for failure in failures:
            if not failure.path or not failure.closest_line:
                continue
            text = (buffers or {}).get(failure.path)
            if text is None:
                try:
                    text = read_workspace_text(root, failure.path, EditLimits())
                except (OSError, ValueError):  # EditError is a ValueError
                    continue
            if text is None:
                continue
            first = failure.closest_line - 1
            excerpt = quote_around(failure.path, text, first, first + max(1, len(failure.closest.splitlines())) - 1)
            if (failure.path, excerpt) not in shown:
                shown.add((failure.path, excerpt))
                parts.append(f"{failure.path} around the closest match, as it is now (line numbers are not "
                             f"part of the file):\n{excerpt}")
    parts.append("Answer again with the complete corrected change: copy context lines exactly from the files.")
    return "\n\n".join(parts)


async def ask_for_changes(host: Host, run: Run, purpose: str, messages: list[Message], *,
                          salvage: bool = False, require_edit: bool = True,
                          settled: Callable[[str], bool] = _never, spend_limit: int | None = None,
                          on_text: Callable[[str], None] | None = None) -> ProposedChange:
    """Ask, plan the answer's edits against the workspace (editor buffers first), and before
    anything is applied: answer its requests to see code and its blind rewrites (a few rounds),
    remind an answer that neither edits nor asks (once), retry failed hunks (once), and refuse a
    whole-file rewrite of a file it never saw whole.

    ``messages`` grows with the conversation (the follow-ups are recorded in the run as calls
    ``<purpose>-show``, ``-show-2``.., ``<purpose>-remind`` and ``<purpose>-retry``; what was shown
    in ``shown/<purpose>.json``, blind rewrites in ``rewrites/<purpose>.json``). ``settled`` tells
    an answer that rightly holds no edit (a question, INSTALL lines); ``spend_limit`` caps the
    tokens the turn may spend on follow-ups. With ``require_edit``, no edit at all raises WorkflowError.
    ``on_text`` gets the first answer's text as it streams (not the follow-ups').
    """
    turn = _Turn(purpose, spend_limit)
    proposal = await _ask_once(host, run, purpose, messages, salvage, ProposedChange("", PatchResult()),
                               on_text=on_text)
    proposal = await _show_rounds(host, run, turn, messages, proposal, salvage=salvage)
    if (not _has_edit(proposal.patch) and not show_requests(proposal.answer) and not settled(proposal.answer)
            and not turn.spent(proposal)):
        turn.reminded = True
        messages.append({"role": "user", "content": _reminder(proposal.patch)})
        proposal = await _ask_once(host, run, f"{purpose}-remind", messages, salvage, proposal)
        proposal = await _show_rounds(host, run, turn, messages, proposal, salvage=salvage)
    if proposal.patch.failures:
        buffers = dict(host.open_buffers())
        request = await asyncio.to_thread(retry_request, proposal.patch.failures, host.root, buffers)
        messages.append({"role": "user", "content": request})
        proposal = await _ask_once(host, run, f"{purpose}-retry", messages, salvage, proposal)
    if require_edit and not proposal.patch.changes and not proposal.patch.failures:
        raise WorkflowError("The model's answer held no files or diffs; nothing to apply. "
                            f"See {run.dir / 'calls'} for what it said.")
    blind = blind_rewrites(proposal.answer, proposal.patch, conversation_text(messages[:-1]))
    if blind:
        paths = {c.path for c in blind}
        proposal.patch = without(proposal.patch, paths)
        proposal.refused = [f"{p}: not changed — the answer replaced the whole file without having been shown "
                            "all of it, which would drop what it did not see; ask for a diff against the file"
                            for p in sorted(paths)]
        turn.rewrites += [{"path": p, "decision": "refused: rewritten blind"} for p in sorted(paths)]
    proposal.rewritten_files = change_summary(proposal.patch.changes, whole_file_paths(proposal.answer))
    if turn.rewrites:
        await run.write_json(f"rewrites/{purpose}.json", {"decisions": turn.rewrites})
    await _record_requests(run, turn, proposal)
    return proposal


async def ask_and_show(host: Host, run: Run, purpose: str, messages: list[Message], *,
                       spend_limit: int | None = None) -> ProposedChange:
    """Ask for an answer in prose (a diagnosis), answering its `SHOW:` requests first (a few rounds)."""
    turn = _Turn(purpose, spend_limit)
    proposal = await _ask_once(host, run, purpose, messages, False, ProposedChange("", PatchResult()), edits=False)
    proposal = await _show_rounds(host, run, turn, messages, proposal, salvage=False, edits=False)
    await _record_requests(run, turn, proposal)
    return proposal


async def _show_rounds(host: Host, run: Run, turn: _Turn, messages: list[Message], proposal: ProposedChange, *,
                       salvage: bool, edits: bool = True) -> ProposedChange:
    """Answer the answer's requests to see code and its blind rewrites, and ask again, while rounds last."""
    while True:
        if turn.rounds >= MAX_SHOW_ROUNDS or turn.spent(proposal):
            proposal.unanswered += [r.text for r in show_requests(proposal.answer)]
            return proposal
        follow_up = await asyncio.to_thread(
            build_follow_up, host.root, dict(host.open_buffers()), proposal.answer, proposal.patch,
            conversation_text(messages[:-1]), budget=turn.budget, set_aside=turn.set_aside,
            last_round=turn.rounds + 1 == MAX_SHOW_ROUNDS)
        if follow_up is None:
            return proposal
        turn.rounds += 1
        call = f"{turn.purpose}-show" + (f"-{turn.rounds}" if turn.rounds > 1 else "")
        turn.budget -= follow_up.tokens
        turn.set_aside |= set(follow_up.set_aside)
        turn.rewrites += [{"path": p, "decision": "set aside, file sent", "call": call} for p in follow_up.set_aside]
        turn.requests += [served.record(call) for served in follow_up.served]
        for served in follow_up.served:
            if served.shown and served.label:
                proposal.shown.append(served.label)
                proposal.requests.append(served.request)
            elif served.text:
                proposal.not_shown.append(served.text)
            else:
                proposal.unanswered.append(served.request.text)
        messages.append({"role": "user", "content": follow_up.message})
        proposal = await _ask_once(host, run, call, messages, salvage, proposal, edits=edits)


async def _record_requests(run: Run, turn: _Turn, proposal: ProposedChange) -> None:
    if turn.requests or proposal.unanswered or turn.reminded:
        await run.write_json(f"shown/{turn.purpose}.json", {"requests": turn.requests, "unanswered": proposal.unanswered,
                                                            "rounds": turn.rounds, "reminded": turn.reminded})


def _reminder(patch: PatchResult) -> str:
    """The one reminder for an answer that neither edits nor asks to see code."""
    unnamed = (" (a fenced block with no file path on the line before it is not applied)"
               if patch.not_understood else "")
    return (f"Your answer held no change codegen can apply{unnamed}, and no SHOW line, so nothing was done. "
            "Answer again in one of the forms the system message describes: the change itself, or SHOW lines "
            "to see code first.")


async def _ask_once(host: Host, run: Run, purpose: str, messages: list[Message], salvage: bool,
                    previous: ProposedChange, *, edits: bool = True,
                    on_text: Callable[[str], None] | None = None) -> ProposedChange:
    completion = await ask(host, run, purpose, messages, on_text=on_text)
    messages.append({"role": "assistant", "content": completion.text})
    usage = {"prompt_tokens": previous.usage["prompt_tokens"] + completion.usage.prompt_tokens,
             "completion_tokens": previous.usage["completion_tokens"] + completion.usage.completion_tokens,
             # The server reported no usage for some call: counted locally with our tokenizer.
             "estimated": previous.usage.get("estimated", False) or completion.usage.estimated}
    patch = PatchResult()
    if edits:
        patch = await asyncio.to_thread(plan_patch, completion.text, host.root,
                                        buffers=dict(host.open_buffers()), salvage=salvage)
        if _holds_no_edit(patch):
            patch = PatchResult(not_understood=patch.not_understood)  # prose only: not a failed edit
    return ProposedChange(completion.text, patch, usage, shown=previous.shown, not_shown=previous.not_shown,
                          unanswered=previous.unanswered, requests=previous.requests)


def answer_prose(answer: str) -> str:
    """What the model said about its change: the answer without its fenced blocks, diffs and the
    lines that only name a file block (the summary a preview shows)."""
    text = re.sub(r"^```.*?^```[^\n]*$", "", answer, flags=re.MULTILINE | re.DOTALL)
    kept = [line for line in text.splitlines()
            if not _BLOCK_NAME.match(line) and not line.startswith(("--- ", "+++ ", "@@", "diff --git"))]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


#: A line that only names the file block under it: `calc/ops.py`, **calc/ops.py**, calc/ops.py:
_BLOCK_NAME = re.compile(r"^\W{0,3}[\w./-]+\.\w+\W{0,3}:?\s*$")


def _has_edit(patch: PatchResult) -> bool:
    return bool(patch.changes or patch.failures)


def _holds_no_edit(patch: PatchResult) -> bool:
    """Whether the answer held no diff or file block at all (the planner reports that as one failure)."""
    return not patch.changes and all(f.hunk_index == -1 and not f.path for f in patch.failures) \
        and bool(patch.failures)


async def offer_changes(run: Run, applier: Applier, proposal: ProposedChange, *, label: str,
                        description: str = "", **outcome: object) -> ChangeOutcome:
    """Apply the proposal unless some hunk failed; record the diff and the outcome in ``run``.

    Right before anything can be written, the workspace is checkpointed as the run's start, and
    afterwards the files that differ from it are recorded (``written``): undo returns to that start.

    ``description`` (the model's explanation or summary) goes with the change to the applier;
    ``outcome`` adds fields to the outcome stored in run.json (an explanation, say).
    """
    patch = proposal.patch
    if patch.failures:
        failures = [failure_record(f) for f in patch.failures]
        await run.write_json("failures.json", {"failures": failures})
        await run.update_meta(status="failed", outcome="edits did not apply")
        return ChangeOutcome(run.id, [], patch.diff, False, "none", NOT_PLACED, failures,
                             proposal.usage, proposal.rewritten_files, proposal.refused)
    if not patch.changes and proposal.refused:
        await run.update_meta(status="refused", outcome={"applied": False, "refused": proposal.refused, **outcome})
        return ChangeOutcome(run.id, [], "", False, "none", "; ".join(proposal.refused), [], proposal.usage,
                             proposal.rewritten_files, proposal.refused)
    await run.write_text("diff.patch", patch.diff)
    sensitive = as_dicts(flag_changes(patch.changes))
    if not isinstance(applier, PreviewOnly):
        await save_start(run)  # what undo returns to: the workspace right before this run's first write
    decision = await applier.apply(patch.changes, label=label, description=description)
    # Reviewed file by file or hunk by hunk in the editor: what landed is the outcome, and the diff too.
    landed = patch.changes if decision.landed is None else decision.landed
    files = [{"path": c.path, "action": c.kind} for c in landed]
    diff = patch.diff if decision.landed is None else render_diff(landed)
    if decision.landed is not None:
        await run.write_text("diff.patch", diff)
    await record_written(run)
    left_out = {"left_out": decision.left_out} if decision.left_out else {}
    await run.update_meta(status="applied" if decision.applied else "not-applied",
                          outcome={"applied": decision.applied, "how": decision.how, "reason": decision.reason,
                                   "files": files, "usage": proposal.usage, "rewritten_files": proposal.rewritten_files,
                                   "refused": proposal.refused, "sensitive": sensitive, **left_out, **outcome})
    return ChangeOutcome(run.id, files, diff, decision.applied, decision.how, decision.reason, [],
                         proposal.usage, proposal.rewritten_files, proposal.refused, sensitive, decision.left_out)
