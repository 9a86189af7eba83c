"""Real servers differ from OpenAI's: each difference, reproduced by the scripted HTTP server."""

from __future__ import annotations

import socket
import threading

import pytest

from codegen_server.context.tokens import count_tokens
from codegen_server.model import ChatModel, ModelError, ModelSettings, TruncatedAnswer
from codegen_server.model.continuation import CONTINUE_REQUEST
from codegen_server.model.scripted_server import ScriptStep

HELLO = [{"role": "system", "content": "You write code."}, {"role": "user", "content": "hello"}]
CUT = "b.py\n```python\ndef f():\n    return [1,"
REST = "    return [1, 2, 3]\n```\n"
WHOLE = "b.py\n```python\ndef f():\n    return [1, 2, 3]\n```\n"


def model_for(server, **settings) -> ChatModel:
    return ChatModel(ModelSettings(base_url=server.base_url, model="scripted-model", retry_backoff=0.01, **settings))


# -- answers cut off at the output limit --

async def test_a_cut_answer_is_continued_and_stitched(scripted_model):
    server = scripted_model([ScriptStep(content=CUT, finish_reason="length"), ScriptStep(content=REST)])
    completion = await model_for(server).complete(HELLO)
    # The continuation restarted the cut line; the repeated part is dropped.
    assert completion.text == WHOLE and completion.finish_reason == "stop" and not completion.truncated
    [continuation] = completion.continuations
    assert continuation.text == REST and continuation.finish_reason == "stop"
    # The continuation request carries the partial answer, then asks for the rest.
    asked = server.requests[1]["messages"]
    assert asked[:2] == HELLO and asked[2] == {"role": "assistant", "content": CUT}
    assert asked[3] == {"role": "user", "content": CONTINUE_REQUEST}
    assert completion.usage.completion_tokens > 0 and completion.attempts == 2


async def test_a_continuation_that_reopens_the_code_block_is_stitched_into_one_block(scripted_model):
    server = scripted_model([ScriptStep(content=CUT, finish_reason="length"),
                             ScriptStep(content="```python\n    return [1, 2, 3]\n```\n")])
    assert (await model_for(server).complete(HELLO)).text == WHOLE


async def test_an_answer_still_cut_after_the_continuations_is_refused_whole(scripted_model):
    server = scripted_model([ScriptStep(content=CUT, finish_reason="length"),
                             ScriptStep(content=" 2,", finish_reason="length"),
                             ScriptStep(content=" 3,", finish_reason="length")])
    with pytest.raises(TruncatedAnswer) as caught:
        await model_for(server, max_tokens=20).complete(HELLO)
    error = caught.value
    assert error.kind == "truncated" and len(server.requests) == 3  # the first request and 2 continuations
    assert "max_tokens=20" in error.message and "`model.maxTokens`" in error.message
    assert (error.setting, error.env) == ("model.maxTokens", "CODEGEN_MODEL_MAX_TOKENS")
    assert "inside a code block" in error.message and "nothing of it was applied" in error.message
    assert error.completion.text == CUT + " 2, 3," and len(error.completion.continuations) == 2


async def test_no_continuations_allowed_refuses_at_once(scripted_model):
    server = scripted_model([ScriptStep(content=CUT, finish_reason="length")])
    with pytest.raises(TruncatedAnswer):
        await model_for(server, max_continuations=0).complete(HELLO)
    assert len(server.requests) == 1


async def test_max_tokens_is_sent_only_when_set(scripted_model):
    server = scripted_model([ScriptStep(content="a"), ScriptStep(content="b")])
    await model_for(server, max_tokens=64).complete(HELLO)
    await model_for(server).complete(HELLO)
    assert server.requests[0]["max_tokens"] == 64 and "max_tokens" not in server.requests[1]


# -- usage --

async def test_usage_reported_by_the_server_is_used_as_is(scripted_model):
    server = scripted_model([ScriptStep(content="def f():\n    pass\n")])
    usage = (await model_for(server).complete(HELLO)).usage
    assert not usage.estimated and usage.completion_tokens == len("def f():\n    pass\n") // 4


