"""Chat completions over any OpenAI-compatible endpoint, streamed, with retries.

The official ``openai`` client does the wire work. Its own retries are turned off
(``max_retries=0``) because a stream can also drop half-way, which it does not
retry; one loop here handles 429, 5xx, timeouts and dropped streams alike.

Real servers differ from OpenAI's: some send no usage (it is then counted locally
and marked estimated), some stream a reasoning model's thinking (kept out of the
answer), some send an error object inside a 200 stream. An answer cut off at the
output limit is continued and stitched, or refused whole if it stays cut off.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..redaction import redact
from .continuation import continuation_messages, ends_inside_fence, stitch
from .errors import ModelError, TruncatedAnswer
from .estimate import estimate_usage
from .reasoning import ThinkSplitter, reasoning_delta
from .settings import ModelSettings, setting_hint, setting_names
from .types import Completion, Continuation, Message, RetryCallback, TokenCallback, Usage

if TYPE_CHECKING:
    # Imported where a model is called (about 0.4 s): the CLI's apply and the daemon's
    # `initialize` never pay for it.
    import openai

#: A refused connection to this machine means nothing listens there: one quick retry, not the full backoff.
LOOPBACK_REFUSED_ATTEMPTS = 2
LOOPBACK_REFUSED_BACKOFF = 0.2
#: A 200 stream with no event at all is how llama-cpp-python reports a prompt over its context
#: window (the error goes to its log): the same request will not fare better, so one retry only.
EMPTY_STREAM_ATTEMPTS = 2


@dataclass
class _Part:
    """One streamed answer to one request (the first, or a continuation)."""

    text: str
    model: str
    usage: Usage
    finish_reason: str | None
    reasoning: str = ""
    attempts: int = 1
    retried: list[str] = field(default_factory=list)


class _Retryable(Exception):
    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


class ChatModel:
    """A chat model behind an OpenAI-compatible endpoint."""

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._client: openai.AsyncOpenAI | None = None
        #: The request field the output limit goes in: max_tokens, or what the endpoint asked for instead.
        self._max_tokens_field = "max_tokens"

    def _hint(self, key: str) -> str:
        """How the user fixes setting ``key``, in the words of where they run codegen (editor or CLI)."""
        return setting_hint(key, self.settings.audience)

    @staticmethod
    def _error(kind: str, message: str, key: str) -> ModelError:
        """A ModelError that names the setting and environment variable ``key`` is set by."""
        setting, env = setting_names(key)
        return ModelError(kind, message, setting=setting, env=env)

    def _get_client(self) -> openai.AsyncOpenAI:
        import openai

        if self.settings.problems:
            raise ModelError("bad-setting", " ".join(self.settings.problems))
        if not self.settings.configured:
            raise self._error(
                "not-configured",
                "No model is configured. Set "
                f"{self._hint('api_key')} for OpenAI, or {self._hint('base_url')} "
                "for an OpenAI-compatible server such as Ollama (http://localhost:11434/v1) "
                "or llama.cpp (http://localhost:8080/v1).",
                "api_key",
            )
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                # Local servers need no key, but the client insists on one.
                api_key=self.settings.api_key or "not-needed",
                base_url=self.settings.base_url,
                timeout=self.settings.timeout,
                max_retries=0,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def complete(self, messages: list[Message], *, on_token: TokenCallback | None = None,
                       on_reasoning: TokenCallback | None = None,
                       on_retry: RetryCallback | None = None) -> Completion:
        """Stream one answer to ``messages``; retry transient failures with backoff.

        ``on_token`` gets the answer's text as it streams, ``on_reasoning`` the model's
        thinking (kept out of the answer), ``on_retry`` the kind of each transient failure and
        the seconds it waits before trying again. An answer cut off at the output limit is
        continued up to ``max_continuations`` times and stitched; if it still ends cut
        off, TruncatedAnswer is raised (it carries the partial answer) so nothing of it
        is applied. Raises ModelError with a message naming the setting to fix.
        Cancelling the calling task closes the stream at once. A call whose answer passes
        ``max_answer_chars`` or that runs past ``max_call_seconds`` is stopped the same way
        and fails (ModelError "answer-too-large" / "call-too-long").
        """
        client = self._get_client()
        started = time.monotonic()
        limit = self.settings.max_call_seconds
        try:  # at the deadline the call is cancelled, which closes the stream open at the time
            return await asyncio.wait_for(self._complete(client, messages, started, on_token, on_reasoning, on_retry),
                                        limit)
        except (TimeoutError, asyncio.TimeoutError):  # distinct classes before Python 3.11
            if time.monotonic() - started < limit:
                raise
            raise self._error("call-too-long", f"The model call was stopped after {limit:g} seconds without a "
                                               f"finished answer; nothing of it is applied. Raise "
                                               f"{self._hint('max_call_seconds')} if answers take this long.",
                              "max_call_seconds") from None

    async def _complete(self, client: openai.AsyncOpenAI, messages: list[Message], started: float,
                        on_token: TokenCallback | None, on_reasoning: TokenCallback | None,
                        on_retry: RetryCallback | None) -> Completion:
        limit = self.settings.max_answer_chars
        first = await self._with_retries(client, messages, on_token, on_reasoning, on_retry, limit)
        completion = Completion(text=first.text, model=first.model, usage=first.usage,
                                finish_reason=first.finish_reason, attempts=first.attempts,
                                retried=first.retried, reasoning=first.reasoning)
        while completion.truncated and len(completion.continuations) < self.settings.max_continuations:
            # Continuations draw on the same allowance: it bounds the whole answer.
            allowance = limit - len(completion.text) - len(completion.reasoning)
            part = await self._with_retries(client, continuation_messages(messages, completion.text),
                                            on_token, on_reasoning, on_retry, allowance)
            completion.continuations.append(Continuation(part.text, part.finish_reason, part.usage,
                                                         part.attempts, part.reasoning))
            completion.text = stitch(completion.text, part.text)
            completion.usage += part.usage
            completion.finish_reason = part.finish_reason
            completion.attempts += part.attempts
            completion.retried += part.retried
            completion.reasoning += part.reasoning
        completion.seconds = time.monotonic() - started
        if completion.truncated:
            raise TruncatedAnswer(self._truncation_message(completion), completion)
        return completion

    async def _with_retries(self, client: openai.AsyncOpenAI, messages: list[Message],
                            on_token: TokenCallback | None, on_reasoning: TokenCallback | None,
                            on_retry: RetryCallback | None, allowance: int) -> _Part:
        """One part of the answer, retried; ``allowance``: the characters it may have (thinking included)."""
        retried: list[str] = []
        attempts = self.settings.max_retries + 1
        attempt = 0
        while True:
            attempt += 1
            try:
                part = await self._stream_once(client, messages, on_token, on_reasoning, allowance)
            except _Retryable as problem:
                retried.append(problem.kind)
                if problem.kind == "refused" and self.settings.is_loopback:
                    attempts = min(attempts, LOOPBACK_REFUSED_ATTEMPTS)
                elif problem.kind == "empty-stream":
                    attempts = min(attempts, EMPTY_STREAM_ATTEMPTS)
                if attempt >= attempts:
                    raise self._final_error(problem, attempt) from None
                delay = (LOOPBACK_REFUSED_BACKOFF if problem.kind == "refused" and self.settings.is_loopback
                         else self._backoff(attempt, problem.retry_after))
                if on_retry is not None:
                    on_retry(problem.kind, delay)
                await asyncio.sleep(delay)
                continue
            part.attempts, part.retried = attempt, retried
            return part

    async def _stream_once(self, client: openai.AsyncOpenAI, messages: list[Message],
                           on_token: TokenCallback | None, on_reasoning: TokenCallback | None,
                           allowance: int) -> _Part:
        import openai

        kwargs: dict = {"model": self.settings.model, "messages": messages, "stream": True,
                        "stream_options": {"include_usage": True}}
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        if self.settings.max_tokens is not None:
            kwargs[self._max_tokens_field] = self.settings.max_tokens
        try:
            stream = await client.chat.completions.create(**kwargs)
        except openai.APIStatusError as error:
            raise self._classify_status(error) from None
        except openai.APITimeoutError:
            raise _Retryable("timeout", "timed out waiting for the model") from None
        except openai.APIConnectionError as error:
            kind = "refused" if _connection_refused(error) else "unreachable"
            raise _Retryable(kind, str(error)) from None

        answer: list[str] = []
        thinking: list[str] = []
        splitter = ThinkSplitter()
        usage: Usage | None = None
        finish_reason: str | None = None
        model_name = self.settings.model
        events = 0

        def take(text: str, reasoning: str) -> None:
            nonlocal allowance
            allowance -= len(text) + len(reasoning)
            if allowance < 0:  # raised inside the stream's `async with`: the connection is closed
                raise self._error("answer-too-large", self._too_large_message(), "max_answer_chars")
            if text:
                answer.append(text)
                if on_token is not None:
                    on_token(text)
            if reasoning:
                thinking.append(reasoning)
                if on_reasoning is not None:
                    on_reasoning(reasoning)

        try:
            async with stream:
                async for chunk in stream:
                    events += 1
                    model_name = chunk.model or model_name
                    if chunk.usage is not None and (chunk.usage.prompt_tokens or chunk.usage.completion_tokens):
                        usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                    # Servers differ: a role-only first chunk, `content: null`, a usage chunk with no choices.
                    for choice in chunk.choices or []:
                        if choice.delta is not None:
                            take("", reasoning_delta(choice.delta))
                            if choice.delta.content:
                                take(*splitter.feed(choice.delta.content))
                        if choice.finish_reason:
                            finish_reason = choice.finish_reason
        except (asyncio.CancelledError, ModelError):
            raise
        except openai.APITimeoutError:
            raise _Retryable("timeout", "timed out while the model was streaming") from None
        except openai.APIConnectionError as error:
            raise _Retryable("stream-dropped", f"the answer stream broke off: {error}") from None
        except openai.APIError as error:  # HTTP 200, then an `error` object in the stream
            raise self._stream_error(error) from None
        except Exception as error:  # the connection dropped mid-stream (httpx or openai raise many kinds)
            raise _Retryable("stream-dropped", f"the answer stream broke off: {error}") from None
        take(*splitter.finish())
        if events == 0:
            raise _Retryable("empty-stream", "the server answered with an empty stream")
        if finish_reason is None:
            # A stream that ends without a finish reason was cut, not finished.
            raise _Retryable("stream-dropped", "the answer stream ended before the model finished")
        text, reasoning = "".join(answer), "".join(thinking)
        if usage is None:  # counting loads the tokenizer the first time: not on the event loop
            usage = await asyncio.to_thread(estimate_usage, messages, reasoning + text)
        return _Part(text=text, model=model_name, usage=usage, finish_reason=finish_reason, reasoning=reasoning)

    def _too_large_message(self) -> str:
        limit = self.settings.max_answer_chars
        return (f"The model's answer passed {limit:,} characters and was stopped there; nothing of it is "
                f"applied. Raise {self._hint('max_answer_chars')} if answers are this long.")

    def _truncation_message(self, completion: Completion) -> str:
        where = ("inside a code block, so its last file or diff is incomplete"
                 if ends_inside_fence(completion.text) else "before it was complete")
        limit = (f"max_tokens={self.settings.max_tokens}" if self.settings.max_tokens is not None
                 else "the server's default output limit")
        tail = completion.text.rstrip().rsplit("\n", 1)[-1][-80:]
        return (f"The model's answer was cut off at its output limit ({limit}) {where}, even after "
                f"{len(completion.continuations)} request(s) to continue it; nothing of it was applied. "
                f"It broke off at: {tail!r}. Raise {self._hint('max_tokens')}, "
                "or ask for a smaller change.")

    def _stream_error(self, error: openai.APIError) -> Exception:
        """An error object sent inside a 200 stream: a server fault is retried, a refused request is not."""
        body = error.body if isinstance(error.body, dict) else {}
        detail = redact(str(body.get("message") or error.message), [self.settings.api_key or ""])
        code = body.get("code")
        status = code if isinstance(code, int) else None
        kind = str(body.get("type") or "")
        if (status is not None and 400 <= status < 500 and status not in (408, 429)) or "invalid_request" in kind:
            return ModelError("bad-request", f"The model endpoint at {self.settings.describe_endpoint()} "
                                             f"refused the request mid-stream: {detail}")
        return _Retryable("server-error", f"error in the answer stream: {detail}")

    def _classify_status(self, error: openai.APIStatusError) -> Exception:
        status = error.status_code
        endpoint = self.settings.describe_endpoint()
        detail = redact(_error_detail(error), [self.settings.api_key or ""])
        if status == 429:
            return _Retryable("rate-limited", detail, _retry_after(error))
        if status == 400 and "max_completion_tokens" in detail and self._max_tokens_field == "max_tokens":
            # OpenAI's reasoning models refuse max_tokens and name the field they want instead.
            self._max_tokens_field = "max_completion_tokens"
            return _Retryable("max-tokens-field", detail, retry_after=0)
        if status >= 500 or status == 408:
            return _Retryable("server-error", f"HTTP {status}: {detail}")
        if status in (401, 403):
            return self._error("auth", f"The model endpoint at {endpoint} rejected the API key (HTTP {status}). "
                                       f"Fix {self._hint('api_key')}.", "api_key")
        if status == 404:
            return self._error("not-found", f"The model {self.settings.model!r} was not found at {endpoint} "
                                            f"(HTTP 404). Set {self._hint('model')} to a model the endpoint "
                                            f"serves, or check {self._hint('base_url')}.", "model")
        return ModelError("bad-request", f"The model endpoint at {endpoint} refused the request "
                                         f"(HTTP {status}): {detail}")

    def _final_error(self, problem: _Retryable, attempts: int) -> ModelError:
        endpoint = self.settings.describe_endpoint()
        if problem.kind in ("unreachable", "refused") and self.settings.is_default_endpoint:
            return self._error("unreachable", f"Cannot reach the OpenAI API at {endpoint} (after {attempts} "
                                              "attempts). Check the network connection and any proxy settings "
                                              f"(HTTPS_PROXY), or set {self._hint('base_url')} to use another "
                                              "endpoint.", "base_url")
        if problem.kind == "refused":
            return self._error("unreachable", f"Nothing is listening at {endpoint}: the connection was refused "
                                              f"(after {attempts} attempts). Start the model server, or fix "
                                              f"{self._hint('base_url')}.", "base_url")
        if problem.kind == "unreachable":
            return self._error("unreachable", f"Cannot reach the model endpoint at {endpoint} "
                                              f"(after {attempts} attempts). Check {self._hint('base_url')} "
                                              "and that the server is running.", "base_url")
        if problem.kind == "empty-stream":
            return ModelError("server-error", f"The model endpoint at {endpoint} answered with an empty stream "
                                              f"({attempts} attempts); its own log says why. llama-cpp-python does "
                                              "this when the prompt does not fit its context window: start it with "
                                              "a larger one (--n_ctx), or ask for a smaller change.")
        if problem.kind == "timeout":
            return self._error("timeout", f"The model at {endpoint} did not answer within "
                                          f"{self.settings.timeout:g} s (after {attempts} attempts). "
                                          f"Raise {self._hint('timeout')}.", "timeout")
        if problem.kind == "rate-limited":
            return ModelError("rate-limited", f"The model endpoint at {endpoint} is rate limiting us "
                                              f"(HTTP 429, {attempts} attempts). Try again later.")
        return ModelError(problem.kind, f"The model endpoint at {endpoint} failed {attempts} times; "
                                        f"last: {problem.message}")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, 60.0)
        base = self.settings.retry_backoff * (2 ** (attempt - 1))
        return min(base, 20.0) * (0.75 + random.random() / 2)


def _connection_refused(error: BaseException) -> bool:
    """Whether a connection error was a refused connect (nothing listening), anywhere in its chain."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _error_detail(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return error.message


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after") if error.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
