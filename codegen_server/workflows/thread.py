"""A review thread: the earlier turns of a feedback conversation, kept in each run.

Every feedback run stores the whole thread so far in ``conversation.json`` (the earlier
turns plus its own, sealed like every run file codegen reads back), so a reply only needs the
runId of the last turn. A thread may start from a generate run: its prompt (from the sealed
run.json) and answer become the first turn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..store import Run

#: Characters of an earlier answer carried into a follow-up: the current code is sent fresh anyway.
ANSWER_CHARS = 6000


@dataclass
class Turn:
    """One exchange: what the user asked, what the model answered, and what became of it."""

    comment: str
    answer: str
    where: str = ""
    applied: bool = False
    outcome: str = ""
    files: list[str] = field(default_factory=list)


async def load_thread(run: Run) -> list[Turn]:
    """The turns of the thread that ``run`` ends (a feedback or a generate run)."""
    conversation = await run.read_json("conversation.json")
    if conversation is not None:
        return [Turn(**turn) for turn in conversation["turns"]]
    meta = await run.meta()
    prompt = meta.get("spec") or meta.get("prompt", "")
    answers = [call["response"]["content"] for call in run.calls() if "content" in call.get("response", {})]
    outcome = meta.get("outcome") if isinstance(meta.get("outcome"), dict) else {}
    return [Turn(comment=prompt, answer=answers[-1] if answers else "", where="the workspace",
                 applied=bool(outcome.get("applied")), outcome=_describe(outcome),
                 files=[f["path"] for f in outcome.get("files", [])])]


async def save_thread(run: Run, turns: list[Turn]) -> None:
    await run.write_json("conversation.json", {"turns": [asdict(turn) for turn in turns]})


def thread_messages(turns: list[Turn]) -> list[dict]:
    """The earlier turns as chat messages: each comment, each answer, and what became of it."""
    messages: list[dict] = []
    for number, turn in enumerate(turns):
        answer = turn.answer
        if len(answer) > ANSWER_CHARS:
            answer = answer[:ANSWER_CHARS] + "\n[... the rest of this answer is not repeated; the code as it is now follows]"
        before = f"What became of your previous answer: {turns[number - 1].outcome}\n\n" if number else ""
        messages.append({"role": "user", "content": f"{before}Feedback on {turn.where}:\n{turn.comment}"})
        messages.append({"role": "assistant", "content": answer})
    return messages


def outcome_text(applied: bool, how: str, reason: str, files: list[str], changed: bool,
                 left_out: list[str] | None = None) -> str:
    """How a turn ended, in words the model reads in the next turn; ``left_out`` says what of the change
    the user did not take in a file-by-file review."""
    if not changed:
        return "you proposed no change, so nothing was edited."
    if applied and left_out:
        taken = f"it was applied in part ({', '.join(files)})" if files else "none of it was applied"
        return f"{taken}. " + " ".join(f"{note}." for note in left_out)
    if applied:
        return f"it was applied ({', '.join(files)})."
    if how == "none" and reason:
        return f"it was not applied: {reason}"
    return f"the user did not apply it{': ' + reason if reason else ''}."


def _describe(outcome: dict) -> str:
    if not outcome:
        return "unknown (the run did not record it)."
    return outcome_text(bool(outcome.get("applied")), str(outcome.get("how", "")), str(outcome.get("reason", "")),
                        [f["path"] for f in outcome.get("files", [])], True, outcome.get("left_out") or [])
