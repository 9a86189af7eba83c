"""Real projects with real bugs for the repair loop, and a scripted model that answers its prompts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from codegen_server.model.scripted_server import Responder, ScriptStep

CART = '''def total(prices):
    """The sum of the prices."""
    return sum(prices[1:])


def count(prices):
    return len(prices)
'''

CART_TESTS = '''from shop.cart import count, total


def test_total():
    assert total([1, 2, 3]) == 6


def test_total_of_nothing():
    assert total([]) == 0


def test_count():
    assert count([1, 2]) == 2
'''


def make_python_project(root: Path) -> dict[str, bytes]:
    """A pytest project with an off-by-one bug; returns its files' bytes."""
    files = {
        "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n",
        "conftest.py": "",
        "shop/__init__.py": "",
        "shop/cart.py": CART,
        "tests/test_cart.py": CART_TESTS,
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return snapshot(root)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's bytes, outside .codegen/ and caches."""
    skip = {".codegen", "__pycache__", ".pytest_cache", "node_modules"}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not skip.intersection(p.relative_to(root).parts)}


FIX_CART = '''The bug is in `total`: it skips the first price.

```diff
--- a/shop/cart.py
+++ b/shop/cart.py
@@ -1,3 +1,3 @@
 def total(prices):
     """The sum of the prices."""
-    return sum(prices[1:])
+    return sum(prices)
```
'''

FIX_ONE_BREAK_TWO = '''```diff
--- a/shop/cart.py
+++ b/shop/cart.py
@@ -1,7 +1,7 @@
 def total(prices):
     """The sum of the prices."""
-    return sum(prices[1:])
+    return sum(prices) if prices else 1
 
 
 def count(prices):
-    return len(prices)
+    return len(prices) + 1
```
'''

TOUCH_DOCSTRING = '''```diff
--- a/shop/cart.py
+++ b/shop/cart.py
@@ -1,2 +1,2 @@
 def total(prices):
-    """The sum of the prices."""
+    """Sum of the prices."""
```
'''

EDIT_THE_TEST = '''```diff
--- a/tests/test_cart.py
+++ b/tests/test_cart.py
@@ -4,2 +4,2 @@
 def test_total():
-    assert total([1, 2, 3]) == 6
+    assert total([1, 2, 3]) == 5
```
'''


def is_plan_request(body: dict) -> bool:
    last = body["messages"][-1]["content"]
    return "Now fix it" in last or "could not be applied" in last


def fix_model(plans: Sequence[str], diagnosis: str = "total() skips the first price.", **step) -> Responder:
    """Answers each diagnose prompt with ``diagnosis`` and each plan prompt with the next of ``plans``."""
    remaining = list(plans)

    def respond(body: dict) -> ScriptStep:
        if is_plan_request(body):
            return ScriptStep(content=remaining.pop(0) if remaining else "I have no further idea.", **step)
        return ScriptStep(content=diagnosis, **step)

    return respond


PRICE_JS = "function total(prices) {\n  return prices.slice(1).reduce((a, b) => a + b, 0);\n}\n\nmodule.exports = { total };\n"
PRICE_TEST_JS = ("const test = require('node:test');\nconst assert = require('node:assert');\n"
                 "const { total } = require('../price.js');\n\n"
                 "test('total adds every price', () => {\n  assert.strictEqual(total([1, 2, 3]), 6);\n});\n")
FIX_PRICE_JS = '''```diff
--- a/price.js
+++ b/price.js
@@ -1,3 +1,3 @@
 function total(prices) {
-  return prices.slice(1).reduce((a, b) => a + b, 0);
+  return prices.reduce((a, b) => a + b, 0);
 }
```
'''


def make_node_project(root: Path) -> None:
    (root / "test").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "price", "version": "1.0.0",
                                                   "scripts": {"test": "node --test"}}))
    (root / "price.js").write_text(PRICE_JS)
    (root / "test" / "price.test.js").write_text(PRICE_TEST_JS)
