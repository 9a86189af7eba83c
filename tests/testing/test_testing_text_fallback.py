"""User-given shell commands have no structured report: counts and failing tests come
from the runner's text summary."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from codegen_server.testing import detect_test_command, run_tests


async def test_pytest_summary_behind_a_shell_command(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text(
        "def test_ok():\n    pass\n\ndef test_bad():\n    assert 1 == 2\n\ndef test_ok_too():\n    pass\n"
    )
    command = detect_test_command(tmp_path, f"echo preparing && {sys.executable} -m pytest -rfE")
    assert command is not None and command.kind == "custom"

    run = await run_tests(tmp_path, command, timeout=60)

    assert not run.green and not run.structured
    assert (run.passed, run.failed) == (2, 1)
    assert run.failing_ids == ["test_app.py::test_bad"]
    assert "assert 1 == 2" in run.failures[0].message


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_tap_output_of_node_test_runner(tmp_path: Path) -> None:
    (tmp_path / "math.test.js").write_text(
        "const test = require('node:test');\nconst assert = require('node:assert');\n"
        "test('one', () => assert.ok(true));\n"
        "test('two', () => assert.strictEqual(1, 2));\n"
        "test('three', { skip: true }, () => {});\n"
    )
    command = detect_test_command(tmp_path, "node --test --test-reporter=tap | cat")
    assert command is not None and command.kind == "custom"

    run = await run_tests(tmp_path, command, timeout=60)

    assert run.exit_code == 0 and not run.green  # `| cat` hides the exit code; the failure is still seen
    assert not run.structured
    assert (run.passed, run.failed, run.skipped) == (1, 1, 1)
    assert run.failing_ids == ["two"]
