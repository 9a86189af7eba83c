"""Documents that are not workspace files (health://, untitled:, term://, git:, files outside the root).

Editors attach their LSP client to every buffer: Neovim's `:checkhealth` page, terminals,
VS Code's untitled and git documents. The daemon tracks them, never takes them for
workspace paths, never writes them and never fails a command because of them.
"""

from __future__ import annotations

import json

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.answers import CALC_FILES, CALC_PROJECT
from tests.support.fix_projects import FIX_CART, make_python_project, snapshot

#: A review comment's answer: a docstring for `count` (lines 6-7 of shop/cart.py).
FEEDBACK = '''`count` needs a docstring.

```diff
--- a/shop/cart.py
+++ b/shop/cart.py
@@ -6,2 +6,3 @@
 def count(prices):
+    """How many prices there are."""
     return len(prices)
```
'''

#: What an old revision of shop/cart.py held: a `git:` document shows it, but it is not the file.
OLD_CART = "def total(prices):\n    return 0\n"


def non_file_documents(root, outside) -> dict[str, str]:
    cart = (root / "shop/cart.py").as_posix()
    return {
        "health://": "vim.lsp: require(\"vim.lsp.health\").check()\n- OK\n",
        "untitled:Untitled-1": "scratch notes\n",
        "term://~//123:/bin/sh": "$ ls\n",
        f"git:{cart}?ref=HEAD": OLD_CART,
        f"git:{cart}?%7B%22path%22%3A%22{cart}%22%2C%22ref%22%3A%22HEAD%22%7D": OLD_CART,
        "output:extension-output-codegen": "log line\n",
        "vscode-notebook-cell:/nb.ipynb#W0sZmlsZQ%3D%3D": "print(1)\n",
        from_fs_path(str(outside / "notes.py")): (outside / "notes.py").read_text(),
        # Neovim's netrw (or oil) buffer for the workspace folder itself: a file: URI that names no file.
        from_fs_path(str(root)): "../\nshop/\ntests/\n",
        from_fs_path(str(root / "shop")): "../\n__init__.py\ncart.py\n",
    }


async def test_commands_ignore_documents_that_are_not_workspace_files(tmp_path, scripted_model, editor_factory):
    root, outside = tmp_path / "project", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (outside / "notes.py").write_text("def notes():\n    return 1\n")
    make_python_project(root)
    model = scripted_model([ScriptStep(content=CALC_PROJECT), ScriptStep(content=FEEDBACK),
                            ScriptStep(content="total() skips the first price."), ScriptStep(content=FIX_CART)])
    editor = await editor_factory(root, client="neovim", env=model_env(model))

    documents = non_file_documents(root, outside)
    for uri, text in documents.items():
        editor.open_uri(uri, text)
        editor.change_range(uri, (0, 0), (0, 0), "edited ")  # incremental
        editor.change(uri, "whole new text\n" + text)  # full
        editor.change_range(uri, (0, 0), (0, 5), "WHOLE")
    # A change for a document never opened (what Neovim may send for a buffer it attached late).
    editor.client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri="oil:///tmp/", version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text="x")]))

    generated = await editor.execute("codegen.generateProject", {"prompt": "a calculator"})
    assert generated["applied"] is True, generated
    assert sorted(f["path"] for f in generated["files"]) == sorted(CALC_FILES)
    # Nothing but the open workspace files reached the prompt as open files.
    sent = model.requests[0]["messages"][-1]["content"]
    assert "scratch notes" not in sent and "return 0" not in sent
    assert "WHOLE new text" not in sent  # what every one of them holds now: a folder's listing too

    feedback = await editor.execute("codegen.applyFeedback", {
        "uri": from_fs_path(str(root / "shop/cart.py")), "comment": "document count",
        "range": {"start": {"line": 5, "character": 0}, "end": {"line": 6, "character": 0}}})
    assert feedback["applied"] is True and feedback["files"] == [{"path": "shop/cart.py", "action": "modify"}]

    fixed = await editor.execute("codegen.fixTests", {})
    assert fixed["green"] is True, fixed["summary"]

    context = await editor.execute("codegen.context", {"task": "total of the cart"})
    assert all(not f.startswith(("health", "untitled", "term", "git", "output", "..", "/")) for f in context["files"])
    assert "shop" not in context["files"]  # the folder's netrw buffer is no file of that name
    assert all("WHOLE new text" not in m["content"] for r in model.requests for m in r["messages"])

    # Every edit the editor was asked to apply targets workspace files only.
    targets = {getattr(c, "uri", None) or c.text_document.uri
               for p in editor.edits_received for c in p.edit.document_changes}
    assert targets and all(t.startswith(from_fs_path(str(root)) + "/") for t in targets), targets
    assert not targets & set(documents)

    # Nothing was written for those documents, inside or outside the root.
    assert (outside / "notes.py").read_text() == "def notes():\n    return 1\n"
    assert set(snapshot(root)) == {"pyproject.toml", "shop/__init__.py", "shop/cart.py", "tests/test_cart.py",
                                   *CALC_FILES}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "project"]
    assert '"""How many prices there are."""' in (root / "shop/cart.py").read_text()
    assert "return sum(prices)\n" in (root / "shop/cart.py").read_text()

    errors = [m.message for m in editor.client.messages]
    assert not errors, errors
    for run in (generated["runId"], feedback["runId"], fixed["runId"]):
        assert json.loads((root / ".codegen/runs" / run / "run.json").read_text())["status"] != "running"


async def test_feedback_on_a_folder_buffer_is_refused_as_no_file(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    start = snapshot(tmp_path)
    model = scripted_model([ScriptStep(content=FEEDBACK)])
    editor = await editor_factory(tmp_path, client="neovim", env=model_env(model))
    folder = from_fs_path(str(tmp_path / "shop"))  # a netrw (or oil) buffer: a file: URI that names a folder
    editor.open_uri(folder, "../\n__init__.py\ncart.py\n")
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.applyFeedback", {
            "uri": folder, "comment": "document count",
            "range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}})
    assert "is not a file inside the workspace" in str(caught.value)
    assert not model.requests and snapshot(tmp_path) == start
