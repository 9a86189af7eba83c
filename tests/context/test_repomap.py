"""The repo map on a big real tree: never over budget, and steered by the task."""

from __future__ import annotations

import shutil
from pathlib import Path

import _pytest
import hypothesis
import pytest

from codegen_server.context import ContextEngine
from codegen_server.context.tokens import count_tokens


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pytest's and hypothesis's own sources (~180 files, ~85k lines), copied as a workspace."""
    root = tmp_path_factory.mktemp("big")
    for package in (_pytest, hypothesis):
        source = Path(package.__file__).parent
        shutil.copytree(source, root / source.name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def engine(big_tree: Path) -> ContextEngine:
    engine = ContextEngine(big_tree)
    stats = engine.refresh()
    assert stats.files > 150 and stats.definitions > 3000
    return engine


@pytest.mark.parametrize("budget", [0, 1, 5, 20, 64, 256, 1000, 4096, 16000])
def test_map_never_exceeds_the_budget(engine: ContextEngine, budget: int) -> None:
    for task in ("", "fix the assertion rewriting in _pytest/assertion/rewrite.py", "given strategies shrink"):
        result = engine.build(task=task, budget=budget)
        assert result.tokens == count_tokens(result.text)
        assert result.tokens <= budget
        if budget >= 256:
            assert result.tokens >= budget * 0.8, "a big tree fills most of the budget"


def test_ranked_output_follows_the_module_named(engine: ContextEngine) -> None:
    about_fixtures = engine.build(task="the FixtureManager in _pytest/fixtures.py resolves scopes wrongly", budget=800)
    about_shrinking = engine.build(task="Shrinker in hypothesis/internal/conjecture/shrinker.py is slow", budget=800)
    assert about_fixtures.text != about_shrinking.text
    assert about_fixtures.files[0] == "_pytest/fixtures.py"
    assert about_shrinking.files[0] == "hypothesis/internal/conjecture/shrinker.py"
    assert "class FixtureManager" in about_fixtures.text
    assert "class Shrinker" in about_shrinking.text
    assert "class Shrinker" not in about_fixtures.text


def test_open_files_and_identifiers_steer_the_map(engine: ContextEngine) -> None:
    plain = engine.build(budget=400)
    steered = engine.build(task="why does pytest_collection_modifyitems run twice", open_files=["_pytest/main.py"], budget=400)
    assert steered.files[0] == "_pytest/main.py"
    assert "def pytest_collection_modifyitems" in steered.text
    assert plain.text != steered.text


def test_map_shows_members_under_their_class(engine: ContextEngine) -> None:
    text = engine.build(task="Pytester.runpytest_subprocess", budget=600).text
    lines = text.splitlines()
    member = next(i for i, line in enumerate(lines) if "def runpytest_subprocess" in line)
    header = next(line for line in reversed(lines[:member]) if not line.startswith(" "))
    assert header.startswith("class Pytester")
