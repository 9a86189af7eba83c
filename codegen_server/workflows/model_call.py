"""One step of any workflow: ask the model, stream progress, record the call in the run."""

from __future__ import annotations

from dataclasses import asdict

from ..model import Completion, Message, ModelError, TruncatedAnswer
from ..store import Run
from .host import Host


async def ask(host: Host, run: Run, purpose: str, messages: list[Message]) -> Completion:
    """Send ``messages``; report streamed tokens; store request and answer (or error) in ``run``."""
    streamed = 0
    thought = ""  # the thinking's line in progress

    def on_token(_: str) -> None:
        nonlocal streamed
        streamed += 1
        host.progress.tokens(streamed)

    def on_reasoning(text: str) -> None:
        # Each finished line of the model's thinking is shown as progress; all of it goes to the run.
        nonlocal thought
        *lines, thought = (thought + text).split("\n")
        for line in filter(None, (line.strip() for line in lines)):
            host.progress.phase(f"{purpose}: thinking: {line[:100]}")
        on_token(text)

    host.progress.phase(f"{purpose}: asking the model")
    request = {"model": host.model.settings.model, "messages": messages}
    try:
        completion = await host.model.complete(messages, on_token=on_token, on_reasoning=on_reasoning)
    except TruncatedAnswer as error:
        await run.record_call(purpose, request, {"error": error.kind, "message": error.message,
                                                 **_answer_record(error.completion, key="partial_content")})
        raise
    except ModelError as error:
        await run.record_call(purpose, request, {"error": error.kind, "message": error.message})
        raise
    await run.record_call(purpose, request, _answer_record(completion))
    return completion


def _answer_record(completion: Completion, key: str = "content") -> dict:
    """How an answer is kept in the run: the text, its cost, and how it was obtained."""
    return {
        key: completion.text,
        "model": completion.model,
        "finish_reason": completion.finish_reason,
        "usage": asdict(completion.usage),
        "attempts": completion.attempts,
        "retried": completion.retried,
        "seconds": round(completion.seconds, 3),
        "reasoning": completion.reasoning,
        "continuations": [asdict(c) for c in completion.continuations],
    }
