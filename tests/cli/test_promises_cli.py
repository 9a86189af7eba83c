"""Behaviours the README promises from a terminal (issue 19 point 5): undo, context --test-output,
replay's --port and unmatched requests, and the preprompts shipped inside the wheel."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from codegen_server.model.scripted_server import ScriptStep
from tests.support.answers import CALC_PROJECT
from tests.support.cli import codegen, env_for
from tests.support.fix_projects import FIX_ONE_BREAK_TWO, fix_model, make_python_project, snapshot

REPO = Path(__file__).resolve().parents[2]


def test_undo_to_an_iteration_and_undoing_the_undo(tmp_path, scripted_model):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_ONE_BREAK_TWO]))
    done = codegen("fix", "--root", str(tmp_path), "--max-iterations", "1", env=env_for(model.base_url))
    assert done.returncode == 1 and snapshot(tmp_path) == start  # made worse, so returned to the start
    run_id = done.stdout.split("codegen undo ")[1].split(")")[0]

    to_iteration = codegen("undo", run_id, "--to", "iteration 1", "--root", str(tmp_path), env=env_for(None))
    assert to_iteration.returncode == 0 and "restored iteration 1" in to_iteration.stderr
    assert "return len(prices) + 1" in (tmp_path / "shop/cart.py").read_text()
    before_undo = to_iteration.stderr.split("--to ")[-1].split(")")[0]

    back = codegen("undo", run_id, "--to", before_undo, "--root", str(tmp_path), env=env_for(None))
    assert back.returncode == 0, back.stderr
    assert snapshot(tmp_path) == start


def test_context_reads_test_output_from_a_file(tmp_path):
    (tmp_path / "ledger.py").write_text("def balance(entries):\n    return sum(entries[1:])\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_ledger.py").write_text(
        "from ledger import balance\n\n\ndef test_balance():\n    assert balance([1, 2, 3]) == 6\n")
    output = tmp_path / "pytest.txt"
    output.write_text("    def test_balance():\n>       assert balance([1, 2, 3]) == 6\nE       assert 5 == 6\n\n"
                      "tests/test_ledger.py:5: AssertionError\n"
                      "FAILED tests/test_ledger.py::test_balance - assert 5 == 6\n")
    plain = codegen("context", "--root", str(tmp_path), "--json", env=env_for(None))
    focused = codegen("context", "--root", str(tmp_path), "--json", "--test-output", str(output), env=env_for(None))
    assert plain.returncode == 0 and focused.returncode == 0, focused.stderr
    assert "assert 5 == 6" not in json.loads(plain.stdout)["text"]
    assert "assert 5 == 6" in json.loads(focused.stdout)["text"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ask(base_url: str, content: str) -> tuple[int, dict]:
    body = json.dumps({"model": "scripted-model", "messages": [{"role": "user", "content": content}]}).encode()
    request = urllib.request.Request(f"{base_url}/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_replay_on_a_given_port_serves_unmatched_requests_in_order(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    assert codegen("generate", "a calculator", "--root", str(tmp_path), env=env_for(model.base_url)).returncode == 0
    [run_dir] = (tmp_path / ".codegen" / "runs").iterdir()
    port = _free_port()
    replay = subprocess.Popen([sys.executable, "-m", "codegen_server.cli", "replay", str(run_dir), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env_for(None))
    try:
        line = replay.stdout.readline().strip()
        assert line == f"OPENAI_BASE_URL=http://127.0.0.1:{port}/v1"
        base_url = line.split("=", 1)[1]
        # Messages no recorded call holds still get the next recorded answer...
        status, answer = _ask(base_url, "a prompt this run never sent")
        assert status == 200 and answer["choices"][0]["message"]["content"] == CALC_PROJECT
        # ...until every recorded answer was served.
        status, error = _ask(base_url, "one more")
        assert status == 400 and "served already" in error["error"]["message"]
    finally:
        replay.terminate()
        replay.wait(timeout=10)


@pytest.mark.timeout(600)
def test_the_built_wheel_holds_the_preprompts(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                           capture_output=True, text=True, timeout=580)
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("codegen*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for preprompt in sorted(p.name for p in (REPO / "preprompts").iterdir() if p.is_file()):
        assert f"codegen_server/preprompts/{preprompt}" in names, sorted(names)


def test_an_api_key_in_the_environment_is_redacted_by_value_from_errors(tmp_path):
    """Any `*API_KEY` variable's value, whatever its shape, is kept out of error texts — even those
    written before the settings are read (here the root's, which names the path it was given)."""
    key = "gw0123456789abcdef4242"
    root = tmp_path / "missing" / key / "ws"
    done = codegen("fix", "--root", str(root), env={**env_for(None), "MY_GATEWAY_API_KEY": key})
    assert done.returncode == 1 and "is not a folder" in done.stderr and "[redacted]" in done.stderr
    assert key not in done.stderr + done.stdout