async def test_usage_the_server_does_not_report_is_counted_locally_and_marked_estimated(scripted_model):
    answer = "def add(a, b):\n    return a + b\n"
    server = scripted_model([ScriptStep(content=answer, usage=False)])
    usage = (await model_for(server).complete(HELLO)).usage
    assert usage.estimated and usage.completion_tokens == count_tokens(answer)
    assert usage.prompt_tokens >= count_tokens("You write code.") + count_tokens("hello")


async def test_estimated_usage_adds_up_over_continuations(scripted_model):
    server = scripted_model([ScriptStep(content=CUT, finish_reason="length", usage=False),
                             ScriptStep(content=REST, usage=False)])
    completion = await model_for(server).complete(HELLO)
    assert completion.usage.estimated
    assert completion.usage.completion_tokens == count_tokens(CUT) + count_tokens(REST)
    assert completion.continuations[0].usage.estimated
    # The continuation's prompt holds the partial answer and the request to go on.
    assert completion.continuations[0].usage.prompt_tokens > count_tokens(CUT) + count_tokens(CONTINUE_REQUEST)


# -- reasoning --

@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_deltas_stay_out_of_the_answer(scripted_model, field):
    thinking = "The user wants a file.\nI will write b.py.\n```python\nb.py\n```"
    server = scripted_model([ScriptStep(content=WHOLE, reasoning=thinking, reasoning_field=field)])
    tokens, thoughts = [], []
    completion = await model_for(server).complete(HELLO, on_token=tokens.append, on_reasoning=thoughts.append)
    assert completion.text == WHOLE and "".join(tokens) == WHOLE
    assert completion.reasoning == thinking == "".join(thoughts)


@pytest.mark.parametrize("chunk_size", [1, 3, 16, 500])
async def test_a_leading_think_block_stays_out_of_the_answer(scripted_model, chunk_size):
    thinking = "Let me write c.py first.\nc.py\n```python\nprint('no')\n```\n"
    server = scripted_model([ScriptStep(content=f"\n<think>{thinking}</think>\n\n{WHOLE}", chunk_size=chunk_size)])
    tokens: list[str] = []
    completion = await model_for(server).complete(HELLO, on_token=tokens.append)
    assert completion.text == WHOLE and "".join(tokens) == WHOLE
    assert completion.reasoning == thinking


async def test_a_think_tag_inside_the_answer_is_the_answers_own_text(scripted_model):
    answer = "tags.py\n```python\nTAGS = ['<think>', '</think>']\n```\n"
    server = scripted_model([ScriptStep(content=answer, chunk_size=2)])
    completion = await model_for(server).complete(HELLO)
    assert completion.text == answer and completion.reasoning == ""


async def test_a_think_block_that_never_closes_is_all_thinking(scripted_model):
    server = scripted_model([ScriptStep(content="<think>still thinking about it", finish_reason="length"),
                             ScriptStep(content="<think>done</think>" + WHOLE)])
    completion = await model_for(server).complete(HELLO)
    assert completion.text == WHOLE and completion.reasoning == "still thinking about itdone"


# -- the wire's quirks --

async def test_null_content_deltas_and_a_role_only_first_chunk(scripted_model):
    server = scripted_model([ScriptStep(content=WHOLE, null_content=True, role_only_first=True, chunk_size=5)])
    completion = await model_for(server).complete(HELLO)
    assert completion.text == WHOLE and completion.attempts == 1


async def test_a_stream_without_done_is_complete_when_it_has_a_finish_reason(scripted_model):
    server = scripted_model([ScriptStep(content=WHOLE, send_done=False)])
    completion = await model_for(server).complete(HELLO)
    assert completion.text == WHOLE and completion.attempts == 1 and len(server.requests) == 1


async def test_a_usage_chunk_with_empty_choices_is_read(scripted_model):
    # The scripted server's usage chunk has "choices": [] as OpenAI's does; the text is untouched by it.
    server = scripted_model([ScriptStep(content="x = 1\n")])
    completion = await model_for(server).complete(HELLO)
    assert completion.text == "x = 1\n" and completion.usage.prompt_tokens > 0 and not completion.usage.estimated


