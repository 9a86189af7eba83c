"""What the model sees in a fix request, in every language: real JavaScript (node --test, ES modules and
CommonJS), TypeScript (vitest), Go and Rust projects with a slip, repaired over stdio by an editor-like
client and a scripted model. The first request must quote the failing test's code and the code it runs
(followed through imports and re-exports) whole, so a model can write a diff from it."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from codegen_server.context.shown import shown_whole
from tests.conftest import model_env
from tests.support.fix_projects import fix_model
from tests.testing.test_testing_js_runners import js_node_modules  # noqa: F401 - the fixture

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed")
needs_cargo = pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))


def diff(path: str, old: str, new: str, context: str) -> str:
    """A one-line fix as a model would write it: ``old`` -> ``new`` after the line ``context``."""
    return f"```diff\n--- a/{path}\n+++ b/{path}\n@@ -1,2 +1,2 @@\n {context}\n-{old}\n+{new}\n```\n"


async def first_request_after_a_green_fix(root: Path, scripted_model, editor_factory, fix: str) -> str:
    """Run codegen.fixTests with a model that answers with ``fix``; the first request's user message."""
    model = scripted_model(fix_model([fix], diagnosis="The slip is in the code the test runs."))
    editor = await editor_factory(root, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "testTimeout": 240})
    assert result["green"], result
    return model.requests[0]["messages"][-1]["content"]


def block(text: str, first: str, last: str) -> str:
    """The lines of ``text`` from the one holding ``first`` to the next holding ``last``."""
    lines = textwrap.dedent(text).splitlines()
    start = next(i for i, line in enumerate(lines) if first in line)
    end = next(i for i in range(start, len(lines)) if last in lines[i])
    return "\n".join(lines[start:end + 1])


# -- JavaScript: the slip is two calls deep (test -> Cart.total -> roundCents, through an import) --------

MONEY_ESM = """\
    export const TAX_RATE = 0.1;

    export function roundCents(value) {
      return Math.floor(value * 100) / 100;
    }
    """
CART_ESM = """\
    import { roundCents, TAX_RATE } from './money.js';

    export class Cart {
      constructor() {
        this.items = [];
      }

      add(name, price, qty = 1) {
        this.items.push({ name, price, qty });
      }

      subtotal() {
        return this.items.reduce((sum, item) => sum + item.price * item.qty, 0);
      }

      total() {
        return roundCents(this.subtotal() * (1 + TAX_RATE));
      }
    }
    """
CART_TEST_ESM = """\
    import { test } from 'node:test';
    import assert from 'node:assert/strict';
    import { Cart } from '../src/cart.js';

    test('an empty cart costs nothing', () => {
      assert.equal(new Cart().total(), 0);
    });

    test('total adds tax and rounds to cents', () => {
      const cart = new Cart();
      cart.add('pen', 0.335);
      assert.equal(cart.total(), 0.37);
    });
    """
MONEY_CJS = """\
    const TAX_RATE = 0.1;

    function roundCents(value) {
      return Math.floor(value * 100) / 100;
    }

    module.exports = { roundCents, TAX_RATE };
    """
CART_CJS = """\
    const { roundCents, TAX_RATE } = require('./money');

    class Cart {
      constructor() {
        this.items = [];
      }

      add(name, price, qty = 1) {
        this.items.push({ name, price, qty });
      }

      subtotal() {
        return this.items.reduce((sum, item) => sum + item.price * item.qty, 0);
      }

      total() {
        return roundCents(this.subtotal() * (1 + TAX_RATE));
      }
    }

    module.exports = { Cart };
    """
CART_TEST_CJS = """\
    const { describe, it } = require('node:test');
    const assert = require('node:assert');
    const shop = require('../src/cart');

    describe('Cart', () => {
      it('an empty cart costs nothing', () => {
        assert.strictEqual(new shop.Cart().total(), 0);
      });

      it('total adds tax and rounds to cents', () => {
        const cart = new shop.Cart();
        cart.add('pen', 0.335);
        assert.strictEqual(cart.total(), 0.37);
      });
    });
    """
