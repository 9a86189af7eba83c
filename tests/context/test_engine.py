"""The engine's front door: range context, editor buffers, the workflow and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from codegen_server.context import ContextEngine, engine_for
from codegen_server.workflows.context import gather_context

FILES = {
    "shop/cart.py": '''\
from shop.pricing import apply_discount, tax_for
from shop.models import Item
import logging

log = logging.getLogger(__name__)


class Cart:
    def __init__(self):
        self.items: list[Item] = []

    def add(self, item: Item) -> None:
        self.items.append(item)

    def total(self, code: str) -> float:
        subtotal = sum(i.price for i in self.items)
        discounted = apply_discount(subtotal, code)
        return discounted + tax_for(discounted)
''',
    "shop/pricing.py": '''\
def apply_discount(amount: float, code: str) -> float:
    return amount * 0.9 if code == "SAVE10" else amount


def tax_for(amount: float) -> float:
    return round(amount * 0.2, 2)
''',
    "shop/models.py": '''\
from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
''',
    "shop/checkout.py": '''\
from shop.cart import Cart


def checkout(cart: Cart, code: str) -> str:
    return f"{cart.total(code):.2f}"
''',
}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_range_context_has_enclosing_callees_callers_and_imports(shop: Path) -> None:
    result = ContextEngine(shop).build(path="shop/cart.py", line_range=(17, 18), budget=2000)
    text = result.text
    assert "Enclosing method `total` (shop/cart.py:15-18):" in text
    assert "class Cart:" in text
    assert "   17>         discounted = apply_discount(subtotal, code)" in text
    # The file's whole header, numbered: the imports it relies on, those it does not (yet), module constants.
    assert ("Header of `shop/cart.py` (its imports and module-level constants):\n"
            "    1  from shop.pricing import apply_discount, tax_for\n    2  from shop.models import Item\n"
            "    3  import logging\n    4  \n    5  log = logging.getLogger(__name__)\n") in text
    # What it calls and what calls it, whole.
    assert "Uses `apply_discount` (shop/pricing.py:1-2):" in text and 'return amount * 0.9 if code == "SAVE10" else amount' in text
    assert "Uses `tax_for` (shop/pricing.py:5-6):" in text and "return round(amount * 0.2, 2)" in text
    assert "## What calls it\nCaller `checkout` (shop/checkout.py:4-5):" in text and 'return f"{cart.total(code):.2f}"' in text
    assert result.files[0] == "shop/cart.py" and "shop/pricing.py" in result.files
    assert result.tokens <= 2000
    assert set(result.timings) >= {"focus", "rank", "map", "total"}


def test_small_budget_truncates_focused_context_and_stays_within(shop: Path) -> None:
    engine = ContextEngine(shop)
    for budget in (0, 3, 15, 40, 90):
        result = engine.build(path="shop/cart.py", line_range=(17, 17), budget=budget)
        assert result.tokens <= budget


def test_editor_buffer_shows_up_in_context(shop: Path) -> None:
    engine = ContextEngine(shop)
    engine.refresh()
    buffer = FILES["shop/pricing.py"] + "\n\ndef shipping_cost(weight: float) -> float:\n    return weight * 3\n"
    engine.update_document(str(shop / "shop/pricing.py"), buffer)
    result = engine.build(task="shipping_cost is wrong", budget=500)
    assert "def shipping_cost(weight: float) -> float:" in result.text
    assert result.files[0] == "shop/pricing.py"


def test_update_while_refreshing_in_another_thread(shop: Path) -> None:
    engine = ContextEngine(shop)
    errors: list[BaseException] = []

    def refresh_loop() -> None:
        try:
            for _ in range(20):
                engine.refresh()
        except BaseException as error:  # surfaced below
            errors.append(error)

    worker = threading.Thread(target=refresh_loop)
    worker.start()
    for n in range(50):
        engine.update_document("shop/models.py", FILES["shop/models.py"] + f"\n\nclass Extra{n}:\n    pass\n")
    worker.join()
    assert not errors
    names = [d.name for d in engine.index.get("shop/models.py").tags.definitions]
    assert names[-1] == "Extra49"


def test_bad_range_is_a_clear_error(shop: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.py"):
        ContextEngine(shop).build(path="missing.py", line_range=(1, 2))
    with pytest.raises(ValueError):
        ContextEngine(shop).build(budget=-1)
    with pytest.raises(ValueError, match="past the end of shop/models.py"):
        ContextEngine(shop).build(path="shop/models.py", line_range=(40, 45))


def test_gather_context_notices_disk_edits(shop: Path) -> None:
    first = gather_context(shop, task="checkout", budget=400)
    assert "def checkout(cart: Cart, code: str) -> str:" in first.text
    (shop / "shop" / "checkout.py").write_text("def pay_now(amount: float) -> bool:\n    return True\n")
    second = gather_context(shop, task="pay_now", budget=400)
    assert "def pay_now(amount: float) -> bool:" in second.text
    assert "def checkout" not in second.text
    assert engine_for(shop) is engine_for(str(shop))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from codegen_server.cli import main; sys.exit(main())", "context", *args],
        capture_output=True, text=True, timeout=60,
    )


def test_cli_prints_text_and_json(shop: Path) -> None:
    plain = run_cli("--root", str(shop), "--budget", "300", "the discount code in pricing")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith("## Repository map")
    assert "shop/pricing.py:" in plain.stdout

    as_json = run_cli("--root", str(shop), "--json", "--budget", "120", "--file", "shop/cart.py", "--lines", "17")
    assert as_json.returncode == 0, as_json.stderr
    payload = json.loads(as_json.stdout)
    assert payload["tokens"] <= 120 and payload["budget"] == 120
    assert payload["files"][0] == "shop/cart.py"
    assert {"total", "rank", "map"} <= set(payload["timings"])
    assert "apply_discount" in payload["text"]


def test_cli_errors(shop: Path) -> None:
    missing = run_cli("--root", str(shop / "nope"))
    assert missing.returncode == 1 and "not a folder" in missing.stderr
    bad = run_cli("--root", str(shop), "--file", "shop/cart.py", "--lines", "9-2")
    assert bad.returncode == 1 and "bad line range" in bad.stderr


def test_task_words_that_look_like_code_weigh_more(shop: Path) -> None:
    from codegen_server.context.rank import focus_from_text

    engine = ContextEngine(shop)
    engine.refresh()
    focus = focus_from_text(engine.graph(), "the total is wrong after apply_discount in `checkout`; see shop/models.py")
    assert focus.identifiers == {"apply_discount", "checkout"}
    assert focus.weak_identifiers == {"total"}
    assert focus.files["shop/models.py"] == 1.0


def test_a_workspace_without_cross_file_references_still_maps(tmp_path: Path) -> None:
    # One module, nothing referring to anything elsewhere: the reference graph has no keys at all.
    (tmp_path / "ops.py").write_text("def add(a, b):\n    return a + b\n")
    result = gather_context(tmp_path, task="add a subtract function", budget=500)
    assert result.files == ["ops.py"] and "def add(a, b)" in result.text
