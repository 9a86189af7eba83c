"""No blind rewrites, and SHOW requests, through codegen.fixTests with a scripted model on real projects.

A whole-file answer for an existing file is applied only when the file's whole text was in the
conversation; otherwise the model gets the file once and is asked for a diff, and a second blind
rewrite of that file is refused. Every result says how much of each file was rewritten.
"""

from __future__ import annotations

import json
from unittest.mock import ANY

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.fix_projects import CART, FIX_CART, make_python_project
from tests.support.prompts import assert_one_voice

# total() fixed, count() and the docstring gone: what a model writes from the tests and the signatures.
BLIND_REWRITE = """I did not see the whole module, so here it is rewritten:

shop/cart.py
```python
def total(prices):
    return sum(prices)
```
"""


def numbered(path: str, text: str) -> str:
    """A file quoted whole the way follow-ups quote it: a heading, then each line with its number."""
    lines = text.splitlines()
    return f"{path} (all of it, {len(lines)} lines):\n" + "\n".join(f"{n:>5}  {line}" for n, line in enumerate(lines, 1))


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
    assert "You replaced shop/cart.py whole" in sent
    assert numbered("shop/cart.py", CART) in sent  # the file, whole, as it is now, numbered like the context
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
    assert "What you asked to see" in sent and numbered("shop/cart.py", CART) in sent
    run_dir = tmp_path / ".codegen/runs" / result["runId"]
    assert json.loads((run_dir / "shown/plan-1.json").read_text())["requests"] == [
        {"request": "shop/cart.py", "from": "prose", "shown": "shop/cart.py", "answer": "", "tokens": ANY,
         "call": "plan-1-show"}]


TAX = "def rate(region):\n    \"\"\"The VAT rate of a region.\"\"\"\n    return {\"fr\": 0.2, \"de\": 0.19}[region]\n"
ASKS_TO_SEE = """Before I change anything I need to see the tax code and a few files.

**SHOW:** `shop/tax.py::rate`
SHOW: shop/discounts.py
SHOW: ../secret.txt
SHOW: .git/config
SHOW: settings.env
"""


async def test_show_requests_are_answered_in_the_same_conversation_and_spend_no_iteration(
        tmp_path, scripted_model, editor_factory):
    root = tmp_path / "ws"
    root.mkdir()
    make_python_project(root)
    (root / "shop/tax.py").write_text(TAX)  # nothing the failing tests call: not in the context
    (root / ".git").mkdir()
    (root / ".git/config").write_text("[core]\n\tsecret = GITSECRET\n")
    (tmp_path / "secret.txt").write_text("OUTSIDESECRET\n")
    (root / ".gitignore").write_text("*.env\n")
    (root / "settings.env").write_text("TOKEN=IGNOREDSECRET\n")
    model = scripted_model(scripted([ASKS_TO_SEE, FIX_CART]))
    editor = await editor_factory(root, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})

    assert result["green"] is True
    [iteration] = result["iterations"]  # the request to see code was not an iteration
    assert iteration["shown"] == ["shop/tax.py::rate"]
    diagnose, plan, show = model.requests
    system = diagnose["messages"][0]["content"]
    assert_one_voice(system, existing_code=True)
    assert "Do not write the fix yet" not in system and "Write no edit in this answer" in diagnose["messages"][1]["content"]
    assert "The VAT rate of a region" not in plan["messages"][1]["content"]  # its body: shown on request only
    answer = show["messages"][-1]["content"]
    assert show["messages"][:-1] == [*plan["messages"], {"role": "assistant", "content": ASKS_TO_SEE}]  # one conversation
    assert ("shop/tax.py::rate (lines 1-3):\n    1  def rate(region):\n    2      \"\"\"The VAT rate of a region.\"\"\"\n"
            in answer)
    assert "`shop/discounts.py`: no such file in the workspace" in answer
    assert "`../secret.txt`: not shown" in answer and "`.git/config`: not shown" in answer
    assert "`settings.env`: not shown — the workspace's .gitignore excludes it" in answer
    assert not any(secret in json.dumps(request) for request in model.requests
                   for secret in ("OUTSIDESECRET", "GITSECRET", "IGNOREDSECRET"))
    assert "do not replace existing files whole" not in answer
    run_dir = root / ".codegen/runs" / result["runId"]
    record = json.loads((run_dir / "shown/plan-1.json").read_text())
    assert [(r["request"], r["shown"]) for r in record["requests"]] == [
        ("shop/tax.py::rate", "shop/tax.py::rate"), ("shop/discounts.py", ""), ("../secret.txt", ""), (".git/config", ""),
        ("settings.env", "")]
