"""The README's headless example runs as written, against the scripted model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from codegen_server.model.scripted_server import ScriptStep
from tests.support.answers import CALC_FILES, CALC_PROJECT

README = Path(__file__).resolve().parent.parent / "README.md"


def headless_example() -> str:
    section = README.read_text().split("### Headless", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_headless_example_generates_a_project(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    script = tmp_path / "headless.py"
    script.write_text(headless_example())
    project = tmp_path / "project"
    project.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    env.update(OPENAI_BASE_URL=model.base_url, CODEGEN_MODEL="scripted-model")
    done = subprocess.run([sys.executable, str(script), str(project), "a calculator library with tests"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for path in CALC_FILES:
        assert (project / path).is_file() and path in done.stdout
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project,
                           capture_output=True, text=True, timeout=120)
    assert tests.returncode == 0, tests.stdout
