"""The plan a model answers in the fix loop: edits (diffs), packages to install, commands to run.

Models with no tool calling answer in plain text, so the plan is read from text:
a fenced unified diff (or whole-file block) is the edit, and lines
``INSTALL: <package>`` / ``RUN: <command>`` are the other actions.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ..testing import TestCommand

_ACTION = re.compile(r"^\s*(?:[-*]\s*)?(?:`)?(INSTALL|RUN):\s*(?P<value>.+?)`?\s*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


@dataclass
class Plan:
    """The model's plan: ``text`` holds the edit (diffs or whole files) for the edits engine."""

    text: str
    installs: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


def parse_plan(answer: str) -> Plan:
    """Read INSTALL/RUN lines outside code blocks; the whole answer goes to the edits engine."""
    outside_code = _FENCE.sub("", answer)
    installs, commands = [], []
    for match in _ACTION.finditer(outside_code):
        (installs if match.group(1) == "INSTALL" else commands).append(match.group("value").strip())
    return Plan(text=answer, installs=installs, commands=commands)


_TEST_NAME = re.compile(r"(^test_.*\.py$|_test\.py$|\.(test|spec)\.[cm]?[jt]sx?$|_test\.go$|^conftest\.py$)")
_TEST_DIRS = {"tests", "test", "__tests__", "spec"}


def is_test_file(path: str) -> bool:
    """A file that holds tests, by the conventions of pytest, jest/vitest, go and cargo."""
    parts = PurePosixPath(path).parts
    return bool(_TEST_NAME.search(parts[-1])) or any(p in _TEST_DIRS for p in parts[:-1])


def install_command(package: str, tests: TestCommand) -> list[str]:
    """How a package is installed in a project whose tests run with ``tests``."""
    if tests.kind in ("npm", "node-test", "jest", "vitest"):
        return ["npm", "install", "--no-audit", "--no-fund", package]
    if tests.kind == "cargo":
        return ["cargo", "add", package]
    if tests.kind == "go":
        return ["go", "get", package]
    # The interpreter the tests run with, so the package lands where they look.
    python = tests.argv[0] if tests.argv and "python" in PurePosixPath(tests.argv[0]).name else sys.executable
    return [python, "-m", "pip", "install", package]
