"""Start-up stays light: a command loads the model client, numpy, the tokenizer or tree-sitter only
when it needs them (issue 14). Each case runs in a fresh interpreter and reads its ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: Top-level packages a command loads only when it calls a model, builds a map or parses a file.
MODEL = {"openai", "httpx", "pydantic"}
CONTEXT = {"numpy", "tiktoken", "tree_sitter", "bpe_openai"}


def loaded_after(code: str, cwd: Path) -> tuple[set[str], str]:
    """The top-level modules loaded once ``code`` ran in a fresh interpreter, and what it printed."""
    probe = textwrap.dedent(code) + textwrap.dedent("""
        import json as _json, sys as _sys
        print("MODULES=" + _json.dumps(sorted({name.split(".")[0] for name in _sys.modules})))
    """)
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    marker = done.stdout.rindex("MODULES=")
    return set(json.loads(done.stdout[marker + len("MODULES="):])), done.stdout[:marker] + done.stderr


def run_cli(argv: list[str]) -> str:
    return f"""
        from codegen_server.cli import main
        try:
            status = main({argv!r})
        except SystemExit as exit:
            status = exit.code
        print("STATUS", status)
    """


@pytest.mark.parametrize("argv", [["--help"], ["context", "--help"], ["apply", "--help"], ["fix", "--help"]])
def test_help_loads_no_model_client_and_no_context_engine(argv, tmp_path):
    modules, output = loaded_after(run_cli(argv), tmp_path)
    assert "STATUS 0" in output and "usage: codegen" in output
    assert not modules & (MODEL | CONTEXT), sorted(modules & (MODEL | CONTEXT))
    assert "asyncio" not in modules  # the model package's settings are read without its client


def test_apply_of_a_one_hunk_patch_loads_no_model_client_and_no_context_engine(tmp_path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "fix.diff").write_text("--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
                                       "-    return a - b\n+    return a + b\n")
    modules, output = loaded_after(run_cli(["apply", "fix.diff", "--root", "."]), tmp_path)
    assert "STATUS 0" in output, output
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert not modules & (MODEL | CONTEXT), sorted(modules & (MODEL | CONTEXT))
    assert "asyncio" not in modules  # the CLI applies synchronously: no event loop to keep free


def test_context_loads_the_engine_when_it_builds_a_map(tmp_path):
    """The other side of the lazy imports: the engine does load when a map is asked for."""
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    modules, output = loaded_after(run_cli(["context", "add", "--root", "."]), tmp_path)
    assert "STATUS 0" in output and "calc.py" in output, output
    assert {"numpy", "tree_sitter"} <= modules
    assert not modules & MODEL


def test_the_daemon_starts_without_the_model_client_or_numpy(tmp_path):
    modules, output = loaded_after("""
        from codegen_server.server.wiring import create_server
        server = create_server()
        print("COMMANDS", len(server.protocol.fm.commands))
    """, tmp_path)
    assert "COMMANDS" in output, output
    assert not modules & (MODEL | {"numpy", "tiktoken", "bpe_openai"}), sorted(modules & (MODEL | CONTEXT))
