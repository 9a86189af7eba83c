"""A third editor without a codegen plugin: Emacs with eglot, configured only by an `eglot-server-programs` entry.

A real batch Emacs (Debian's emacs-nox and elpa-eglot, installed by scripts/test) opens a Python file
with a `codegen:` marker in a git project, starts codegen-server through eglot, waits for the marker's
diagnostic, runs the marker's code action as a user does (tests/clients/emacs/marker_action.el) and the
edit lands in its buffer — through `workspace/applyEdit` — and on disk. The model is the scripted one
(tests.support.serve_scripted_model), as for the Neovim specs. Without Emacs and eglot the test skips
locally and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.test_code_actions import DONE, MARKED

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("emacs") / "marker_action.el"
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def emacs() -> str:
    found = shutil.which("emacs")
    if found is None or subprocess.run([found, "--batch", "-q", "--eval", "(require 'eglot)"],
                                       capture_output=True, timeout=60).returncode != 0:
        pytest.skip("no Emacs with eglot: scripts/test installs Debian's emacs-nox and elpa-eglot")
    return found


@pytest.fixture
def model(tmp_path: Path):
    """The scripted model in its own process, answering the marker with DONE; yields (url, requests log)."""
    script, requests = tmp_path / "script.json", tmp_path / "requests.jsonl"
    script.write_text(json.dumps([{"content": DONE}]))
    server = subprocess.Popen([sys.executable, "-m", "tests.support.serve_scripted_model", str(script),
                               "--requests-log", str(requests)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline().strip()
        assert line.startswith("OPENAI_BASE_URL="), line
        yield line.split("=", 1)[1], requests
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.timeout(180)
def test_a_marker_is_done_from_emacs_eglot(emacs: str, model, tmp_path: Path):
    url, requests = model
    project = tmp_path / "project"
    project.mkdir()
    (project / "stats.py").write_text(MARKED)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)  # eglot's project is the git repository
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "CODEGEN_", "EMACS"))}
    env.update({"OPENAI_BASE_URL": url, "CODEGEN_MODEL": "scripted-model", "HOME": str(tmp_path),
                "CODEGEN_TEST_SERVER": str(VENV_BIN / "codegen-server"),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))})
    typed = "Codegen: do this marker (return 0.0 for an empty list)\ny\n"  # the action picked, then the edit allowed

    done = subprocess.run([emacs, "--batch", "-q", "-l", str(DRIVER), "stats.py"], cwd=project, env=env,
                          input=typed, capture_output=True, text=True, timeout=150)

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "DIAGNOSTIC: line 2: codegen [marker]: return 0.0 for an empty list" in output
    assert "codegen: `mean` now returns 0.0 for an empty list." in output  # the outcome, as eglot shows it
    buffer = output.split("BUFFER:\n", 1)[1]
    assert "    if not values:\n        return 0.0\n" in buffer and "# codegen:" not in buffer
    assert (project / "stats.py").read_text() == MARKED.replace(
        "    # codegen: return 0.0 for an empty list\n", "    if not values:\n        return 0.0\n")
    [request] = [json.loads(line) for line in requests.read_text().splitlines()]
    assert "return 0.0 for an empty list" in request["messages"][-1]["content"]
