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
    (tmp_path / "core.py").write_text(CORE)
    editor = await editor_factory(tmp_path, client="neovim")
    assert "def parse_order" in await context_text(editor, "parse_order")
    assert editor.registrations == []

    async def eventually(task: str, present: str | None, absent: str | None) -> str:
        # The watcher groups events for a few milliseconds; a request right after a write may be early.
        deadline = time.monotonic() + 30
        while True:
            text = await context_text(editor, task)
            if ((present is None or present in text) and (absent is None or absent not in text)) \
                    or time.monotonic() > deadline:
                return text
            await asyncio.sleep(0.05)

    (tmp_path / "billing.py").write_text("def invoice_total(order):\n    return sum(order)\n")
    assert "def invoice_total" in await eventually("invoice_total", "def invoice_total", None)
    (tmp_path / "billing.py").write_text("def invoice_sum(order):\n    return sum(order)\n")
    text = await eventually("invoice_sum invoice_total", "def invoice_sum", "invoice_total")
    assert "def invoice_sum" in text and "invoice_total" not in text
    (tmp_path / "billing.py").unlink()
    assert "invoice_sum" not in await eventually("invoice_sum", None, "invoice_sum")