async def test_a_server_error_object_in_a_200_stream_is_retried(scripted_model):
    server = scripted_model([
        ScriptStep(content=WHOLE, stream_error={"message": "the model crashed", "type": "server_error"},
                   stream_error_after=10),
        ScriptStep(content=WHOLE),
    ])
    completion = await model_for(server).complete(HELLO)
    assert completion.text == WHOLE and completion.retried == ["server-error"]


async def test_a_refused_request_in_a_200_stream_is_reported_not_retried(scripted_model):
    error = {"message": "the prompt is longer than the context window (8192 tokens)", "code": 400,
             "type": "invalid_request_error"}
    server = scripted_model([ScriptStep(content=WHOLE, stream_error=error), ScriptStep(content=WHOLE)])
    with pytest.raises(ModelError) as caught:
        await model_for(server).complete(HELLO)
    assert caught.value.kind == "bad-request" and "context window" in caught.value.message
    assert len(server.requests) == 1


# -- unreachable endpoints --

def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.timeout(10)  # the normal backoff would take 15 s or more; the quick retry, 0.2 s
async def test_a_refused_loopback_connection_is_reported_after_one_quick_retry():
    settings = ModelSettings(base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_retries=4, retry_backoff=600.0)
    with pytest.raises(ModelError) as caught:
        await ChatModel(settings).complete(HELLO)
    assert caught.value.kind == "unreachable"
    assert "connection was refused (after 2 attempts)" in caught.value.message
    assert "Start the model server" in caught.value.message and "OPENAI_BASE_URL" in caught.value.message


async def test_the_default_openai_endpoint_unreachable_does_not_speak_of_a_local_server(monkeypatch):
    # A proxy on loopback that hangs up stands in for a network that does not reach OpenAI; nothing leaves the machine.
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen()
    connects: list[bytes] = []

    def hang_up() -> None:
        while True:
            try:
                conn, _ = proxy.accept()
            except OSError:
                return
            with conn:
                connects.append(conn.recv(200))

    threading.Thread(target=hang_up, daemon=True).start()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.getsockname()[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        with pytest.raises(ModelError) as caught:
            await ChatModel(ModelSettings(api_key="sk-test-not-a-real-key-000000", max_retries=1,
                                          retry_backoff=0.01)).complete(HELLO)
    finally:
        proxy.close()
    assert connects and connects[0].startswith(b"CONNECT api.openai.com:443")
    message = caught.value.message
    assert caught.value.kind == "unreachable" and "api.openai.com" in message
    assert "server is running" not in message and "Start the model server" not in message
    assert "network" in message and "OPENAI_BASE_URL" in message


async def test_an_empty_200_stream_is_retried_once_then_explained(scripted_model):
    # llama-cpp-python's answer to a prompt over its context window: 200, then nothing.
    server = scripted_model([ScriptStep(empty_stream=True)] * 3)
    with pytest.raises(ModelError) as caught:
        await model_for(server, max_retries=4).complete(HELLO)
    assert len(server.requests) == 2
    assert "empty stream (2 attempts)" in caught.value.message and "context window" in caught.value.message


async def test_an_endpoint_that_wants_max_completion_tokens_gets_it(scripted_model):
    refusal = ("Unsupported parameter: 'max_tokens' is not supported with this model. "
               "Use 'max_completion_tokens' instead.")
    server = scripted_model([ScriptStep(status=400, error_message=refusal), ScriptStep(content="a"),
                             ScriptStep(content="b")])
    model = model_for(server, max_tokens=100)
    assert (await model.complete(HELLO)).text == "a"
    assert (await model.complete(HELLO)).text == "b"
    first, second, third = server.requests
    assert first["max_tokens"] == 100 and "max_completion_tokens" not in first
    assert second["max_completion_tokens"] == 100 and "max_tokens" not in second
    assert third["max_completion_tokens"] == 100  # remembered for the model's later calls
