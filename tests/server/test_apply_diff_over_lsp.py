"""codegen.applyDiff and generate-into-existing-code through the daemon, against open editor buffers."""

from __future__ import annotations

from lsprotocol import types

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env

ON_DISK = "def greet(name):\n    return 'hello ' + name\n\n\ndef shout(text):\n    return text.upper()\n"
IN_BUFFER = ON_DISK.replace("def shout(text):", "def shout(text: str) -> str:")  # unsaved typing

DIFF_AGAINST_BUFFER = """\
--- a/greet.py
+++ b/greet.py
@@ -4,3 +4,3 @@
 
 def shout(text: str) -> str:
-    return text.upper()
+    return text.upper() + '!'
"""


def text_document_edits(params: types.ApplyWorkspaceEditParams) -> list[types.TextDocumentEdit]:
    return [c for c in params.edit.document_changes if isinstance(c, types.TextDocumentEdit)]


async def test_diff_applies_to_the_open_buffer_with_its_version(tmp_path, editor_factory):
    (tmp_path / "greet.py").write_text(ON_DISK)
    editor = await editor_factory(tmp_path)
    uri = editor.open("greet.py", ON_DISK, version=1)
    editor.change(uri, IN_BUFFER)  # version 2, not saved

    result = await editor.execute("codegen.applyDiff", {"diff": DIFF_AGAINST_BUFFER})
    assert result["applied"] is True and not result["failures"]

    [doc_edit] = text_document_edits(editor.edits_received[-1])
    assert doc_edit.text_document.version == 2
    # Minimal: only the changed line is replaced, the rest of the buffer is untouched.
    assert len(doc_edit.edits) == 1 and doc_edit.edits[0].range.start.line == 5
    expected = IN_BUFFER.replace("return text.upper()", "return text.upper() + '!'")
    assert editor.buffer_text("greet.py") == expected
    assert (tmp_path / "greet.py").read_text() == expected  # saved after the user accepted


async def test_a_stale_edit_is_rejected_by_the_editor_and_nothing_is_written(tmp_path, editor_factory):
    (tmp_path / "greet.py").write_text(ON_DISK)
    editor = await editor_factory(tmp_path)
    uri = editor.open("greet.py", IN_BUFFER, version=1)
    editor.buffers[uri].version = 2  # the user typed again; the didChange has not reached the daemon yet

    result = await editor.execute("codegen.applyDiff", {"diff": DIFF_AGAINST_BUFFER})
    assert result["applied"] is False and "version" in result["reason"]
    assert (tmp_path / "greet.py").read_text() == ON_DISK


async def test_a_diff_that_does_not_apply_is_reported_and_writes_nothing(tmp_path, editor_factory):
    (tmp_path / "greet.py").write_text(ON_DISK)
    editor = await editor_factory(tmp_path)
    stale = DIFF_AGAINST_BUFFER.replace(" def shout(text: str) -> str:", " def whisper(text):")
    stale = stale.replace("-    return text.upper()", "-    return text.lower()")
    result = await editor.execute("codegen.applyDiff", {"diff": stale})
    assert result["applied"] is False and result["failures"]
    assert result["failures"][0]["path"] == "greet.py"
    assert not editor.edits_received and (tmp_path / "greet.py").read_text() == ON_DISK


async def test_paths_outside_the_workspace_are_refused(tmp_path, editor_factory):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    editor = await editor_factory(workspace)
    hostile = "--- /dev/null\n+++ b/../escape.txt\n@@ -0,0 +1 @@\n+owned\n"
    try:
        await editor.execute("codegen.applyDiff", {"diff": hostile, "apply": "disk"})
    except Exception as error:  # a clear JSON-RPC error naming the path
        assert "escape.txt" in str(error)
    else:
        raise AssertionError("a path outside the workspace was accepted")
    assert not (tmp_path / "escape.txt").exists()


EXISTING = "def add(a, b):\n    return a + b\n"
CHANGE = """I'll add subtraction next to addition, with a test.

```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,2 +1,6 @@
 def add(a, b):
     return a + b
+
+
+def subtract(a, b):
+    return a - b
```

tests/test_subtract.py
```python
from calc.ops import subtract


def test_subtract():
    assert subtract(5, 3) == 2
```
"""


async def test_generate_into_an_existing_project_sends_a_repo_map_and_edits_in_place(
        tmp_path, scripted_model, editor_factory):
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc" / "__init__.py").write_text("")
    (tmp_path / "calc" / "ops.py").write_text(EXISTING)
    (tmp_path / "conftest.py").write_text("")
    model = scripted_model([ScriptStep(content=CHANGE)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.generateProject", {"prompt": "add a subtract function"})
    assert result["applied"] is True
    assert {(f["path"], f["action"]) for f in result["files"]} == {
        ("calc/ops.py", "modify"), ("tests/test_subtract.py", "create")}
    sent = model.requests[0]["messages"][-1]["content"]
    assert "calc/ops.py" in sent and "def add(a, b)" in sent  # the repo map of what was there
    assert "def subtract(a, b):" in (tmp_path / "calc" / "ops.py").read_text()
