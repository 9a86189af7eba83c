"""What the fix loop tells the model about a test run, on real node --test and pytest projects driven
through `codegen fix` with the scripted model (issue 25 point 3): the failures with full ids and
their messages as blocks, the output only where it adds something, and a re-run of the failing
tests said to be one."""

from __future__ import annotations

import json
import shutil

import pytest

from codegen_server.model.scripted_server import ScriptStep
from tests.support.cli import codegen, env_for
from tests.support.fix_projects import is_plan_request

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

SLUG_JS = """function slugify(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

function words(text) {
  return slugify(text).split('-');
}

module.exports = { slugify, words };
"""
SLUG_TEST_JS = """const test = require('node:test');
const assert = require('node:assert');
const { slugify, words } = require('../slug.js');

test('slugify lowercases and joins words', () => {
  assert.strictEqual(slugify('Hello World'), 'hello-world');
});

test('slugify trims punctuation at the ends', () => {
  assert.strictEqual(slugify(' Hello, World! '), 'hello-world');
});

test('slugify keeps digits', () => {
  assert.strictEqual(slugify('--Top 10--'), 'top-10');
});

test('words splits a title', () => {
  assert.deepStrictEqual(words('  A Tale of Two Cities  '), ['a', 'tale', 'of', 'two', 'cities']);
});
"""
# Trims the ends' spaces only: `words` passes after it, the two slugify tests still fail.
TRIM_ONLY = """```diff
--- a/slug.js
+++ b/slug.js
@@ -1,3 +1,3 @@
 function slugify(text) {
-  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
+  return text.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-');
 }
```
"""

CORE_PY = '''def slugify(text):
    """Lower-case words joined by dashes."""
    out = []
    for ch in text.lower():
        out.append(ch if ch.isalnum() else "-")
    return "".join(out)


def parse_pairs(text):
    """'a=1, b=2' -> {'a': 1, 'b': 2}"""
    result = {}
    for part in text.split(","):
        key, value = part.split("=")
        result[key] = int(value)
    return result
'''
CORE_TESTS_PY = '''from textkit.core import parse_pairs, slugify


def test_slugify_simple():
    assert slugify("Hello World") == "hello-world"


def test_slugify_punctuation():
    assert slugify(" Hello, World! ") == "hello-world"


def test_parse_pairs():
    assert parse_pairs("a=1, b=2, c=3") == {"a": 1, "b": 2, "c": 3}
'''


def _plan_then_nothing(plan: str):
    plans = [plan]

    def respond(body: dict) -> ScriptStep:
        if is_plan_request(body):
            return ScriptStep(content=plans.pop(0) if plans else "I have no further idea.")
        return ScriptStep(content="The text is not trimmed before it is split.")

    return respond


def _user_messages(requests: list[dict]) -> list[str]:
    """The test report that opens each iteration's conversation (system prompt and one user turn), in order."""
    return [r["messages"][1]["content"] for r in requests if len(r["messages"]) == 2]


@needs_node
def test_node_failures_are_listed_with_their_file_and_their_diff_and_the_recap_is_gone(tmp_path, scripted_model):
    (tmp_path / "test").mkdir()
    (tmp_path / "package.json").write_text(json.dumps({"name": "slug", "version": "1.0.0",
                                                       "scripts": {"test": "node --test"}}))
    (tmp_path / "slug.js").write_text(SLUG_JS)
    (tmp_path / "test/slug.test.js").write_text(SLUG_TEST_JS)
    model = scripted_model(_plan_then_nothing(TRIM_ONLY))
    done = codegen("fix", "--root", str(tmp_path), "--max-iterations", "2", env=env_for(model.base_url))
    assert done.returncode == 1, done.stdout + done.stderr

    first, second = _user_messages(model.requests)
    # Full ids, and the assertion's diff as node printed it, line by line (node's own one-line message
    # attribute runs them together: "...strictly equal:+ actual - expected+ '-hello-world-'- 'hello-world'").
    assert ("- test/slug.test.js > slugify trims punctuation at the ends:\n"
            "    AssertionError: Expected values to be strictly equal:\n"
            "    + actual - expected\n"
            "    + '-hello-world-'\n"
            "    - 'hello-world'\n") in first
    assert "equal:+ actual" not in first
    # Node's recap of every failure, its frames inside node itself and its property dumps are not sent;
    # nothing is said twice.
    assert "failing tests:" not in first and "node:internal" not in first and "generatedMessage" not in first
    assert first.count("'-top-10-'") == 1
    # The test is quoted with its failing line marked, and the function it calls whole.
    assert "   10>   assert.strictEqual(slugify(' Hello, World! '), 'hello-world');" in first
    assert "`slugify` (slug.js:1-3):" in first  # by the coverage ranking, or as called by the test

    # Iteration 2 reports a re-run of the 3 tests that failed, not the suite: one test passing in the
    # suite is not lost, and the test the filter left out is not listed as skipped.
    assert second.startswith("The tests fail. Command: `node --test`, re-run for just the 3 selected tests that "
                             "failed before: 1 passed, 2 failed, 0 errors. The whole suite, last run at the start: "
                             "1 passed, 3 failing.")
    assert "does not match pattern" not in second and "skipped" not in second
    listed = second.split("## Failing tests\n", 1)[1].split("\n## ", 1)[0]
    assert "words splits a title" not in listed  # it passes now


def test_pytest_failures_quote_the_whole_diff_once(tmp_path, scripted_model):
    (tmp_path / "textkit").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (tmp_path / "textkit/__init__.py").write_text("")
    (tmp_path / "textkit/core.py").write_text(CORE_PY)
    (tmp_path / "tests/test_core.py").write_text(CORE_TESTS_PY)
    model = scripted_model(_plan_then_nothing("I have no idea."))
    done = codegen("fix", "--root", str(tmp_path), "--max-iterations", "1", env=env_for(model.base_url))
    assert done.returncode == 1, done.stdout + done.stderr

    [report] = _user_messages(model.requests)
    listed = report.split("## Failing tests\n", 1)[1].split("\n## ", 1)[0]
    # pytest's explanation with its lines, past "Full diff:", without its `?  ^` markers and hints.
    assert ("- tests/test_core.py::test_parse_pairs:\n"
            "    AssertionError: assert {'a': 1, ' b': 2, ' c': 3} == {'a': 1, 'b': 2, 'c': 3}\n") in listed
    assert "      Full diff:" in listed and "      -     'c': 3,\n      +     ' c': 3,\n        }" in listed
    assert "?  " not in listed and "-vv" not in listed
    assert "- tests/test_core.py::test_slugify_punctuation:\n" in listed
    # What the list says is not repeated in the test output: no `>` source lines, `E` lines or diff
    # markers; a plain assertion adds nothing there, so there is no output section at all.
    assert report.count("Full diff:") == 1 and report.count('assert slugify(" Hello, World! ")') == 1
    assert "## Test output" not in report
