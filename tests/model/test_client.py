"""The model wire against a real HTTP server speaking the OpenAI wire format."""

from __future__ import annotations

import asyncio

import pytest

from codegen_server.model import ChatModel, ModelError, ModelSettings
from codegen_server.model.scripted_server import ScriptStep

HELLO = [{"role": "user", "content": "hello"}]


def model_for(server, **settings) -> ChatModel:
    settings.setdefault("retry_backoff", 0.01)
    return ChatModel(ModelSettings(base_url=server.base_url, model="scripted-model", **settings))


async def test_streams_the_answer_and_records_usage(scripted_model):
    server = scripted_model([ScriptStep(content="def add(a, b):\n    return a + b\n")])
    tokens: list[str] = []
    completion = await model_for(server).complete(HELLO, on_token=tokens.append)
    assert completion.text == "def add(a, b):\n    return a + b\n"
    assert "".join(tokens) == completion.text and len(tokens) > 1  # it really streamed
    assert completion.usage.completion_tokens > 0 and completion.usage.prompt_tokens > 0
    assert server.requests[0]["stream"] is True and server.requests[0]["messages"] == HELLO


async def test_retries_429_500_and_a_dropped_stream(scripted_model):
    server = scripted_model([
        ScriptStep(status=429, retry_after=0),
        ScriptStep(status=500),
        ScriptStep(content="a long answer that breaks off " * 4, drop_after=30),
        ScriptStep(content="whole answer"),
    ])
    completion = await model_for(server).complete(HELLO)
    assert completion.text == "whole answer"
    assert completion.retried == ["rate-limited", "server-error", "stream-dropped"]
    assert completion.attempts == 4 and len(server.requests) == 4


async def test_retry_after_header_is_honoured(scripted_model):
    # Retry-After: 0 overrides a 30 s backoff: the retry is sent and answered (a client that
    # ignored the header would still be sleeping when wait_for gives up).
    server = scripted_model([ScriptStep(status=429, retry_after=0), ScriptStep(content="ok")])
    completion = await asyncio.wait_for(model_for(server, retry_backoff=30).complete(HELLO), timeout=15)
    assert completion.text == "ok" and completion.retried == ["rate-limited"]
    # Retry-After: 30 overrides a tiny backoff: the client says it waits 30 s before the retry.
    waiting = scripted_model([ScriptStep(status=429, retry_after=30), ScriptStep(content="ok")])
    retries: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
    task = asyncio.create_task(model_for(waiting, retry_backoff=0.01).complete(
        HELLO, on_retry=lambda kind, seconds: retries.put_nowait((kind, seconds))))
    assert await asyncio.wait_for(retries.get(), timeout=15) == ("rate-limited", 30.0)
    assert len(waiting.requests) == 1
    task.cancel()


async def test_slow_answer_times_out_then_retries(scripted_model):
    server = scripted_model([ScriptStep(content="late", delay=2.0), ScriptStep(content="on time")])
    completion = await model_for(server, timeout=0.5).complete(HELLO)
    assert completion.text == "on time" and completion.retried == ["timeout"]


async def test_gives_up_with_a_clear_message_after_the_retry_budget(scripted_model):
    server = scripted_model([ScriptStep(status=503)] * 3)
    with pytest.raises(ModelError) as caught:
        await model_for(server, max_retries=2).complete(HELLO)
    assert caught.value.kind == "server-error" and "failed 3 times" in str(caught.value)


@pytest.mark.parametrize("status, kind, setting, env", [
    (401, "auth", "model.apiKey", "OPENAI_API_KEY"),
    (404, "not-found", "model.name", "CODEGEN_MODEL"),
])
async def test_errors_name_the_setting_to_fix(scripted_model, status, kind, setting, env):
    server = scripted_model([ScriptStep(status=status, error_message="Incorrect API key provided: sk-abcdefabcdefabcdef1234")])
    with pytest.raises(ModelError) as caught:
        await model_for(server, api_key="sk-abcdefabcdefabcdef1234").complete(HELLO)
    assert caught.value.kind == kind and f"`{setting}`" in str(caught.value)
    assert (caught.value.setting, caught.value.env) == (setting, env)
    assert "VS Code" not in str(caught.value) and "initializationOptions" not in str(caught.value)
    assert "sk-abcdefabcdefabcdef1234" not in str(caught.value)
    assert len(server.requests) == 1  # not retried


async def test_unreachable_endpoint_names_base_url():
    model = ChatModel(ModelSettings(base_url="http://127.0.0.1:9/v1", max_retries=1, retry_backoff=0.01))
    with pytest.raises(ModelError) as caught:
        await model.complete(HELLO)
    assert caught.value.kind == "unreachable" and "OPENAI_BASE_URL" in str(caught.value)


async def test_no_model_configured_says_how_to_configure_one():
    with pytest.raises(ModelError) as caught:
        await ChatModel(ModelSettings()).complete(HELLO)
    assert caught.value.kind == "not-configured"
    assert "OPENAI_API_KEY" in str(caught.value) and "OPENAI_BASE_URL" in str(caught.value)


async def test_cancelling_stops_the_stream_at_once(scripted_model):
    server = scripted_model([ScriptStep(content="x" * 2000, chunk_size=4, chunk_delay=0.05)])
    tokens: list[str] = []
    task = asyncio.create_task(model_for(server).complete(HELLO, on_token=tokens.append))
    while not tokens:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The answer takes ~25 s to stream: the server sees the hang-up, never its last chunk.
    while not (server.hangups or server.finished):
        await asyncio.sleep(0.02)
    # The client closed the connection: no later chunk can reach on_token.
    assert server.hangups and not server.finished
