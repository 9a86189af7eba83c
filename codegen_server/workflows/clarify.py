"""Clarify: before generating, ask the user the questions that change what gets built.

Recipe (gpt-engineer's clarify step, batched for editors):
1. Start a run holding the prompt.
2. Ask the model for its questions (at most a handful, or "Nothing to clarify").
3. The user answers the batch; the answers go back to the model, which may ask a
   few more — up to MAX_ROUNDS rounds. An empty question list means done.
The conversation lives in the run (clarify.json), so generate can use it after a restart.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from ..store import Run
from .host import Host, WorkflowError
from .model_call import ask

MAX_ROUNDS = 3

_NUMBERED = re.compile(r"^\s{0,3}(?:\*\*)?(?:Q(?:uestion)?\s*)?\d+[.):](?:\*\*)?\s+(?P<q>\S.*)$", re.IGNORECASE)
_BULLETED = re.compile(r"^\s{0,3}[-*•]\s+(?P<q>\S.*)$")
_NOTHING = re.compile(r"\bnothing(?:\s+\w+)?\s+to\s+clarify\b|\bno (?:further )?questions\b", re.IGNORECASE)


@dataclass
class ClarifyResult:
    run_id: str
    questions: list[str]
    round: int
    #: True when the model has nothing left to ask (or the round limit was reached).
    done: bool
    spec: str = ""
    usage: dict = field(default_factory=dict)


def parse_questions(answer: str) -> list[str]:
    """The questions in a model's answer.

    Numbered lines (``1.``, ``2)``, ``Q3:``) win — sub-bullets under them are options, not
    questions; else bulleted lines; else lines ending in '?'. Markdown emphasis is dropped.
    """
    if _NOTHING.search(answer) and "?" not in answer:
        return []
    lines = answer.splitlines()
    for pattern in (_NUMBERED, _BULLETED):
        questions = [_plain(m.group("q")) for line in lines if (m := pattern.match(line))]
        if questions:
            return questions
    return [_plain(line) for line in lines if line.strip().endswith("?")]


def _plain(text: str) -> str:
    return text.replace("**", "").replace("__", "").strip()


def spec_text(state: dict) -> str:
    """The clarified specification: the prompt, then each question with the user's answer."""
    lines = [state["prompt"].strip()]
    # Questions never answered still go in: the model decides them sensibly.
    qa = [(q, a) for rnd in state["rounds"]
          for q, a in zip(rnd["questions"], rnd.get("answers") or [""] * len(rnd["questions"]))]
    if qa:
        lines += ["", "Clarifications:"]
        lines += [f"Q: {q}\nA: {a.strip() or '(no answer: decide sensibly)'}" for q, a in qa]
    return "\n".join(lines)


async def start(host: Host, prompt: str) -> ClarifyResult:
    """Begin clarifying ``prompt``: a new run and the model's first questions."""
    if not prompt.strip():
        raise WorkflowError("The prompt is empty: say what to build.")
    run = await host.store.create("clarify", prompt=prompt)
    await run.write_text("prompt.txt", prompt)
    system = await asyncio.to_thread(host.preprompts.system, "clarify")
    state = {"prompt": prompt, "messages": [{"role": "system", "content": system},
                                            {"role": "user", "content": prompt}], "rounds": []}
    return await _ask_round(host, run, state)


async def answer(host: Host, run_id: str, answers: list[str]) -> ClarifyResult:
    """Give the user's answers to the last questions of run ``run_id``; the model may ask more."""
    run = host.store.open(run_id)
    state = await run.read_json("clarify.json")
    if not state or not state["rounds"]:
        raise WorkflowError(f"Run {run_id} has no clarifying questions to answer.")
    last = state["rounds"][-1]
    if last.get("answers") is not None:
        raise WorkflowError(f"Run {run_id}'s questions were already answered; generate from it now.")
    last["answers"] = [str(a) for a in answers] + [""] * (len(last["questions"]) - len(answers))
    reply = "\n".join(f"{i}. {q}\n   {a or '(no answer: decide sensibly)'}"
                      for i, (q, a) in enumerate(zip(last["questions"], last["answers"]), 1))
    state["messages"].append({"role": "user", "content": "Answers:\n" + reply +
                              "\n\nIf anything important is still unclear, ask; otherwise say: Nothing to clarify."})
    if len(state["rounds"]) >= MAX_ROUNDS:
        return await _finish(run, state)
    return await _ask_round(host, run, state)


async def _ask_round(host: Host, run: Run, state: dict) -> ClarifyResult:
    completion = await ask(host, run, "clarify", state["messages"])
    state["messages"].append({"role": "assistant", "content": completion.text})
    questions = parse_questions(completion.text)
    if not questions:
        return await _finish(run, state)
    state["rounds"].append({"questions": questions, "answers": None})
    await run.write_json("clarify.json", state)
    await run.update_meta(status="waiting-for-answers")
    return ClarifyResult(run.id, questions, len(state["rounds"]), done=False)


async def _finish(run: Run, state: dict) -> ClarifyResult:
    spec = spec_text(state)
    await run.write_json("clarify.json", state)
    await run.write_text("spec.md", spec)
    await run.update_meta(status="clarified")
    return ClarifyResult(run.id, [], len(state["rounds"]), done=True, spec=spec)