MODULES = {"esm": (MONEY_ESM, CART_ESM, CART_TEST_ESM, "module"), "commonjs": (MONEY_CJS, CART_CJS, CART_TEST_CJS, "commonjs")}


@needs_node
@pytest.mark.parametrize("modules", ["esm", "commonjs"])
async def test_a_node_test_fix_request_quotes_the_failing_test_and_the_code_it_runs(
        tmp_path, scripted_model, editor_factory, modules):
    money, cart, cart_test, kind = MODULES[modules]
    write(tmp_path, {"package.json": json.dumps({"name": "shop", "type": kind, "scripts": {"test": "node --test"}}),
                     "src/money.js": money, "src/cart.js": cart, "test/cart.test.js": cart_test})
    fix = diff("src/money.js", "  return Math.floor(value * 100) / 100;", "  return Math.round(value * 100) / 100;",
               "function roundCents(value) {" if modules == "commonjs" else "export function roundCents(value) {")
    fix = fix.replace("@@ -1,2 +1,2 @@", "@@ -3,2 +3,2 @@")

    request = await first_request_after_a_green_fix(tmp_path, scripted_model, editor_factory, fix)

    # The failing test's code, and the code it runs: the method it calls and, through the import, the slip.
    assert shown_whole(block(cart_test, "it('total adds tax" if modules == "commonjs" else "test('total adds tax", "});"),
                       request)
    assert shown_whole(block(cart, "total() {", "}"), request)
    assert shown_whole(block(money, "function roundCents", "}"), request)
    # The culprit's file header: what it imports, and where a new import would go.
    assert shown_whole(textwrap.dedent(cart).splitlines()[0], request)
    # A passing test that pins the same method, with its code.
    assert shown_whole(block(cart_test, "an empty cart costs nothing", "});"), request)


# -- TypeScript (vitest): the test imports through a re-exporting index --------------------------------

SHAPES_TS = """\
    import { square, PI } from './math';

    export interface Shape {
      area(): number;
    }

    export class Circle implements Shape {
      constructor(private radius: number) {}

      area(): number {
        return PI * square(this.radius);
      }
    }

    export class Rect implements Shape {
      constructor(private w: number, private h: number) {}

      area(): number {
        return this.w + this.h;
      }
    }
    """
SHAPES_TEST_TS = """\
    import { describe, it, expect } from 'vitest';
    import { Rect } from '../src/index';

    describe('Rect', () => {
      it('computes its area', () => {
        const rect = new Rect(2, 5);
        expect(rect.area()).toBe(10);
      });
    });
    """


@needs_node
async def test_a_vitest_typescript_fix_request_quotes_the_failing_test_and_the_method_it_calls(
        tmp_path, scripted_model, editor_factory, js_node_modules):  # noqa: F811 - the fixture
    write(tmp_path, {
        "package.json": json.dumps({"name": "geo", "scripts": {"test": "vitest run"}, "devDependencies": {"vitest": "3.2.4"}}),
        "src/math.ts": "export const PI = 3.14159;\n\nexport function square(x: number): number {\n  return x * x;\n}\n",
        "src/shapes.ts": SHAPES_TS,
        "src/index.ts": "export { Circle, Rect } from './shapes';\nexport * from './math';\n",
        "test/shapes.test.ts": SHAPES_TEST_TS,
    })
    (tmp_path / "node_modules").symlink_to(js_node_modules, target_is_directory=True)
    fix = diff("src/shapes.ts", "    return this.w + this.h;", "    return this.w * this.h;", "  area(): number {")
    fix = fix.replace("@@ -1,2 +1,2 @@", "@@ -18,2 +18,2 @@")

    request = await first_request_after_a_green_fix(tmp_path, scripted_model, editor_factory, fix)

    assert shown_whole(block(SHAPES_TEST_TS, "it('computes its area'", "});"), request)
    rect_area = "\n".join(textwrap.dedent(SHAPES_TS).splitlines()[17:20])
    assert rect_area.strip().startswith("area(): number {") and "this.w + this.h" in rect_area
    assert shown_whole(rect_area, request)
    assert shown_whole("import { square, PI } from './math';", request)


