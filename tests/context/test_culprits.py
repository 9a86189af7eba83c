"""Focused context for failing tests on real pytest runs: call-following, grouping, the budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codegen_server.context import ContextEngine, parse_test_output
from codegen_server.context.culprits import group_failures, summary_text
from codegen_server.context.engine import MAP_SHARE
from codegen_server.context.output import trim_output
from codegen_server.context.tokens import count_tokens

# Three ways a test reaches the code under test, each with its own slip:
# a method through an instance, a method of a fixture-provided object, a function imported under another name.
PROJECT = {
    "inventory/__init__.py": "from .stock import Stock\n",
    "inventory/stock.py": '''\
class Stock:
    """Units on hand per item."""

    def __init__(self):
        self.units = {}

    def receive(self, item, count):
        self.units[item] = self.units.get(item, 0) + count

    def ship(self, item, count):
        if count >= self.units.get(item, 0):
            raise ValueError(f"only {self.units.get(item, 0)} {item} on hand")
        self.units[item] -= count

    def on_hand(self, item):
        return self.units.get(item, 0)
''',
    "inventory/pricing.py": '''\
def unit_price(total, count):
    """The price of one unit."""
    return total / (count + 1)


def ship(item):
    """A namesake of Stock.ship in another module: must not be taken for it."""
    return f"shipping {item}"
''',
    "inventory/report.py": '''\
def format_units(units):
    return ", ".join(f"{name}: {count}" for name, count in sorted(units.items()))


def low_stock(units, threshold):
    return sorted(name for name, count in units.items() if count < threshold)
''',
    "tests/conftest.py": '''\
import pytest

from inventory.stock import Stock


@pytest.fixture
def stocked():
    stock = Stock()
    stock.receive("apple", 5)
    return stock
''',
    "tests/test_stock.py": '''\
import pytest

from inventory import Stock
from inventory.pricing import unit_price as price_of


def test_ship_everything_on_hand():
    stock = Stock()
    stock.receive("pear", 3)
    stock.ship("pear", 3)
    assert stock.on_hand("pear") == 0


def test_fixture_stock_ships(stocked):
    stocked.ship("apple", 5)
    assert stocked.on_hand("apple") == 0


@pytest.mark.parametrize("total, count, expected", [(10, 2, 5), (9, 3, 3), (8, 4, 2)])
def test_unit_price(total, count, expected):
    assert price_of(total, count) == expected
''',
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("inventory")
    for rel, text in PROJECT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    output = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests"], cwd=root,
                            capture_output=True, text=True, timeout=120).stdout
    return root, output


def _section(text: str, title: str) -> str:
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_each_failing_test_leads_to_the_code_it_calls_quoted_whole(project: tuple[Path, str]) -> None:
    root, output = project
    result = ContextEngine(root).build(test_output=output, budget=6000)
    text = result.text
    culprits = _section(text, "Code under test, most likely culprits first")
    # A method called through an instance (and through a fixture-provided instance): its whole body.
    assert "        if count >= self.units.get(item, 0):" in culprits
    assert "Stock.ship" not in culprits and "`ship` (inventory/stock.py:10-13)" in culprits
    assert 'return f"shipping {item}"' not in text  # the namesake in pricing.py is not mistaken for it
    # A function imported under another name, resolved through the import.
    assert "`unit_price` (inventory/pricing.py:1-3)" in culprits and "return total / (count + 1)" in culprits
    # The fixture the test asked for is quoted.
    assert "Fixture `stocked` (tests/conftest.py:7-10)" in text and 'stock.receive("apple", 5)' in text
    # Code no failing test reaches is not quoted whole.
    assert "return sorted(name for name" not in text
    assert result.tokens <= 6000


def test_parametrized_failures_are_grouped_once_with_what_differs(project: tuple[Path, str]) -> None:
    root, output = project
    failures = parse_test_output(output)
    groups = group_failures(failures)
    assert [g.base_id.rsplit("::", 1)[-1] for g in groups] == [
        "test_ship_everything_on_hand", "test_fixture_stock_ships", "test_unit_price"]
    assert [len(g.cases) for g in groups] == [1, 1, 3]
    summary = summary_text(groups)
    assert "- tests/test_stock.py::test_unit_price: 3 cases fail" in summary
    # Each case's message keeps its lines: the assertion, then pytest's "where" line under it.
    assert "    [10-2-5]:\n        assert 3.3333333333333335 == 5\n         +  where 3.3333333333333335" in summary

    text = ContextEngine(root).build(test_output=output, budget=6000).text
    assert text.count("def test_unit_price(total, count, expected):") == 1  # quoted once (and not again in the map)
    assert '@pytest.mark.parametrize("total, count, expected"' in text
    # The raw output adds only what the list does not say: a plain assertion's traceback adds nothing.
    trimmed = _section(text, "Test output (trimmed to what the list above does not say)")
    assert "test_unit_price" not in trimmed and "short test summary info" not in trimmed
    assert "short test summary info" in output and output.count("test_unit_price[") > 1


def test_budget_is_never_exceeded_and_bodies_come_before_far_signatures(project: tuple[Path, str]) -> None:
    root, output = project
    engine = ContextEngine(root)
    for budget in (0, 50, 200, 400, 800, 1500, 3000):
        result = engine.build(test_output=output, budget=budget)
        assert result.tokens <= budget, budget
    # Whatever the budget, the map of far files gets more than its small reserve only once every
    # culprit's body is in: bodies are preferred over signatures.
    bodies = ["if count >= self.units.get(item, 0):", "return total / (count + 1)", "self.units[item] = self.units.get(item, 0) + count"]
    cut = 0
    for budget in range(300, 1600, 100):
        text = engine.build(test_output=output, budget=budget).text
        repo_map = text.split("## Repository map", 1)[1] if "## Repository map" in text else ""
        if not all(body in text for body in bodies):
            cut += 1
            assert count_tokens(repo_map) <= MAP_SHARE * budget + 10, budget
    assert 0 < cut < 13  # both sides of the property were exercised
    assert "if count >= self.units.get(item, 0):" in engine.build(test_output=output, budget=500).text


def test_trimmed_output_says_only_what_the_list_does_not(project: tuple[Path, str]) -> None:
    _, output = project
    trimmed = trim_output(output, 2000)
    # A traceback through the code under test keeps its chain of locations, from the test to the raise.
    assert "tests/test_stock.py:10:\ninventory/stock.py:12: ValueError" in trimmed
    # The source lines (quoted and marked elsewhere), the error lines (in the failure list) and the
    # session header are gone; so is the traceback of a plain assertion, which adds nothing.
    assert ">       assert price_of(total, count) == expected" in output and ">  " not in trimmed
    assert "ValueError: only 3 pear on hand" in output and "E  " not in trimmed
    assert "platform " not in trimmed and "collected" not in trimmed and "test_unit_price" not in trimmed
    assert count_tokens(trim_output(output, 100)) <= 100


def test_parameters_with_dots_keep_the_test_path(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_versions.py").write_text(
        'import pytest\n\n\n@pytest.mark.parametrize("version", ["1.0.0", "2.1.0"])\n'
        'def test_major(version):\n    assert version.split(".")[0] == "0"\n')
    output = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120).stdout
    assert [f.test_id for f in parse_test_output(output)] == [
        "tests/test_versions.py::test_major[1.0.0]", "tests/test_versions.py::test_major[2.1.0]"]
    assert "- tests/test_versions.py::test_major: 2 cases fail" in ContextEngine(tmp_path).build(
        test_output=output, budget=2000).text


def test_failure_messages_share_one_budget_of_lines() -> None:
    from codegen_server.context.culprits import MESSAGE_BUDGET, MESSAGE_LINES, shares
    from codegen_server.context.failures import FailureTrace

    long = "\n".join(f"diff line {i}" for i in range(100))
    failures = [FailureTrace(f"tests/test_a.py::test_{i}", "pytest", long) for i in range(8)]
    failures.append(FailureTrace("tests/test_a.py::test_short", "pytest", "assert 1 == 2\n where 1 = f()"))
    summary = summary_text(group_failures(failures))
    lines = summary.splitlines()
    # Nine entries: the messages together keep to the budget, however long each is ...
    assert len(lines) - 9 <= MESSAGE_BUDGET, summary
    # ... the short message whole, the long ones cut evenly, each saying how much it left out.
    assert "    assert 1 == 2\n     where 1 = f()" in summary
    assert summary.count("diff line 0") == 8 and summary.count("more lines)") == 8
    # One failure alone keeps its own limit.
    alone = summary_text(group_failures(failures[:1])).splitlines()
    assert len(alone) == 1 + MESSAGE_LINES and alone[-1].endswith(f"({100 - MESSAGE_LINES + 1} more lines)")
    # Many failures: one line each at least, never more than the budget in all.
    assert shares([3] * 100, MESSAGE_BUDGET, MESSAGE_LINES) == [1] * 100
    assert sum(shares([50, 2, 30], MESSAGE_BUDGET, MESSAGE_LINES)) <= MESSAGE_BUDGET
    assert shares([50, 2, 30], MESSAGE_BUDGET, MESSAGE_LINES) == [20, 2, 20]
