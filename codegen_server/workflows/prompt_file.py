"""Generate from a prompt file: a file of `codegen:` marker comments is the prompt, and the model's
clarifying questions are written back into it as markers, for editors with no free-text input.

Recipe:
1. Read the file's markers: `Q: <question> A: <answer>` ones are clarifications, the others the prompt.
2. With no clarifications yet, ask the model its questions (clarify). If it has some, the user may skip
   them (``skip_questions``: the editor's choice dialog) and generate at once; else append one marker
   per question (`codegen: Q: … A: `) through the applier and stop: the user answers after each `A:`
   and runs the action again. If it has none, generate from the clarified run.
3. With clarifications, generate from the prompt and them (an empty answer: the model decides).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..context.languages import language_for_path
from ..context.markers import markers_in_source
from ..edits.types import FileChange
from . import clarify
from .generate import GenerateResult, generate
from .host import Applier, Host, WorkflowError

_CLARIFICATION = re.compile(r"^Q:\s*(?P<q>.+?)\s*A:\s*(?P<a>.*)$", re.DOTALL)


@dataclass
class PromptFileResult:
    """What one run of the action did: the questions it wrote into the file, or the project generated."""

    run_id: str
    #: The model's questions, written into the file as markers (empty once it generated).
    questions: list[str] = field(default_factory=list)
    applied: bool = False
    reason: str = ""
    summary: str = ""
    #: The generate run's result, once the prompt was clear enough.
    generated: GenerateResult | None = None


def _marker_prefix(text: str) -> str:
    """How the file's first marker starts (`# codegen: `, `// codegen: `), to write more like it."""
    first = text.splitlines()[0]
    at = first.lower().index("codegen:") + len("codegen:")
    return first[:at] + " "


async def generate_from_prompt_file(host: Host, applier: Applier, *, path: str, text: str,
                                    test_command: str | None = None,
                                    skip_questions: Callable[[list[str]], Awaitable[bool]] | None = None,
                                    ) -> PromptFileResult:
    """Generate what the markers of ``path`` (its current ``text``) ask for, clarifying through the file.

    ``skip_questions(questions)`` says whether the user would rather let the model decide them now.
    """
    language = language_for_path(path)
    if language is None:
        raise WorkflowError(f"{path} is not in a language codegen reads, so its markers cannot be found")
    markers = await asyncio.to_thread(markers_in_source, path, language, text.encode("utf-8"))
    if not markers or markers[0].line != 0:
        raise WorkflowError(f"{path} is no prompt file: its first line must be a `codegen:` marker comment")
    asked = [m.text for m in markers if not _CLARIFICATION.match(m.text)]
    answered = [(m["q"], m["a"].strip()) for t in (mk.text for mk in markers) if (m := _CLARIFICATION.match(t))]
    prompt = "\n".join(asked)
    if answered:
        lines = [f"Q: {q}\nA: {a or '(no answer: decide sensibly)'}" for q, a in answered]
        result = await generate(host, applier, prompt=f"{prompt}\n\nClarifications:\n" + "\n".join(lines),
                                test_command=test_command)
        return _generated(result)
    clarified = await clarify.start(host, prompt)
    if not clarified.questions or (skip_questions is not None and await skip_questions(clarified.questions)):
        return _generated(await generate(host, applier, run_id=clarified.run_id, test_command=test_command))
    prefix = _marker_prefix(text)
    added = "".join(f"{prefix}Q: {' '.join(q.split())} A: \n" for q in clarified.questions)
    new_text = (text if text.endswith("\n") or not text else text + "\n") + added
    decision = await applier.apply([FileChange(path, "modify", text, new_text)],
                                   label=f"codegen: clarifying questions in {path}")
    count = len(clarified.questions)
    summary = (f"{count} question(s) written into {path}: answer after each `A:`, then run "
               "\"Codegen: generate from this prompt\" again (an empty answer lets the model decide).")
    return PromptFileResult(clarified.run_id, clarified.questions, decision.applied, decision.reason,
                            summary if decision.applied else "")


def _generated(result: GenerateResult) -> PromptFileResult:
    files = ", ".join(f["path"] for f in result.files) or "no file"
    summary = f"generated {files}" if result.applied else ""
    return PromptFileResult(result.run_id, [], result.applied, result.reason, summary, result)
