"""Run the `codegen` command as a user does: a real subprocess through its entry point."""

from __future__ import annotations

import os
import subprocess
import sys


def codegen(*args: str, env: dict | None = None, cwd=None, stdin: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`codegen ARGS` (``python -m codegen_server.cli``); ``stdin`` feeds `-` arguments, else it is empty."""
    return subprocess.run([sys.executable, "-m", "codegen_server.cli", *args], env=env, cwd=cwd, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def env_for(base_url: str | None) -> dict:
    """This environment without any model keys, pointed at ``base_url`` (a scripted model) if given."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY") and not k.startswith("OPENAI_")}
    if base_url:
        env.update(OPENAI_BASE_URL=base_url, CODEGEN_MODEL="scripted-model")
    return env
