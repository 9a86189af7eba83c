"""codegen.applyFeedback: a comment on a range, through the daemon, previewed in the editor."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path

from codegen_server.context.shown import shown_whole
from codegen_server.model.scripted_server import ScriptStep
from tests.support.cli import codegen, env_for
from tests.conftest import model_env
from tests.support.answers import MEAN_EMPTY_LIST, STATS

WRONG_CONTEXT = MEAN_EMPTY_LIST.replace(" def mean(values):", " def average(values):")


def comment_args(root, comment="mean() should handle an empty list"):
    return {"uri": from_fs_path(str(root / "stats.py")), "comment": comment,
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}}


async def test_feedback_becomes_a_previewed_change(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.applyFeedback", comment_args(tmp_path))

    assert result["applied"] is True and result["files"] == [{"path": "stats.py", "action": "modify"}]
    assert result["explanation"].startswith("`mean` divides by zero")
    assert editor.edits_received and "if not values:" in (tmp_path / "stats.py").read_text()
    sent = model.requests[0]["messages"][-1]["content"]
    assert "mean() should handle an empty list" in sent and "stats.py, lines 1-2" in sent
    assert "return sum(values) / len(values)" in sent  # the enclosing function's body


async def test_a_hunk_that_misses_goes_back_to_the_model_once(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=WRONG_CONTEXT), ScriptStep(content=MEAN_EMPTY_LIST)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.applyFeedback", {**comment_args(tmp_path), "apply": "disk"})
    assert result["applied"] is True
    retry = model.requests[1]["messages"][-1]["content"]
    assert "could not be applied" in retry and "def average(values):" in retry


async def test_a_range_outside_the_file_is_a_clear_error(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    args = comment_args(tmp_path)
    args["range"] = {"start": {"line": 40, "character": 0}, "end": {"line": 45, "character": 0}}
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.applyFeedback", args)
    assert "41-46" in str(caught.value) and "stats.py" in str(caught.value)
    assert not model.requests


def test_feedback_from_the_terminal(tmp_path, scripted_model):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST)])
    done = codegen("feedback", "stats.py", "handle an empty list", "--lines", "1-2", "--root", str(tmp_path),
                   env=env_for(model.base_url))
    assert done.returncode == 0, done.stderr
    assert "divides by zero" in done.stdout and "modify  stats.py" in done.stdout
    assert "if not values:" in (tmp_path / "stats.py").read_text()


# A module whose header (imports, a module constant) the commented function does not use, and a passing
# test, in another file, that calls it: what a change may import or must keep working.
PRICING = {
    "python": {
        "shop/pricing.py": '''\
"""Prices."""

import math
from decimal import Decimal

TAX_RATE = 0.2


def with_tax(amount):
    return amount + amount * 0.2
''',
        "tests/test_pricing.py": '''\
from shop.pricing import with_tax


def test_a_round_amount_gets_its_tax():
    assert with_tax(10) == 12
''',
        "header": ["import math", "from decimal import Decimal", "TAX_RATE = 0.2"],
        "test": "def test_a_round_amount_gets_its_tax():\n    assert with_tax(10) == 12",
        "line": 9,
    },
    "javascript": {
        "shop/pricing.js": '''\
import { strict as assert } from 'node:assert';
import { roundCents } from './money.js';

export const TAX_RATE = 0.2;

export function withTax(amount) {
  return amount + amount * 0.2;
}
''',
        "shop/money.js": "export function roundCents(v) {\n  return Math.round(v * 100) / 100;\n}\n",
        "test/pricing.test.js": '''\
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withTax } from '../shop/pricing.js';

describe('withTax', () => {
  it('adds the tax to a round amount', () => {
    assert.equal(withTax(10), 12);
  });
});
''',
        "header": ["import { strict as assert } from 'node:assert';", "import { roundCents } from './money.js';",
                   "export const TAX_RATE = 0.2;"],
        "test": "  it('adds the tax to a round amount', () => {\n    assert.equal(withTax(10), 12);\n  });",
        "line": 7,
    },
}


@pytest.mark.parametrize("language", ["python", "javascript"])
async def test_a_feedback_request_quotes_the_file_header_and_a_passing_test_of_the_function(
        tmp_path, scripted_model, editor_factory, language):
    project = PRICING[language]
    files = {name: text for name, text in project.items() if "/" in name}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    source = next(iter(files))
    model = scripted_model([ScriptStep(content="Nothing to change.")] * 2)  # the answer, and the reminder's
    editor = await editor_factory(tmp_path, env=model_env(model))
    line = project["line"] - 1
    await editor.execute("codegen.applyFeedback", {
        "uri": from_fs_path(str(tmp_path / source)), "comment": "use TAX_RATE here", "apply": "none",
        "range": {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}}})

    sent = model.requests[0]["messages"][-1]["content"]
    # The whole header, the imports the function does not use yet and the constant it should: a change
    # can rely on them, or add an import where the others are.
    for header_line in project["header"]:
        assert shown_whole(header_line, sent), header_line
    # A passing test that calls the function, with its code: what the change must keep true.
    assert shown_whole(project["test"], sent)
