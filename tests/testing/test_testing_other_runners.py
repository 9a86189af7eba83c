"""Real Node (node:test), Rust (cargo) and Go projects with failing tests."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from codegen_server.testing import detect_test_command, run_tests

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
needs_cargo = pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed")


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


NODE_PROJECT = {
    "package.json": json.dumps({"name": "calc", "version": "1.0.0", "scripts": {"test": "node --test"}}),
    "calc.js": "exports.add = (a, b) => a - b;\nexports.mul = (a, b) => a * b;\n",
    "test/calc.test.js": """\
        const test = require('node:test');
        const assert = require('node:assert');
        const { add, mul } = require('../calc');

        test.describe('calc', () => {
          test('adds numbers', () => {
            assert.strictEqual(add(2, 3), 5);
          });
          test('multiplies numbers', () => {
            assert.strictEqual(mul(2, 3), 6);
          });
        });
        """,
}


@needs_node
async def test_node_builtin_runner_project(tmp_path: Path) -> None:
    root = write(tmp_path, NODE_PROJECT)
    command = detect_test_command(root)
    assert command is not None and command.kind == "node-test"

    run = await run_tests(root, command, timeout=60)

    assert not run.green and run.structured
    assert (run.passed, run.failed) == (1, 1)
    [failure] = run.failures
    assert failure.test_id == "test/calc.test.js > calc > adds numbers"  # the file, then the titles
    assert (failure.file, failure.line) == ("test/calc.test.js", 7)
    # node's own message attribute runs the diff's lines together; the message keeps them.
    assert failure.message == "AssertionError: Expected values to be strictly equal:\n\n-1 !== 5"
    assert "adds numbers" in run.output  # the spec reporter's text is kept for people

    again = await run_tests(root, command, timeout=60, only=run.failing_ids)
    assert (again.passed, again.failed) == (0, 1)

    (root / "calc.js").write_text("exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n")
    assert (await run_tests(root, command, timeout=60)).green


@needs_node
async def test_node_runner_behind_a_compound_npm_script(tmp_path: Path) -> None:
    root = write(tmp_path, NODE_PROJECT)
    package = {"name": "calc", "version": "1.0.0", "scripts": {"test": "echo building && node --test"}}
    (root / "package.json").write_text(json.dumps(package))
    command = detect_test_command(root)
    assert command is not None and command.argv == ("npm", "test")

    run = await run_tests(root, command, timeout=60)

    assert run.structured and (run.passed, run.failed) == (1, 1)
    assert run.failing_ids == ["test/calc.test.js > calc > adds numbers"]


RUST_LIB = """\
    pub fn add(a: i32, b: i32) -> i32 { a - b }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn adds() {
            assert_eq!(add(2, 3), 5);
        }

        #[test]
        fn zero() {
            assert_eq!(add(0, 0), 0);
        }

        #[test]
        #[ignore]
        fn slow() {}
    }
    """


@pytest.fixture(scope="session")
def cargo_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One target directory for every cargo test here, so dependencies build once."""
    return tmp_path_factory.mktemp("cargo-target")


@needs_cargo
async def test_cargo_project(tmp_path: Path, cargo_target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARGO_TARGET_DIR", str(cargo_target))
    root = write(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
            "src/lib.rs": RUST_LIB,
            "tests/api.rs": '#[test]\nfn api_adds() {\n    assert!(calc::add(2, 2) == 4, "add is broken");\n}\n',
        },
    )
    command = detect_test_command(root)
    assert command is not None and command.kind == "cargo"

    run = await run_tests(root, command, timeout=120)

    assert not run.green and run.structured
    assert (run.passed, run.failed, run.skipped) == (1, 2, 1)
    by_id = {f.test_id: f for f in run.failures}
    assert (by_id["tests::adds"].file, by_id["tests::adds"].line) == ("src/lib.rs", 9)
    assert "left: -1" in by_id["tests::adds"].message
    assert (by_id["api_adds"].file, by_id["api_adds"].message) == ("tests/api.rs", "add is broken")

    again = await run_tests(root, command, timeout=120, only=["tests::adds"])
    assert (again.passed, again.failed) == (0, 1)

    (root / "src" / "lib.rs").write_text(textwrap.dedent(RUST_LIB).replace("{ a - b }", "{ a + b + \"x\" }"))
    broken = await run_tests(root, command, timeout=120)
    assert not broken.green and broken.errors >= 1
    assert broken.failures[0].test_id.startswith("<build> src/lib.rs:1")
    assert broken.failures[0].message.startswith("error[E0")


GO_FILES = {
    "go.mod": "module example.com/calc\n\ngo 1.19\n",
    "calc.go": "package calc\n\nfunc Add(a, b int) int { return a - b }\n",
    "calc_test.go": """\
        package calc

        import "testing"

        func TestAdd(t *testing.T) {
        	if got := Add(2, 3); got != 5 {
        		t.Errorf("Add(2, 3) = %d, want 5", got)
        	}
        }

        func TestZero(t *testing.T) {
        	if Add(0, 0) != 0 {
        		t.Fatal("zero")
        	}
        }

        func TestTable(t *testing.T) {
        	t.Run("two_plus_two", func(t *testing.T) {
        		if Add(2, 2) != 4 {
        			t.Error("2+2")
        		}
        	})
        }
        """,
    "util/util_test.go": 'package util\n\nimport "testing"\n\nfunc TestLater(t *testing.T) { t.Skip("later") }\n',
}


@needs_go
async def test_go_project(tmp_path: Path) -> None:
    root = write(tmp_path, GO_FILES)
    command = detect_test_command(root)
    assert command is not None and command.kind == "go"

    run = await run_tests(root, command, timeout=120)

    assert not run.green and run.structured
    assert (run.passed, run.failed, run.skipped) == (1, 2, 1)
    assert run.failing_ids == ["example.com/calc::TestAdd", "example.com/calc::TestTable/two_plus_two"]
    first = run.failures[0]
    assert (first.file, first.line, first.message) == ("calc_test.go", 7, "calc_test.go:7: Add(2, 3) = -1, want 5")
    assert '{"Time"' not in run.output  # the JSON stream is rendered back to text

    again = await run_tests(root, command, timeout=120, only=run.failing_ids[:1])
    assert (again.passed, again.failed) == (0, 1)

    (root / "calc.go").write_text('package calc\n\nfunc Add(a, b int) int { return a - b + "x" }\n')
    broken = await run_tests(root, command, timeout=120)
    assert not broken.green and broken.errors >= 1
    assert broken.failures[0].test_id == "<build> calc.go:3"
