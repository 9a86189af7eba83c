"""Failure parsing on real runner output: pytest (every --tb style), go test and cargo test run
for real on small failing projects; jest and vitest from their documented output format."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codegen_server.context import ContextEngine, parse_test_output
from codegen_server.context.output import trim_output

CALC = '''\
def divide(a, b):
    return a / b


class Stack:
    def __init__(self):
        self.items = []

    def pop(self):
        return self.items.pop()
'''

TESTS = '''\
import pytest

from pkg.calc import Stack, divide


def test_divide_by_zero():
    assert divide(1, 0) == 0


def test_equal():
    assert divide(4, 2) == 3


def test_passes():
    assert divide(4, 2) == 2


class TestStack:
    def test_pop_empty(self):
        Stack().pop()


@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert divide(n, n) == 2
'''


@pytest.fixture(scope="module")
def failing_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("failing")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "calc.py").write_text(CALC)
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(TESTS)
    return root


def run_pytest(root: Path, style: str) -> str:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--tb={style}", "tests"],
        cwd=root, capture_output=True, text=True, env=env, timeout=60,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    return completed.stdout


EXPECTED_IDS = [
    "tests/test_calc.py::test_divide_by_zero",
    "tests/test_calc.py::test_equal",
    "tests/test_calc.py::TestStack::test_pop_empty",
    "tests/test_calc.py::test_param[1]",
    "tests/test_calc.py::test_param[2]",
]


@pytest.mark.parametrize("style", ["auto", "long", "short", "native"])
def test_pytest_tracebacks_with_frames(failing_project: Path, style: str) -> None:
    failures = parse_test_output(run_pytest(failing_project, style))
    assert [f.test_id for f in failures] == EXPECTED_IDS
    by_id = {f.test_id: f for f in failures}

    divide_failure = by_id["tests/test_calc.py::test_divide_by_zero"]
    assert divide_failure.test_name == "test_divide_by_zero"
    assert "ZeroDivisionError" in divide_failure.message
    workspace_frames = [(Path(fr.path).name, fr.line, fr.function) for fr in divide_failure.frames
                        if "site-packages" not in fr.path and "_pytest" not in fr.path]
    assert workspace_frames == [("test_calc.py", 7, "test_divide_by_zero"), ("calc.py", 2, "divide")]

    pop_failure = by_id["tests/test_calc.py::TestStack::test_pop_empty"]
    assert pop_failure.test_name == "test_pop_empty"
    assert (Path(pop_failure.frames[-1].path).name, pop_failure.frames[-1].line) == ("calc.py", 10)
    assert by_id["tests/test_calc.py::test_param[2]"].test_name == "test_param"


def test_pytest_line_style(failing_project: Path) -> None:
    failures = parse_test_output(run_pytest(failing_project, "line"))
    assert [f.test_id for f in failures] == EXPECTED_IDS
    first = failures[0].frames[0]
    assert (Path(first.path).name, first.line) == ("calc.py", 2)


def test_engine_returns_the_failing_test_and_the_frames(failing_project: Path) -> None:
    output = run_pytest(failing_project, "auto")
    result = ContextEngine(failing_project).build(test_output=output, budget=3000)
    assert result.tokens <= 3000
    text = result.text
    assert "## Failing tests\n- tests/test_calc.py::test_divide_by_zero: ZeroDivisionError: division by zero" in text
    assert "    7>     assert divide(1, 0) == 0" in text  # the test body, failing line marked
    assert "Frame `divide` (pkg/calc.py:1-2):" in text and "    2>     return a / b" in text
    assert "Frame `pop` (pkg/calc.py:9-10):" in text
    # The parametrized test is quoted once, with its decorator, and its two cases listed under it.
    assert text.count("def test_param(n):") == 1  # its body, not repeated in the map
    assert "@pytest.mark.parametrize" in text and "- tests/test_calc.py::test_param: 2 cases fail" in text
    assert "class Stack:" in text  # a method's class header comes with it
    assert result.files[:2] == ["tests/test_calc.py", "pkg/calc.py"]
    assert len(result.failures) == 5


@pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed")
def test_go_test_output(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/calc\n\ngo 1.19\n")
    (tmp_path / "calc.go").write_text("package calc\n\nfunc Add(a, b int) int {\n\treturn a - b\n}\n\n"
                                      "func Index(xs []int, i int) int {\n\treturn xs[i]\n}\n")
    (tmp_path / "calc_test.go").write_text(
        'package calc\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n\tif got := Add(2, 2); got != 4 {\n'
        '\t\tt.Errorf("Add(2, 2) = %d, want 4", got)\n\t}\n}\n\nfunc TestIndex(t *testing.T) {\n\tIndex([]int{}, 3)\n}\n'
    )
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOCACHE": str(tmp_path / ".gocache")}
    for verbose in ([], ["-v"]):
        output = subprocess.run(["go", "test", *verbose, "./..."], cwd=tmp_path, capture_output=True,
                                text=True, env=env, timeout=120).stdout
        failures = parse_test_output(output)
        assert [f.test_id for f in failures] == ["TestAdd", "TestIndex"]
        assert (failures[0].frames[0].path, failures[0].frames[0].line) == ("calc_test.go", 7)
        assert "want 4" in failures[0].message
        workspace = [(Path(f.path).name, f.line, f.function) for f in failures[1].frames if str(tmp_path) in f.path]
        assert workspace == [("calc_test.go", 12, "TestIndex"), ("calc.go", 8, "Index")]
        assert "index out of range" in failures[1].message


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
def test_cargo_test_output(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text(
        "pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n"
        "    #[test]\n    fn adds() {\n        assert_eq!(add(2, 2), 4);\n    }\n}\n"
    )
    for backtrace in ("0", "1"):
        env = {**os.environ, "RUST_BACKTRACE": backtrace, "CARGO_TARGET_DIR": str(tmp_path / "target")}
        completed = subprocess.run(["cargo", "test", "--offline", "-q"], cwd=tmp_path, capture_output=True,
                                   text=True, env=env, timeout=300)
        failures = parse_test_output(completed.stdout)
        assert [f.test_id for f in failures] == ["tests::adds"]
        assert failures[0].test_name == "adds"
        assert "left == right" in failures[0].message
        assert ("src/lib.rs", 11) in [(f.path.removeprefix("./"), f.line) for f in failures[0].frames]


JEST_OUTPUT = """\
 FAIL  src/sum.test.js
  math
    ✕ adds numbers (3 ms)

  ● math › adds numbers

    expect(received).toBe(expected) // Object.is equality

    Expected: 4
    Received: 0

      3 | describe("math", () => {
      4 |   test("adds numbers", () => {
    > 5 |     expect(sum(2, 2)).toBe(4);
        |                       ^
      6 |   });

      at sum (src/sum.js:2:10)
      at Object.<anonymous> (src/sum.test.js:5:23)
      at Promise.then.completed (node_modules/jest-circus/build/utils.js:298:28)

Tests:       1 failed, 1 total
"""

VITEST_OUTPUT = """\
 FAIL  src/sum.test.ts > math > adds numbers
AssertionError: expected 0 to be 4 // Object.is equality
 ❯ src/sum.test.ts:5:23
      3| describe("math", () => {
      4|   test("adds numbers", () => {
      5|     expect(sum(2, 2)).toBe(4);
       |                       ^

 Test Files  1 failed (1)
"""


def test_jest_and_vitest_output() -> None:
    jest = parse_test_output(JEST_OUTPUT)
    assert [f.test_id for f in jest] == ["math › adds numbers"]
    assert jest[0].test_name == "adds numbers"
    assert [(f.path, f.line) for f in jest[0].frames] == [("src/sum.test.js", 5), ("src/sum.js", 2)]
    assert jest[0].message.startswith("expect(received).toBe(expected)")
    vitest = parse_test_output(VITEST_OUTPUT)
    assert [f.test_id for f in vitest] == ["src/sum.test.ts > math > adds numbers"]
    assert [(f.path, f.line) for f in vitest[0].frames] == [("src/sum.test.ts", 5)]
    assert vitest[0].message.startswith("AssertionError: expected 0 to be 4")


def test_output_without_failures() -> None:
    assert parse_test_output("===== 3 passed in 0.01s =====\n") == []
    assert parse_test_output("") == []


def test_pytest_ids_always_name_the_file(tmp_path: Path) -> None:
    """An error in a fixture, two files with a test of the same name, parameters with spaces: each
    failure keeps its full node id (issue 25: one failure id came without its `tests/...::`)."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_a.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef broken():\n    raise RuntimeError('no database')\n\n\n"
        "def test_uses_fixture(broken):\n    pass\n\n\n"
        "def test_same_name():\n    assert 1 == 2\n\n\n"
        "@pytest.mark.parametrize('text', ['a b', 'c d'])\ndef test_spaced(text):\n    assert text == 'x'\n")
    (tmp_path / "tests/test_b.py").write_text("def test_same_name():\n    assert 'b' == 'c'\n")
    failures = parse_test_output(run_pytest(tmp_path, "auto"))
    assert sorted(f.test_id for f in failures) == [
        "tests/test_a.py::test_same_name", "tests/test_a.py::test_spaced[a b]", "tests/test_a.py::test_spaced[c d]",
        "tests/test_a.py::test_uses_fixture", "tests/test_b.py::test_same_name"]
    by_id = {f.test_id: f for f in failures}
    assert "RuntimeError: no database" in by_id["tests/test_a.py::test_uses_fixture"].message
    assert "'b' == 'c'" in by_id["tests/test_b.py::test_same_name"].message


def test_pytest_messages_keep_their_lines(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_dict.py").write_text(
        "def test_pairs():\n    assert {'a': 1, ' b': 2} == {'a': 1, 'b': 2}\n")
    [failure] = parse_test_output(run_pytest(tmp_path, "auto"))
    lines = failure.message.splitlines()
    assert lines[0] == "AssertionError: assert {'a': 1, ' b': 2} == {'a': 1, 'b': 2}"
    # The continuation lines stay indented under the assertion, each on its own line.
    assert "  Left contains 1 more item:" in lines and "  {' b': 2}" in lines and "  {'b': 2}" in lines


NODE_PROJECT = {
    "slug.js": "function slugify(text) {\n  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');\n}\n"
               "function initials(name) {\n  return name.parts.map((p) => p[0]).join('');\n}\n"
               "module.exports = { slugify, initials };\n",
    "test/slug.test.js": "const { describe, it } = require('node:test');\nconst assert = require('node:assert');\n"
                         "const { slugify, initials } = require('../slug.js');\n\n"
                         "describe('slugify', () => {\n"
                         "  it('joins words', () => {\n    assert.strictEqual(slugify('Hello World'), 'hello-world');\n  });\n"
                         "  it('trims punctuation', () => {\n    console.log('checking');\n"
                         "    assert.strictEqual(slugify(' Hello! '), 'hello');\n  });\n});\n\n"
                         "describe('initials', () => {\n  it('takes first letters', () => {\n"
                         "    assert.strictEqual(initials('Ada Lovelace'), 'AL');\n  });\n});\n",
}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_spec_output(tmp_path: Path) -> None:
    for rel, text in NODE_PROJECT.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    output = subprocess.run(["node", "--test", "--test-reporter=spec"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120).stdout
    assert "failing tests:" in output  # node 20's recap, which repeats every failure
    failures = parse_test_output(output)
    assert [f.test_id for f in failures] == ["test/slug.test.js > slugify > trims punctuation",
                                             "test/slug.test.js > initials > takes first letters"]
    assert failures[0].message == ("AssertionError: Expected values to be strictly equal:\n"
                                   "+ actual - expected\n\n+ '-hello-'\n- 'hello'")
    assert failures[1].message == "TypeError: Cannot read properties of undefined (reading 'map')"
    workspace = [(Path(f.path).name, f.line) for f in failures[1].frames]
    # The test's own location first (from the recap), then its stack outermost first, node's own frames dropped.
    assert workspace == [("slug.test.js", 16), ("slug.test.js", 17), ("slug.js", 5)]

    text = ContextEngine(tmp_path).build(test_output=output, budget=3000).text
    # The test, a call rather than a named function, is quoted with its failing line marked.
    assert "Test `trims punctuation` (test/slug.test.js:9-12):" in text
    assert "   11>     assert.strictEqual(slugify(' Hello! '), 'hello');" in text
    assert "Frame `initials` (slug.js:4-6):" in text
    # What the tests printed stays; the recap, node's frames and its property dumps go.
    trimmed = text.split("## Test output", 1)[1].split("\n## ", 1)[0]
    assert "checking" in trimmed
    assert "node:internal" not in text and "failing tests:" not in text and "generatedMessage" not in text


NODE_SPEC_OUTPUT = """\
▶ parsePair
  ✖ accepts empty values (0.299341ms)
    Error: no value in a=
        at Object.parsePair (/tmp/js2/lib/parse.js:6:11)
        at TestContext.<anonymous> (/tmp/js2/test/parse.test.js:10:34)
        at Test.runInAsyncScope (node:async_hooks:206:9)

✖ parsePair (47.51211ms)
ℹ tests 1
ℹ fail 1

✖ failing tests:

test at test/parse.test.js:9:3
✖ accepts empty values (0.299341ms)
  Error: no value in a=
      at Object.parsePair (/tmp/js2/lib/parse.js:6:11)
      at TestContext.<anonymous> (/tmp/js2/test/parse.test.js:10:34)
      at Test.runInAsyncScope (node:async_hooks:206:9)
"""

NODE_TAP_OUTPUT = """\
TAP version 13
# Subtest: total adds tax and rounds to cents
not ok 2 - total adds tax and rounds to cents
  ---
  duration_ms: 1.902072
  location: '/tmp/shop/test/cart.test.js:9:1'
  failureType: 'testCodeFailure'
  error: |-
    Expected values to be strictly equal:

    0.36 !== 0.37

  code: 'ERR_ASSERTION'
  stack: |-
    TestContext.<anonymous> (file:///tmp/shop/test/cart.test.js:12:10)
    Test.runInAsyncScope (node:async_hooks:206:9)
    async Test.processPendingSubtests (node:internal/test_runner/test:526:7)
  ...
1..2
"""


def test_node_test_output_spec_and_tap() -> None:
    # The spec reporter: its closing list gives each test's location; the suite's own line is no failure.
    [spec] = parse_test_output(NODE_SPEC_OUTPUT)
    assert (spec.runner, spec.test_name, spec.message) == ("node", "accepts empty values", "Error: no value in a=")
    assert [(f.path, f.line) for f in spec.frames] == [("test/parse.test.js", 9), ("/tmp/js2/test/parse.test.js", 10),
                                                       ("/tmp/js2/lib/parse.js", 6)]
    # TAP: the location and the stack (file:// URLs, node's own frames left out), outermost first.
    [tap] = parse_test_output(NODE_TAP_OUTPUT)
    assert tap.test_name == "total adds tax and rounds to cents" and tap.message.endswith("0.36 !== 0.37")
    assert [(f.path, f.line) for f in tap.frames] == [("/tmp/shop/test/cart.test.js", 9), ("/tmp/shop/test/cart.test.js", 12)]
    # The output sent along keeps the test's own frame and drops node's, in both reporters.
    trimmed = trim_output(NODE_TAP_OUTPUT, 1000)
    assert "cart.test.js:12:10" in trimmed and "node:" not in trimmed
    trimmed = trim_output(NODE_SPEC_OUTPUT, 1000)
    assert "node:" not in trimmed and trimmed.count("no value in a=") <= 1
