"""One step of any workflow: ask the model, stream progress, record the call in the run."""

from __future__ import annotations

from dataclasses import asdict

from ..model import Completion, Message, ModelError
from ..store import Run
from .host import Host


async def ask(host: Host, run: Run, purpose: str, messages: list[Message]) -> Completion:
    """Send ``messages``; report streamed tokens; store request and answer (or error) in ``run``."""
    streamed = 0

    def on_token(_: str) -> None:
        nonlocal streamed
        streamed += 1
        host.progress.tokens(streamed)

    host.progress.phase(f"{purpose}: asking the model")
    request = {"model": host.model.settings.model, "messages": messages}
    try:
        completion = await host.model.complete(messages, on_token=on_token)
    except ModelError as error:
        await run.record_call(purpose, request, {"error": error.kind, "message": error.message})
        raise
    await run.record_call(purpose, request, {
        "content": completion.text,
        "model": completion.model,
        "finish_reason": completion.finish_reason,
        "usage": asdict(completion.usage),
        "attempts": completion.attempts,
        "retried": completion.retried,
        "seconds": round(completion.seconds, 3),
    })
    return completion
