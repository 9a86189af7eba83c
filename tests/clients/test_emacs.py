"""A third editor without a codegen plugin: Emacs with eglot, configured only by an `eglot-server-programs` entry.

A real batch Emacs (Debian's emacs-nox and elpa-eglot, installed by scripts/test) opens a Python file
in a git project, starts codegen-server through eglot and runs a code action as a user does
(tests/clients/emacs/code_action.el): a marker's, once its diagnostic shows, or the fix loop's on a
failing project; the edit lands in its buffer — through `workspace/applyEdit` — and on disk, and eglot
shows the outcome. The model is the scripted one (tests.support.serve_scripted_model), as for the
Neovim specs. Without Emacs and eglot the tests skip locally and fail under CI=true.
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
from tests.support.fix_projects import FIX_CART, make_python_project

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("emacs") / "code_action.el"
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def emacs() -> str:
    found = shutil.which("emacs")
    if found is None or subprocess.run([found, "--batch", "-q", "--eval", "(require 'eglot)"],
                                       capture_output=True, timeout=60).returncode != 0:
        pytest.skip("no Emacs with eglot: scripts/test installs Debian's emacs-nox and elpa-eglot")
    return found


@pytest.fixture
def scripted(tmp_path: Path):
    """``scripted(steps)`` serves the scripted model in its own process; returns (url, requests log)."""
    servers: list[subprocess.Popen] = []

    def start(steps: list[dict]) -> tuple[str, Path]:
        script, requests = tmp_path / "script.json", tmp_path / "requests.jsonl"
        script.write_text(json.dumps(steps))
        server = subprocess.Popen([sys.executable, "-m", "tests.support.serve_scripted_model", str(script),
                                   "--requests-log", str(requests)], cwd=REPO, stdout=subprocess.PIPE, text=True)
        servers.append(server)
        line = server.stdout.readline().strip()
        assert line.startswith("OPENAI_BASE_URL="), line
        return line.split("=", 1)[1], requests

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=10)


def run_emacs(emacs: str, project: Path, file: str, url: str, typed: str) -> str:
    """Emacs runs the driver on ``file`` in ``project`` with ``typed`` as the keyboard; returns its output."""
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)  # eglot's project is the git repository
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "CODEGEN_", "EMACS"))}
    env.update({"OPENAI_BASE_URL": url, "CODEGEN_MODEL": "scripted-model", "HOME": str(project.parent),
                "CODEGEN_TEST_SERVER": str(VENV_BIN / "codegen-server"),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))})
    done = subprocess.run([emacs, "--batch", "-q", "-l", str(DRIVER), file], cwd=project, env=env,
                          input=typed, capture_output=True, text=True, timeout=170)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@pytest.mark.timeout(180)
def test_a_marker_is_done_from_emacs_eglot(emacs: str, scripted, tmp_path: Path):
    url, requests = scripted([{"content": DONE}])
    project = tmp_path / "project"
    project.mkdir()
    (project / "stats.py").write_text(MARKED)

    output = run_emacs(emacs, project, "stats.py", url,
                       "Codegen: do this marker (return 0.0 for an empty list)\ny\n")  # the action, then the edit

    assert "DIAGNOSTIC: line 2: codegen [marker]: return 0.0 for an empty list" in output
    assert "codegen: `mean` now returns 0.0 for an empty list." in output  # the outcome, as eglot shows it
    buffer = output.split("BUFFER:\n", 1)[1]
    assert "    if not values:\n        return 0.0\n" in buffer and "# codegen:" not in buffer
    assert (project / "stats.py").read_text() == MARKED.replace(
        "    # codegen: return 0.0 for an empty list\n", "    if not values:\n        return 0.0\n")
    [request] = [json.loads(line) for line in requests.read_text().splitlines()]
    assert "return 0.0 for an empty list" in request["messages"][-1]["content"]


@pytest.mark.timeout(180)
def test_the_fix_action_runs_to_green_from_emacs_eglot(emacs: str, scripted, tmp_path: Path):
    url, _ = scripted([{"when": "Now fix it", "content": FIX_CART}, {"content": "total() skips the first price."}])
    project = tmp_path / "project"
    project.mkdir()
    make_python_project(project)

    output = run_emacs(emacs, project, "shop/cart.py", url, "Codegen: fix until tests pass\ny\n")

    assert "all tests pass. Failing tests: 1 at the start, 0 now (1 fixed)" in output
    assert "    return sum(prices)\n" in output.split("BUFFER:\n", 1)[1]
    assert "return sum(prices)\n" in (project / "shop/cart.py").read_text()
