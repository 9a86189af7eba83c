"""Files created, changed or deleted on disk by another program reach codegen.context over LSP:
through the editor's file watching where it offers it (VS Code), else a native watcher (Neovim)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from lsprotocol import types

CORE = "def parse_order(text):\n    return text.split()\n"


async def context_text(editor, task: str) -> str:
    return (await editor.execute("codegen.context", {"task": task, "budget": 400}))["text"]


async def registered(editor, timeout: float = 30.0) -> list[types.Registration]:
    deadline = time.monotonic() + timeout
    while not editor.registrations and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return editor.registrations


async def test_the_editor_reports_changes_and_the_tree_is_not_walked_again(tmp_path: Path, editor_factory) -> None:
    (tmp_path / "core.py").write_text(CORE)
    editor = await editor_factory(tmp_path, client="vscode")
    [registration] = await registered(editor)
    assert registration.method == "workspace/didChangeWatchedFiles"
    assert "def parse_order" in await context_text(editor, "parse_order")

    (tmp_path / "billing.py").write_text("def invoice_total(order):\n    return sum(order)\n")
    (tmp_path / "unreported.py").write_text("def never_reported():\n    pass\n")
    editor.files_changed({"billing.py": types.FileChangeType.Created})
    text = await context_text(editor, "invoice_total never_reported")
    assert "def invoice_total" in text
    assert "never_reported" not in text  # only what the editor reported is read: no walk

    (tmp_path / "billing.py").write_text("def invoice_sum(order):\n    return sum(order)\n")
    editor.files_changed({"billing.py": types.FileChangeType.Changed})
    text = await context_text(editor, "invoice_sum invoice_total")
    assert "def invoice_sum" in text and "invoice_total" not in text

    (tmp_path / "billing.py").unlink()
    editor.files_changed({"billing.py": types.FileChangeType.Deleted})
    assert "invoice_sum" not in await context_text(editor, "invoice_sum")


async def test_without_editor_watching_a_native_watcher_reports_changes(tmp_path: Path, editor_factory) -> None:
    """No waiting anywhere: each request right after a write (made by another program) answers with it."""
    (tmp_path / "core.py").write_text(CORE)
    editor = await editor_factory(tmp_path, client="neovim")
    assert "def parse_order" in await context_text(editor, "parse_order")
    assert editor.registrations == []

    for round in range(15):
        (tmp_path / "billing.py").write_text(f"def invoice_{round}(order):\n    return sum(order)\n")
        (tmp_path / "pkg" / f"sub{round}").mkdir(parents=True)
        (tmp_path / "pkg" / f"sub{round}" / "views.py").write_text(f"def render_{round}(x):\n    return x\n")
        text = await context_text(editor, f"invoice_{round} render_{round} invoice_{round - 1}")
        assert f"def invoice_{round}" in text and f"def render_{round}" in text, round
        assert f"invoice_{round - 1}(" not in text, round
    (tmp_path / "billing.py").unlink()
    assert f"invoice_{round}" not in await context_text(editor, f"invoice_{round}")
