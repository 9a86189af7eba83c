"""Real vitest and jest projects, read through their JSON reports.

vitest and jest are installed from npm once and cached (per machine, in the
temp directory); without npm or the registry these tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from codegen_server.testing import detect_test_command, run_tests

RUNNERS = {"vitest": "3.2.4", "jest": "29.7.0"}


@pytest.fixture(scope="session")
def js_node_modules() -> Path:
    """A node_modules with vitest and jest, installed on first use and then reused."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    key = "-".join(f"{name}{version}" for name, version in sorted(RUNNERS.items()))
    cache = Path(tempfile.gettempdir()) / "codegen-test-cache" / f"js-runners-{key}"
    if not (cache / "node_modules" / ".bin" / "vitest").exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="js-runners-", dir=cache.parent))
        package = {"name": "runners", "version": "1.0.0", "devDependencies": RUNNERS}
        (staging / "package.json").write_text(json.dumps(package))
        install = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging, capture_output=True, text=True, timeout=300,
        )
        if install.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.skip(f"npm install of vitest/jest failed (offline?): {install.stderr[-300:]}")
        try:
            os.rename(staging, cache)  # atomic: a half-installed cache is never used
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another session won the race
    return cache / "node_modules"


def make_project(root: Path, node_modules: Path, script: str, test_file: str, test_code: str) -> Path:
    package = {"name": "calc", "version": "1.0.0", "scripts": {"test": script}, "devDependencies": RUNNERS}
    (root / "package.json").write_text(json.dumps(package))
    (root / "node_modules").symlink_to(node_modules, target_is_directory=True)
    (root / "calc.js").write_text("exports.add = (a, b) => a - b;\nexports.mul = (a, b) => a * b;\n")
    (root / test_file).parent.mkdir(parents=True, exist_ok=True)
    (root / test_file).write_text(test_code)
    return root


BODY = """\
describe('calc', () => {
  test('adds', () => {
    expect(add(2, 3)).toBe(5);
  });
  test('multiplies', () => {
    expect(mul(2, 3)).toBe(6);
  });
  test.skip('later', () => {});
});
"""


async def test_vitest_project(tmp_path: Path, js_node_modules: Path) -> None:
    code = "import { describe, test, expect } from 'vitest';\nimport { add, mul } from '../calc.js';\n" + BODY
    root = make_project(tmp_path, js_node_modules, "vitest", "test/calc.test.js", code)
    command = detect_test_command(root)
    assert command is not None and command.kind == "vitest"

    run = await run_tests(root, command, timeout=120)

    assert not run.green and run.structured
    assert (run.passed, run.failed, run.skipped) == (1, 1, 1)
    [failure] = run.failures
    assert failure.test_id == "test/calc.test.js > calc > adds"
    assert (failure.file, failure.line) == ("test/calc.test.js", 5)
    assert "expected -1 to be 5" in failure.message

    again = await run_tests(root, command, timeout=120, only=run.failing_ids)
    assert (again.passed, again.failed) == (0, 1)

    (root / "test" / "broken.test.js").write_text("const x = ;\n")
    broken = await run_tests(root, command, timeout=120)
    assert not broken.green
    assert [f.test_id for f in broken.failures if f.status == "error"] == ["test/broken.test.js"]


async def test_jest_project(tmp_path: Path, js_node_modules: Path) -> None:
    code = "const { add, mul } = require('../calc');\n" + BODY
    root = make_project(tmp_path, js_node_modules, "jest", "test/calc.test.js", code)
    command = detect_test_command(root)
    assert command is not None and command.kind == "jest"

    run = await run_tests(root, command, timeout=120)

    assert not run.green and run.structured
    assert (run.passed, run.failed, run.skipped) == (1, 1, 1)
    [failure] = run.failures
    assert failure.test_id == "test/calc.test.js > calc > adds"
    assert (failure.file, failure.line) == ("test/calc.test.js", 4)
    assert "Received: -1" in failure.message

    again = await run_tests(root, command, timeout=120, only=run.failing_ids)
    assert (again.passed, again.failed, again.skipped) == (0, 1, 2)

    (root / "calc.js").write_text("exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n")
    assert (await run_tests(root, command, timeout=120)).green
