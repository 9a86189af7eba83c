"""No blind rewrites, through codegen.fixTests with a scripted model on real projects.

A whole-file answer for an existing file is applied only when the file's whole text was in the
conversation; otherwise the model gets the file once and is asked for a diff, and a second blind
rewrite of that file is refused. Every result says how much of each file was rewritten.
"""

from __future__ import annotations

import json

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.fix_projects import CART, FIX_CART, make_python_project

# total() fixed, count() and the docstring gone: what a model writes from the tests and the signatures.
BLIND_REWRITE = """I did not see the whole module, so here it is rewritten:

shop/cart.py
```python
def total(prices):
    return sum(prices)
```
"""


def scripted(plans: list[str], diagnosis: str = "total() skips the first price."):
    """Diagnose prompts get ``diagnosis``; every other prompt gets the next plan."""
    remaining = list(plans)

    def respond(body: dict) -> ScriptStep:
        if body["messages"][-1]["content"].startswith("The tests fail."):
            return ScriptStep(content=diagnosis)
        return ScriptStep(content=remaining.pop(0) if remaining else "No further change.")

    return respond


async def test_a_blind_rewrite_gets_the_file_once_and_the_diff_answered_to_it_applies(
        tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    model = scripted_model(scripted([BLIND_REWRITE, FIX_CART]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})

    assert result["green"] is True
    cart = (tmp_path / "shop/cart.py").read_text()
    assert "def count(prices):" in cart and '"""The sum of the prices."""' in cart  # nothing unseen was dropped
    diagnose, plan, follow_up = model.requests
    assert "def count(prices):\n    return len(prices)" not in plan["messages"][1]["content"]  # never shown whole
    sent = follow_up["messages"][-1]["content"]
    assert "You replaced shop/cart.py whole" in sent and "diff" in sent
    assert f"shop/cart.py\n```\n{CART}```" in sent  # the file, whole, as it is now
    [iteration] = result["iterations"]
    assert iteration["rewrittenFiles"] == [{"path": "shop/cart.py", "wholeFile": False, "lines": 7,
                                            "changedLines": 1, "changedShare": round(1 / 7, 3)}]

    run_dir = tmp_path / ".codegen/runs" / result["runId"]
    assert [p.name for p in sorted((run_dir / "calls").iterdir())] == [
        "001-diagnose-1.json", "002-plan-1.json", "003-plan-1-show.json"]
    assert json.loads((run_dir / "rewrites/plan-1.json").read_text())["decisions"] == [
        {"path": "shop/cart.py", "decision": "set aside, file sent", "call": "plan-1-show"}]


def _big_module() -> str:
    """A module too long to send whole in a follow-up, with total() at its top."""
    helpers = "".join(f"\n\ndef helper_{n}(value):\n    \"\"\"Helper number {n}.\"\"\"\n    return value * {n} + {n % 7}\n"
                      for n in range(700))
    return CART + helpers


async def test_a_second_blind_rewrite_is_refused_and_the_file_left_untouched(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    big = _big_module()
    (tmp_path / "shop/cart.py").write_text(big)
    # The whole file, total() fixed, the docstring dropped — written without ever seeing the file.
    rewrite = ("shop/cart.py\n```python\n"
               + big.replace("    return sum(prices[1:])", "    return sum(prices)").replace('    """The sum of the prices."""\n', "")
               + "```\n")
    model = scripted_model(scripted([rewrite, rewrite]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "maxIterations": 1})

    assert result["green"] is False
    assert (tmp_path / "shop/cart.py").read_text() == big
    [iteration] = result["iterations"]
    assert iteration["edited"] == [] and iteration["rewrittenFiles"] == []
    assert any(r.startswith("shop/cart.py: not changed — the answer replaced the whole file without having been shown")
               for r in iteration["refused"])
    # The follow-up could not carry the whole file; it carried the definitions the rewrite changed.
    follow_up = model.requests[2]["messages"][-1]["content"]
    assert "too long to show whole" in follow_up and "    3>     return sum(prices[1:])" in follow_up
    assert "def helper_500" not in follow_up
    run_dir = tmp_path / ".codegen/runs" / result["runId"]
    assert json.loads((run_dir / "rewrites/plan-1.json").read_text())["decisions"][-1] == {
        "path": "shop/cart.py", "decision": "refused: rewritten blind"}


async def test_a_rewrite_of_a_file_shown_whole_is_accepted(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    # A module that is one function: quoting the culprit quotes the whole file.
    (tmp_path / "shop/cart.py").write_text("def total(prices):\n    return sum(prices[1:])\n")
    (tmp_path / "tests/test_cart.py").write_text("from shop.cart import total\n\n\ndef test_total():\n"
                                                 "    assert total([1, 2, 3]) == 6\n")
    rewrite = "shop/cart.py\n```python\ndef total(prices):\n    return sum(prices)\n```\n"
    model = scripted_model(scripted([rewrite]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})

    assert result["green"] is True and len(model.requests) == 2  # no follow-up was needed
    assert (tmp_path / "shop/cart.py").read_text() == "def total(prices):\n    return sum(prices)\n"
    [iteration] = result["iterations"]
    assert iteration["rewrittenFiles"] == [{"path": "shop/cart.py", "wholeFile": True, "lines": 2,
                                            "changedLines": 1, "changedShare": 0.5}]


async def test_an_answer_that_asks_to_see_a_file_gets_it_before_anything_is_applied(
        tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    asks = "I could not see the rest of shop/cart.py; show me the whole file before I change it."
    model = scripted_model(scripted([asks, FIX_CART]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})

    assert result["green"] is True
    sent = model.requests[2]["messages"][-1]["content"]
    assert "You asked to see shop/cart.py" in sent and f"shop/cart.py\n```\n{CART}```" in sent
    run_dir = tmp_path / ".codegen/runs" / result["runId"]
    assert json.loads((run_dir / "rewrites/plan-1.json").read_text())["decisions"] == [
        {"shown": "shop/cart.py", "decision": "asked to see it", "call": "plan-1-show"}]
