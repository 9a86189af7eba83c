"""codegen.applyDiff and generate-into-existing-code through the daemon, against open editor buffers."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.files import workspace_files

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
    assert result["applied"] is False and len(result["failures"]) == 1
    # The one failure shape (README "Failures"): file, 1-based hunk, reason, and the closest text, lines kept.
    failure = result["failures"][0]
    assert set(failure) == {"file", "hunk", "reason", "closest"}
    assert (failure["file"], failure["hunk"]) == ("greet.py", 1) and failure["reason"]
    assert "def shout(text):\n    return text.upper()" in failure["closest"]
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


MULTI_GOOD = ("--- a/notes.txt\n+++ b/notes.txt\n@@\n-keep\n+changed\n"
              "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+x = 1\n")
MULTI_BAD = "--- a/greet.py\n+++ b/greet.py\n@@\n-def whisper(text):\n+def whisper(text: str):\n"


@pytest.mark.parametrize("mode", ["disk", "client"])
@pytest.mark.parametrize("order", ["good-first", "bad-first"])
async def test_multi_file_refusal_writes_no_file_and_sends_no_edit(tmp_path, editor_factory, mode, order):
    (tmp_path / "greet.py").write_text(ON_DISK)
    (tmp_path / "notes.txt").write_text("keep\n")
    editor = await editor_factory(tmp_path)
    diff = MULTI_GOOD + MULTI_BAD if order == "good-first" else MULTI_BAD + MULTI_GOOD
    result = await editor.execute("codegen.applyDiff", {"diff": diff, "apply": mode})
    assert result["applied"] is False
    assert result["reason"] == "some hunks did not apply; nothing was written"
    assert [f["file"] for f in result["failures"]] == ["greet.py"]
    assert editor.edits_received == []
    assert workspace_files(tmp_path) == {"greet.py": ON_DISK.encode(), "notes.txt": b"keep\n"}


@pytest.mark.parametrize("mode", ["disk", "client"])
@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
async def test_every_line_ending_survives_both_apply_modes(tmp_path, editor_factory, mode, eol):
    lines = ["def greet(name):", "    return 'hello ' + name", "", "", "def shout(text):", "    return text.upper()"]
    original = eol.join(lines) + eol
    (tmp_path / "greet.py").write_bytes(original.encode())
    editor = await editor_factory(tmp_path)
    if mode == "client":
        editor.open("greet.py", original)  # as the editor holds it, endings and all
    diff = "--- a/greet.py\n+++ b/greet.py\n@@\n def shout(text):\n-    return text.upper()\n+    return text.upper() + '!'\n+# loud\n"
    result = await editor.execute("codegen.applyDiff", {"diff": diff, "apply": mode})
    assert result["applied"] is True, result
    want = eol.join(lines[:-1] + ["    return text.upper() + '!'", "# loud"]) + eol
    assert (tmp_path / "greet.py").read_bytes() == want.encode()
    if mode == "client":
        assert editor.buffer_text("greet.py") == want


async def test_reapplying_a_diff_sends_no_edit_and_says_already_applied(tmp_path, editor_factory):
    (tmp_path / "greet.py").write_text(ON_DISK)
    editor = await editor_factory(tmp_path)
    diff = "--- a/greet.py\n+++ b/greet.py\n@@\n def shout(text):\n     return text.upper()\n+# end\n"
    first = await editor.execute("codegen.applyDiff", {"diff": diff, "apply": "disk"})
    assert first["applied"] is True
    again = await editor.execute("codegen.applyDiff", {"diff": diff})
    assert again["applied"] is False and again["reason"] == "already applied: nothing written"
    assert [a["reason"] for a in again["alreadyApplied"]] == [
        "already applied: its result is in the file at line 5; nothing written for it"]
    assert editor.edits_received == []
    assert (tmp_path / "greet.py").read_text() == ON_DISK + "# end\n"


@pytest.mark.parametrize("diff, words", [
    ("--- /dev/null\n+++ b/a\x00b.py\n@@ -0,0 +1 @@\n+x\n", "NUL or control character"),
    ("/tmp/evil\n```\nowned\n```\n", "absolute path refused"),
    ("--- /dev/null\n+++ b/.codegen/runs/x/run.json\n@@ -0,0 +1 @@\n+{}\n", "writes into .codegen/"),
])
async def test_hostile_paths_are_clear_command_errors(tmp_path, editor_factory, diff, words):
    editor = await editor_factory(tmp_path)
    with pytest.raises(JsonRpcException) as raised:
        await editor.execute("codegen.applyDiff", {"diff": diff, "apply": "disk"})
    assert raised.value.code == -32803 and words in raised.value.message
    assert "Traceback" not in raised.value.message
    assert workspace_files(tmp_path) == {}
