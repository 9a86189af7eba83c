"""Chat completions over any OpenAI-compatible endpoint, streamed, with retries.

The official ``openai`` client does the wire work. Its own retries are turned off
(``max_retries=0``) because a stream can also drop half-way, which it does not
retry; one loop here handles 429, 5xx, timeouts and dropped streams alike.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import openai

from ..redaction import redact
from .errors import ModelError
from .settings import ModelSettings, setting_hint

Message = dict[str, str]
#: Called with each streamed text fragment (progress reporting).
TokenCallback = Callable[[str], None]


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Completion:
    """One finished model answer."""

    text: str
    model: str
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    attempts: int = 1
    seconds: float = 0.0
    #: What went wrong on the attempts that were retried, e.g. ["429", "stream-dropped"].
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

    def _get_client(self) -> openai.AsyncOpenAI:
        if not self.settings.configured:
            raise ModelError(
                "not-configured",
                "No model is configured. Set "
                f"{setting_hint('api_key')} for OpenAI, or {setting_hint('base_url')} "
                "for an OpenAI-compatible server such as Ollama (http://localhost:11434/v1) "
                "or llama.cpp (http://localhost:8080/v1).",
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

    async def complete(self, messages: list[Message], *, on_token: TokenCallback | None = None) -> Completion:
        """Stream one answer to ``messages``; retry transient failures with backoff.

        Raises ModelError with a message naming the setting to fix. Cancelling the
        calling task closes the stream at once.
        """
        client = self._get_client()
        started = time.monotonic()
        retried: list[str] = []
        attempts = self.settings.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                completion = await self._stream_once(client, messages, on_token)
            except _Retryable as problem:
                retried.append(problem.kind)
                if attempt == attempts:
                    raise self._final_error(problem, attempts) from None
                await asyncio.sleep(self._backoff(attempt, problem.retry_after))
                continue
            completion.attempts = attempt
            completion.retried = retried
            completion.seconds = time.monotonic() - started
            return completion
        raise AssertionError("unreachable")

    async def _stream_once(
        self, client: openai.AsyncOpenAI, messages: list[Message], on_token: TokenCallback | None
    ) -> Completion:
        kwargs: dict = {"model": self.settings.model, "messages": messages, "stream": True,
                        "stream_options": {"include_usage": True}}
        if self.settings.temperature is not None:
            kwargs["temperature"] = self.settings.temperature
        try:
            stream = await client.chat.completions.create(**kwargs)
        except openai.APIStatusError as error:
            raise self._classify_status(error) from None
        except openai.APITimeoutError:
            raise _Retryable("timeout", "timed out waiting for the model") from None
        except openai.APIConnectionError as error:
            raise _Retryable("unreachable", str(error)) from None

        parts: list[str] = []
        usage = Usage()
        finish_reason: str | None = None
        model_name = self.settings.model
        try:
            async with stream:
                async for chunk in stream:
                    model_name = chunk.model or model_name
                    if chunk.usage is not None:
                        usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                    for choice in chunk.choices:
                        if choice.delta is not None and choice.delta.content:
                            parts.append(choice.delta.content)
                            if on_token is not None:
                                on_token(choice.delta.content)
                        if choice.finish_reason:
                            finish_reason = choice.finish_reason
        except asyncio.CancelledError:
            raise
        except openai.APITimeoutError:
            raise _Retryable("timeout", "timed out while the model was streaming") from None
        except Exception as error:  # the connection dropped mid-stream (httpx or openai raise many kinds)
            raise _Retryable("stream-dropped", f"the answer stream broke off: {error}") from None
        if finish_reason is None:
            # A stream that ends without a finish reason was cut, not finished.
            raise _Retryable("stream-dropped", "the answer stream ended before the model finished")
        return Completion(text="".join(parts), model=model_name, usage=usage, finish_reason=finish_reason)

    def _classify_status(self, error: openai.APIStatusError) -> Exception:
        status = error.status_code
        endpoint = self.settings.describe_endpoint()
        detail = redact(_error_detail(error), [self.settings.api_key or ""])
        if status == 429:
            return _Retryable("rate-limited", detail, _retry_after(error))
        if status >= 500 or status == 408:
            return _Retryable("server-error", f"HTTP {status}: {detail}")
        if status in (401, 403):
            return ModelError("auth", f"The model endpoint at {endpoint} rejected the API key (HTTP {status}). "
                                      f"Fix {setting_hint('api_key')}.")
        if status == 404:
            return ModelError("not-found", f"The model {self.settings.model!r} was not found at {endpoint} "
                                           f"(HTTP 404). Set {setting_hint('model')} to a model the endpoint "
                                           f"serves, or check {setting_hint('base_url')}.")
        return ModelError("bad-request", f"The model endpoint at {endpoint} refused the request "
                                         f"(HTTP {status}): {detail}")

    def _final_error(self, problem: _Retryable, attempts: int) -> ModelError:
        endpoint = self.settings.describe_endpoint()
        if problem.kind == "unreachable":
            return ModelError("unreachable", f"Cannot reach the model endpoint at {endpoint} "
                                             f"(after {attempts} attempts). Check {setting_hint('base_url')} "
                                             "and that the server is running.")
        if problem.kind == "timeout":
            return ModelError("timeout", f"The model at {endpoint} did not answer within "
                                         f"{self.settings.timeout:g} s (after {attempts} attempts). "
                                         "Raise `codegen.model.timeout` (or CODEGEN_MODEL_TIMEOUT).")
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
