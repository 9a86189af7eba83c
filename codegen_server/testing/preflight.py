"""Before a test run: can its command start at all? A missing tool is no failing test, and no reason
to ask the model anything (issue 32): say so, and what to do."""

from __future__ import annotations

import errno
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from .detect import VENV_DIRS, has_pytest
from .types import TestCommand

#: Words a shell runs itself: nothing to look up on PATH.
_SHELL_WORDS = {".", ":", "cd", "exec", "exit", "export", "set", "source", "test", "true", "false", "[", "if",
                "for", "while", "case", "until", "{", "(", "!", "env", "command", "time", "echo", "eval", "sh"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
#: How the user sets the test command, in the words of both places codegen runs.
SET_COMMAND = "set the test command (`--test-cmd` on the command line, the setting `fix.testCommand` in an editor)"


class TestToolMissing(FileNotFoundError):
    """The test command cannot start: its program is not installed. ``str()`` is the whole advice."""

    __test__ = False  # not a pytest test class, despite the name
    #: What fixes it besides installing the tool (the JSON-RPC error's `data`).
    setting = "fix.testCommand"
    env = None

    def __init__(self, tool: str, message: str) -> None:
        super().__init__(errno.ENOENT, message, tool)
        self.message = message

    def __str__(self) -> str:
        return self.message


def check_runnable(command: TestCommand, path: str | None = None) -> None:
    """Raise ``TestToolMissing`` when ``command``'s program cannot be found (``path``: the PATH to search,
    default this process's). Blocking (it may start an interpreter to ask for pytest): run in a thread."""
    if command.shell is not None:
        tool = _first_program(command.shell)
        if tool is not None and not _found(tool, command.cwd, path):
            raise TestToolMissing(tool, f"Cannot run the tests: `{tool}` (from `{command.shell}`) is not installed "
                                        f"or not on PATH. Install it, or {SET_COMMAND}.")
        return
    argv = command.argv or ()
    if not argv:
        return
    if command.kind == "pytest" and argv[1:3] == ("-m", "pytest"):
        if not _found(argv[0], command.cwd, path):
            raise TestToolMissing(argv[0], f"Cannot run the tests: the interpreter {argv[0]} does not exist. "
                                           f"Fix it, or {SET_COMMAND}.")
        if not _interpreter_has_pytest(argv[0], command.cwd):
            raise TestToolMissing("pytest", _no_pytest(command, f"{argv[0]} has no pytest module"))
        return
    if not _found(argv[0], command.cwd, path):
        if command.kind == "pytest":
            raise TestToolMissing("pytest", _no_pytest(command, "no interpreter or PATH codegen can see has it"))
        raise TestToolMissing(argv[0], f"Cannot run the tests: `{argv[0]}` (from `{command.display()}`) is not "
                                       f"installed or not on PATH. Install it, or {SET_COMMAND}.")


def _no_pytest(command: TestCommand, why: str) -> str:
    """What to do when a Python project's tests need pytest and it is not there."""
    venv = next((d for d in VENV_DIRS if (command.cwd / d / "bin" / "python").is_file()), None)
    where = (f"install it into the project's environment (`{venv}/bin/python -m pip install pytest`)" if venv else
             "install it into the project's environment (`python -m venv .venv && .venv/bin/python -m pip install "
             "pytest`, codegen then uses .venv/bin/python), or `pip install pytest`")
    return (f"Cannot run the tests: this Python project's tests need pytest, and it is not installed ({why}). "
            f"To run them, {where}; or {SET_COMMAND}.")


def _first_program(line: str) -> str | None:
    """The program a simple shell command line starts; None when it is not plain to see."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    while words and _ASSIGNMENT.match(words[0]):
        words.pop(0)  # `FOO=1 pytest`
    if not words or words[0] in _SHELL_WORDS or not re.fullmatch(r"[\w./+-]+", words[0]):
        return None
    return words[0]


def _found(tool: str, cwd: Path, path: str | None) -> bool:
    if "/" in tool:
        candidate = Path(tool) if Path(tool).is_absolute() else cwd / tool
        return candidate.is_file() and os.access(candidate, os.X_OK)
    return shutil.which(tool, path=path) is not None


def _interpreter_has_pytest(python: str, cwd: Path) -> bool:
    """Whether ``python -m pytest`` can import pytest: a virtualenv's site-packages tell without starting it."""
    resolved = Path(python) if "/" in python else Path(shutil.which(python) or python)
    if resolved.parent.name == "bin" and has_pytest(resolved):
        return True
    try:
        done = subprocess.run([python, "-c", "import pytest"], cwd=cwd, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
