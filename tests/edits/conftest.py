"""Shared fixtures: a small real-looking workspace to patch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.inventory import APP


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "README.md").write_text("# Inventory\n\nTracks items.\n", encoding="utf-8")
    return tmp_path

