"""One step of any workflow: ask the model, stream progress, record the call in the run."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import asdict

from ..model import Completion, Message, ModelError, TruncatedAnswer
from ..store import Run
from .host import Host, Progress

#: Streamed text is counted (and reported) at most this many seconds apart.
_COUNT_EVERY = 0.2


class _StreamedTokens:
    """Streamed text counted in tokens by the project's tokenizer (context/tokens.py), not in chunks.

    The tokenizer loads in a thread the first time (seconds): until then nothing is reported. The
    text so far is counted whole each time (cheap: the counter remembers the lines it counted), so
    the count is exact, not the sum of pieces cut mid-token.
    """

    def __init__(self, progress: Progress) -> None:
        from ..context.tokens import encoding

        self.total = 0
        self._progress = progress
        self._streamed: list[str] = []
        self._last = 0.0
        self._ready = asyncio.ensure_future(asyncio.to_thread(encoding))

    def add(self, text: str) -> None:
        self._streamed.append(text)
        now = time.monotonic()
        if now - self._last < _COUNT_EVERY or not self._ready.done():
            return
        self._last = now
        self.total = self._count("".join(self._streamed))
        self._progress.tokens(self.total)

    def _count(self, text: str) -> int:
        from ..context.tokens import count_tokens

        if self._ready.cancelled() or self._ready.exception() is not None:
            return len(text) // 4  # no tokenizer: about four characters a token
        return count_tokens(text)

    def finish(self, completion: Completion) -> None:
        """The answer's own count, once it is complete: the usage the stream reported (or our count)."""
        if completion.usage.completion_tokens:
            self.total = completion.usage.completion_tokens
            self._progress.tokens(self.total)

    def close(self) -> None:
        if not self._ready.done():
            self._ready.cancel()  # the thread finishes on its own; nobody waits for it
        elif not self._ready.cancelled():
            self._ready.exception()  # seen: a tokenizer that failed to load is no unhandled error


#: What a retried failure was, in the words the progress shows.
_RETRY_REASONS = {"rate-limited": "the model is rate-limited", "server-error": "the model's server failed",
                  "timeout": "the model did not answer in time", "stream-dropped": "the answer broke off",
                  "empty-stream": "the model sent an empty answer", "refused": "the model's server refused the connection"}


def _step(purpose: str) -> str:
    """What a model call does, as a progress label that does not repeat the command's title
    ("clarify: clarify: ..."): ``diagnose-2`` -> "diagnosing the failures", ``generate-retry`` -> "asking again"."""
    if "-show" in purpose:
        return "showing the model the code it asked for"
    if purpose.endswith("-retry"):
        return "asking the model again: some edits did not apply"
    if purpose.endswith("-remind"):
        return "asking the model again for the change itself"
    kind = re.sub(r"-\d+$", "", purpose)
    return {"clarify": "asking the model what is unclear", "diagnose": "diagnosing the failures",
            "plan": "planning the fix"}.get(kind, "asking the model")


async def ask(host: Host, run: Run, purpose: str, messages: list[Message], *,
              on_text: Callable[[str], None] | None = None) -> Completion:
    """Send ``messages``; report streamed tokens; store request and answer (or error) in ``run``.

    ``on_text`` gets the answer's text as it streams (a retried attempt's from its start again).
    """
    step = _step(purpose)
    streamed = _StreamedTokens(host.progress)
    thought = ""  # the thinking's line in progress

    def on_reasoning(text: str) -> None:
        # Each finished line of the model's thinking is shown as progress; all of it goes to the run.
        nonlocal thought
        *lines, thought = (thought + text).split("\n")
        for line in filter(None, (line.strip() for line in lines)):
            host.progress.phase(f"thinking: {line[:100]}")
        streamed.add(text)

    retrying = False

    def on_retry(kind: str, seconds: float) -> None:
        # A rate limit can hold a call for a minute: say so rather than look hung.
        nonlocal retrying
        if kind in _RETRY_REASONS:
            retrying = True
            host.progress.phase(f"{_RETRY_REASONS[kind]}: trying again in {seconds:.0f} s")

    def on_token(text: str) -> None:
        nonlocal retrying
        if retrying:  # the retry answers: back to what the call does
            retrying = False
            host.progress.phase(step)
        streamed.add(text)
        if on_text is not None:
            on_text(text)

    host.progress.phase(step)
    request = {"model": host.model.settings.model, "messages": messages}
    try:
        completion = await host.model.complete(messages, on_token=on_token, on_reasoning=on_reasoning,
                                               on_retry=on_retry)
    except TruncatedAnswer as error:
        await run.record_call(purpose, request, {"error": error.kind, "message": error.message,
                                                 **_answer_record(error.completion, key="partial_content")})
        raise
    except ModelError as error:
        await run.record_call(purpose, request, {"error": error.kind, "message": error.message})
        raise
    finally:
        streamed.close()
    streamed.finish(completion)
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
