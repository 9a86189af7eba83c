"""Explain: what the selected code does and why, in the model's words; nothing is edited.

Recipe:
1. Start a run holding the range and the user's question, if any.
2. Context: the selected code with what surrounds it, what it uses and what calls it, then the repo
   map, within budget (as for feedback).
3. Ask the model; its answer is the explanation, recorded in the run (and its transcript).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .context import gather_context
from .host import Host, WorkflowError
from .model_call import ask

CONTEXT_BUDGET = 6000


@dataclass
class ExplainResult:
    run_id: str
    #: The model's explanation, Markdown.
    explanation: str


async def explain(host: Host, *, path: str, line_range: tuple[int, int], question: str = "") -> ExplainResult:
    """Explain lines ``line_range`` (1-based, inclusive) of ``path``; ``question`` narrows what is asked."""
    run = await host.store.create("explain", path=path, lines=list(line_range), question=question)
    try:
        where = f"{path}, lines {line_range[0]}-{line_range[1]}"
        try:
            context = await asyncio.to_thread(gather_context, host.root, task=question or f"explain {where}",
                                              path=path, line_range=line_range,
                                              open_files=list(host.open_buffers()), budget=CONTEXT_BUDGET)
        except (ValueError, OSError) as error:  # a range outside the file, a file that cannot be read
            raise WorkflowError(str(error)) from None
        system = await asyncio.to_thread(host.preprompts.system, "explain")
        asked = f"Explain {where}." + (f"\nThe user asks: {question}" if question.strip() else "")
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": f"{asked}\n\nThe code involved, as it is now:\n\n{context.text}"}]
        completion = await ask(host, run, "explain", messages)
        explanation = completion.text.strip()
        await run.update_meta(status="answered", outcome={"explanation": explanation})
        return ExplainResult(run.id, explanation)
    except asyncio.CancelledError:
        await run.update_meta(status="cancelled")
        raise
