"""The scripts in examples/ run as shipped, and the README shows them as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from codegen_server.model.scripted_server import ScriptStep
from tests.support.answers import CALC_FILES, CALC_PROJECT
from tests.test_readme import headless_example

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_the_readme_shows_examples_headless_py_as_it_is():
    assert (EXAMPLES / "headless.py").read_text() == headless_example()


def test_examples_headless_py_generates_a_project(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    project = tmp_path / "project"
    project.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    env.update(OPENAI_BASE_URL=model.base_url, CODEGEN_MODEL="scripted-model")
    # Run from elsewhere, as the README's `python examples/headless.py ROOT PROMPT` does from a checkout.
    done = subprocess.run([sys.executable, str(EXAMPLES / "headless.py"), str(project), "a calculator library"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for path in CALC_FILES:
        assert (project / path).is_file() and path in done.stdout
    assert "a calculator library" in model.requests[0]["messages"][-1]["content"]


def test_examples_headless_py_says_in_one_line_what_is_wrong(tmp_path):
    script = str(EXAMPLES / "headless.py")
    missing = subprocess.run([sys.executable, script, str(tmp_path / "nowhere"), "a calculator"],
                             capture_output=True, text=True, timeout=60)
    usage = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=60)
    for done in (missing, usage):
        assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "is not a folder" in missing.stderr and "usage:" in usage.stderr
