"""A model stream that will not end: the call fails with a clear error, the stream is closed, nothing is applied."""

from __future__ import annotations

import asyncio

import pytest
from pygls.exceptions import JsonRpcException

from codegen_server.model import ChatModel, ModelError, ModelSettings
from codegen_server.model.scripted_server import ScriptStep
from codegen_server.model.settings import merge_editor_settings
from tests.conftest import model_env
from tests.support.cli import codegen, env_for

HELLO = [{"role": "user", "content": "hello"}]
#: One file's block, streamed over and over by a runaway model.
RUNAWAY = "a.py\n```python\n" + "A = 1\n" * 600 + "```\n\n"


def model_for(server, **settings) -> ChatModel:
    return ChatModel(ModelSettings(base_url=server.base_url, model="scripted-model", retry_backoff=0.01, **settings))


async def hung_up(server) -> None:
    """Wait until the server saw the client close the stream."""
    while not server.hangups:
        await asyncio.sleep(0.02)


async def test_an_endless_answer_fails_at_the_size_limit_and_the_stream_is_closed(scripted_model):
    server = scripted_model([ScriptStep(content=RUNAWAY, chunk_size=500, endless=True)])
    tokens: list[str] = []
    with pytest.raises(ModelError) as caught:
        # The time limit only ends the stream when the size limit did not (then the kind is wrong, in 20 s).
        await model_for(server, max_answer_chars=20_000, max_call_seconds=20).complete(HELLO, on_token=tokens.append)
    assert caught.value.kind == "answer-too-large"
    assert "20,000 characters" in caught.value.message and "maxAnswerChars" in caught.value.message
    # The error's data names what fixes it, so each client words its own advice.
    assert (caught.value.setting, caught.value.env) == ("model.maxAnswerChars", "CODEGEN_MODEL_MAX_ANSWER_CHARS")
    assert len("".join(tokens)) <= 20_000  # what passed the limit was never handed on
    await asyncio.wait_for(hung_up(server), 10)
    assert len(server.requests) == 1  # not retried: the same request would run away again


async def test_continuations_draw_on_the_same_allowance(scripted_model):
    server = scripted_model([ScriptStep(content="x" * 6000, chunk_size=1000, finish_reason="length"),
                             ScriptStep(content="y" * 6000, chunk_size=1000)])
    with pytest.raises(ModelError) as caught:
        await model_for(server, max_answer_chars=10_000).complete(HELLO)
    assert caught.value.kind == "answer-too-large" and len(server.requests) == 2


async def test_thinking_counts_toward_the_allowance(scripted_model):
    server = scripted_model([ScriptStep(content="short", reasoning="hmm " * 5000, chunk_size=400)])
    with pytest.raises(ModelError) as caught:
        await model_for(server, max_answer_chars=10_000).complete(HELLO)
    assert caught.value.kind == "answer-too-large"


async def test_an_answer_within_the_limits_is_whole(scripted_model):
    server = scripted_model([ScriptStep(content="x" * 9000, chunk_size=1000)])
    completion = await model_for(server, max_answer_chars=9000, max_call_seconds=60).complete(HELLO)
    assert completion.text == "x" * 9000


async def test_a_call_past_its_time_limit_fails_and_the_stream_is_closed(scripted_model):
    server = scripted_model([ScriptStep(content=RUNAWAY, chunk_size=50, chunk_delay=0.05, endless=True)])
    with pytest.raises(ModelError) as caught:
        await asyncio.wait_for(model_for(server, max_call_seconds=1.0).complete(HELLO), 10)  # not forever
    assert caught.value.kind == "call-too-long" and "maxCallSeconds" in caught.value.message
    assert (caught.value.setting, caught.value.env) == ("model.maxCallSeconds", "CODEGEN_MODEL_MAX_CALL_SECONDS")
    await asyncio.wait_for(hung_up(server), 10)


def test_the_limits_are_editor_settings_and_bad_values_are_refused():
    merged, problems = merge_editor_settings(ModelSettings(), {"maxAnswerChars": 5000, "maxCallSeconds": 90})
    assert (merged.max_answer_chars, merged.max_call_seconds, problems) == (5000, 90.0, [])
    assert (ModelSettings().max_answer_chars, ModelSettings().max_call_seconds) == (1_000_000, 1800.0)
    merged, problems = merge_editor_settings(ModelSettings(), {"maxAnswerChars": 0, "maxCallSeconds": -1})
    assert (merged.max_answer_chars, merged.max_call_seconds) == (1_000_000, 1800.0)
    assert len(problems) == 2 and "maxAnswerChars" in problems[0] and "maxCallSeconds" in problems[1]


def test_the_cli_writes_nothing_of_an_endless_answer(tmp_path, scripted_model):
    # The default limit (a million characters), a few hundred chunks.
    model = scripted_model([ScriptStep(content=RUNAWAY, chunk_size=len(RUNAWAY), endless=True)])
    done = codegen("generate", "one file", "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "1,000,000 characters" in done.stderr
    assert not (tmp_path / "a.py").exists()


def test_the_cli_limit_is_set_by_its_environment_variable(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=RUNAWAY, chunk_size=500, endless=True)])
    done = codegen("generate", "one file", "--root", str(tmp_path),
                   env={**env_for(model.base_url), "CODEGEN_MODEL_MAX_ANSWER_CHARS": "5000"})
    assert done.returncode == 1 and "5,000 characters" in done.stderr
    assert "CODEGEN_MODEL_MAX_ANSWER_CHARS" in done.stderr  # the CLI's advice names the variable


async def test_the_daemon_applies_nothing_of_a_call_past_its_time_limit(tmp_path, scripted_model, editor_factory):
    model = scripted_model([ScriptStep(content=RUNAWAY, chunk_size=50, chunk_delay=0.05, endless=True)])
    editor = await editor_factory(tmp_path, env=model_env(model),
                                  initialization_options={"model": {"maxCallSeconds": 1}})
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.generateProject", {"prompt": "one file", "apply": "disk"})
    assert "stopped after 1 seconds" in str(caught.value)
    assert not (tmp_path / "a.py").exists()
