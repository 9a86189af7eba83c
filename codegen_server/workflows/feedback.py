"""Feedback: a reviewer's comment on a range of code becomes a change (ai_coder's review comments).

Recipe:
1. Start a run holding the comment and the range it is about.
2. Context: the code around the range (enclosing function and class, what it calls and
   what calls it, the imports it uses), then the repo map, within budget.
3. Ask the model for a short explanation and the change as diffs; failed hunks go back once.
4. Offer the change through the applier (editor preview, disk, or nothing) and record
   the explanation, the diff and the outcome in the run.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

from .changes import ChangeOutcome, ask_for_changes, offer_changes
from .context import gather_context
from .host import Applier, Host, WorkflowError

CONTEXT_BUDGET = 6000


@dataclass
class FeedbackResult(ChangeOutcome):
    #: The model's prose about the change, before its diffs.
    explanation: str = ""


async def apply_feedback(host: Host, applier: Applier, *, path: str, line_range: tuple[int, int],
                         comment: str) -> FeedbackResult:
    """Change the code at ``path`` lines ``line_range`` (1-based, inclusive) as ``comment`` asks."""
    if not comment.strip():
        raise WorkflowError("The feedback comment is empty: say what should change.")
    run = await host.store.create("feedback", path=path, lines=list(line_range), comment=comment)
    try:
        context = await asyncio.to_thread(gather_context, host.root, task=comment, path=path,
                                          line_range=line_range, open_files=list(host.open_buffers()),
                                          budget=CONTEXT_BUDGET)
    except (ValueError, OSError) as error:  # a range outside the file, a file that cannot be read
        raise WorkflowError(str(error)) from None
    system = await asyncio.to_thread(host.preprompts.system, "feedback", "diff_format")
    where = f"{path}, lines {line_range[0]}-{line_range[1]}"
    messages = [{"role": "system", "content": system},
                {"role": "user", "content": f"Feedback on {where}:\n{comment}\n\nThe code involved:\n\n{context.text}"}]

    proposal = await ask_for_changes(host, run, "feedback", messages)
    explanation = _explanation(proposal.answer)
    outcome = await offer_changes(run, applier, proposal, label=f"codegen: feedback on {where}",
                                  explanation=explanation)
    return FeedbackResult(**asdict(outcome), explanation=explanation)


def _explanation(answer: str) -> str:
    """The prose before the first code block or diff header."""
    cut = len(answer)
    for marker in ("```", "\n--- ", "\ndiff --git"):
        at = answer.find(marker)
        if at != -1:
            cut = min(cut, at)
    return answer[:cut].strip()
