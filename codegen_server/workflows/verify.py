"""The check after a change: run the tests that exercise the changed code, and say what broke.

For runners that select tests by file (pytest, jest, vitest) the check runs the test files
that import or name a changed module; when none does, or the runner cannot select, the
whole suite runs. A failure is reported, never hidden: the fix loop can take it from there.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence

from ..context.walk import walk_sources
from ..testing import TestToolMissing, check_runnable, detect_test_command, run_tests

_TEST_FILE = re.compile(r"(^|/)(test_[^/]*\.py|[^/]*_test\.py|[^/]*\.(test|spec)\.[cm]?[jt]sx?)$")
_SELECT_BY_FILE = ("pytest", "jest", "vitest")


@dataclass
class TestCheck:
    """What the tests said after the change."""

    __test__ = False  # not a pytest test class, despite the name

    command: str
    passed: int
    failed: int
    failing: list[str] = field(default_factory=list)
    #: The test files the check was restricted to; empty when the whole suite ran.
    selected: list[str] = field(default_factory=list)
    #: Why the tests could not run at all (their tool is not installed), and what to do; None when they ran.
    error: str | None = None


def has_tests(root: Path, test_command: str | None = None) -> bool:
    """Whether the workspace has a test command codegen can run."""
    return detect_test_command(root, test_command) is not None


async def check_tests(root: Path, changed: Sequence[str], *, test_command: str | None = None,
                      timeout: float = 300) -> TestCheck | None:
    """Run the tests covering ``changed`` (workspace-relative paths); None when there are no tests."""
    command = await asyncio.to_thread(detect_test_command, root, test_command)
    if command is None:
        return None
    try:
        await asyncio.to_thread(check_runnable, command)
    except TestToolMissing as missing:
        return TestCheck(command=command.display(), passed=0, failed=0, error=str(missing))
    selected = await asyncio.to_thread(_covering_tests, root, changed) if command.kind in _SELECT_BY_FILE else []
    run = await run_tests(root, command, timeout=timeout, only=selected)
    return TestCheck(command=run.command, passed=run.passed, failed=run.failed + run.errors,
                     failing=[f.test_id for f in run.failures], selected=list(run.selected))


def _covering_tests(root: Path, changed: Sequence[str]) -> list[str]:
    """Test files that name a changed module (or are changed themselves)."""
    stems = {PurePosixPath(path).stem for path in changed if not _TEST_FILE.search(path)}
    stems.discard("__init__")
    words = re.compile(r"\b(" + "|".join(map(re.escape, sorted(stems))) + r")\b") if stems else None
    selected = []
    for source in walk_sources(root):
        if not _TEST_FILE.search(source.path):
            continue
        if source.path in changed:
            selected.append(source.path)
            continue
        if words is None:
            continue
        try:
            text = (root / source.path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if words.search(text):
            selected.append(source.path)
    return selected