# -- Go and Rust: the failing test's body and the function it calls ------------------------------------

GO_CALC = """\
    package calc

    import "math"

    // Unbounded is the widest range Clamp accepts.
    const Unbounded = math.MaxInt32

    // Clamp limits v to [lo, hi].
    func Clamp(v, lo, hi int) int {
    \tif v < lo {
    \t\treturn lo
    \t}
    \tif v > hi {
    \t\treturn lo
    \t}
    \treturn v
    }
    """
GO_TEST = """\
    package calc

    import "testing"

    func TestClampHigh(t *testing.T) {
    \tif got := Clamp(15, 0, 10); got != 10 {
    \t\tt.Errorf("Clamp(15, 0, 10) = %d, want 10", got)
    \t}
    }

    func TestClampLow(t *testing.T) {
    \tif got := Clamp(-5, 0, Unbounded); got != 0 {
    \t\tt.Errorf("Clamp(-5, 0, Unbounded) = %d, want 0", got)
    \t}
    }
    """


@needs_go
async def test_a_go_fix_request_quotes_the_failing_test_and_the_function_it_calls(
        tmp_path, scripted_model, editor_factory):
    write(tmp_path, {"go.mod": "module example.com/calc\n\ngo 1.19\n", "calc/calc.go": GO_CALC,
                     "calc/calc_test.go": GO_TEST})
    fix = diff("calc/calc.go", "\t\treturn lo", "\t\treturn hi", "\tif v > hi {").replace("@@ -1,2 +1,2 @@", "@@ -13,2 +13,2 @@")

    request = await first_request_after_a_green_fix(tmp_path, scripted_model, editor_factory, fix)

    test_file = textwrap.dedent(GO_TEST)
    failing, passing = test_file.split("import \"testing\"\n\n")[1].split("\n\n")
    assert shown_whole(failing, request)
    assert shown_whole(textwrap.dedent(GO_CALC).split("// Clamp limits v to [lo, hi].\n")[1], request)
    # The culprit's file header (its imports and constants), and a passing test that pins the same function.
    assert shown_whole('import "math"', request) and shown_whole("const Unbounded = math.MaxInt32", request)
    assert shown_whole(passing, request)


RUST_LIB = """\
    pub mod stats;

    pub use stats::mean;

    pub fn clamp(v: i32, lo: i32, hi: i32) -> i32 {
        if v < lo {
            lo
        } else if v > hi {
            lo
        } else {
            v
        }
    }
    """
RUST_STATS = "pub fn mean(xs: &[f64]) -> f64 {\n    xs.iter().sum::<f64>() / xs.len() as f64\n}\n"
RUST_TEST = """\
    use clamps::clamp;

    #[test]
    fn clamps_values_above_the_range() {
        assert_eq!(clamp(15, 0, 10), 10);
    }
    """


@needs_cargo
async def test_a_rust_fix_request_quotes_the_failing_test_and_the_function_its_assert_calls(
        tmp_path, scripted_model, editor_factory):
    write(tmp_path, {"Cargo.toml": '[package]\nname = "clamps"\nversion = "0.1.0"\nedition = "2021"\n',
                     "src/lib.rs": RUST_LIB, "src/stats.rs": RUST_STATS, "tests/clamp.rs": RUST_TEST})
    fix = diff("src/lib.rs", "        lo", "        hi", "    } else if v > hi {").replace("@@ -1,2 +1,2 @@", "@@ -8,2 +8,2 @@")

    request = await first_request_after_a_green_fix(tmp_path, scripted_model, editor_factory, fix)

    # The call sits inside assert_eq!(...): a macro's arguments are followed too.
    assert shown_whole(block(RUST_TEST, "fn clamps_values_above_the_range", "}"), request)
    assert shown_whole(block(RUST_LIB, "pub fn clamp", "\n}"[-1]), request)
