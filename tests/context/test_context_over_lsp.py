"""codegen.context driven by an editor-like LSP client: the index follows the editor's buffers."""

from __future__ import annotations

from pathlib import Path

PRICING = '''\
def apply_discount(amount: float, code: str) -> float:
    return amount * 0.9 if code == "SAVE10" else amount
'''
CART = '''\
from pricing import apply_discount


class Cart:
    def total(self, amount: float, code: str) -> float:
        return apply_discount(amount, code)
'''


async def test_did_change_updates_the_index_before_any_save(tmp_path: Path, editor_factory) -> None:
    (tmp_path / "pricing.py").write_text(PRICING)
    (tmp_path / "cart.py").write_text(CART)
    editor = await editor_factory(tmp_path)

    before = await editor.execute("codegen.context", {"task": "loyalty_bonus", "budget": 300})
    assert "loyalty_bonus" not in before["text"]

    uri = editor.open("pricing.py")
    edited = PRICING + "\n\ndef loyalty_bonus(points: int) -> float:\n    return points / 100\n"
    editor.change(uri, edited)
    after = await editor.execute("codegen.context", {"task": "loyalty_bonus", "budget": 300})
    assert "def loyalty_bonus(points: int) -> float:" in after["text"]
    assert after["files"][0] == "pricing.py"
    assert (tmp_path / "pricing.py").read_text() == PRICING  # only the buffer changed

    # A range in the buffer: LSP lines are 0-based; the engine reports the enclosing method.
    focused = await editor.execute("codegen.context", {
        "uri": editor.open("cart.py"), "range": {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 4}},
        "budget": 600,
    })
    assert "Enclosing method `total` (cart.py:5-6):" in focused["text"]
    assert "Uses `apply_discount` (pricing.py:1-2):" in focused["text"]  # the body of what it calls
    assert focused["tokens"] <= 600
    assert {"total", "map"} <= set(focused["timings"])
