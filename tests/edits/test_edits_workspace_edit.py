"""WorkspaceEdits: built from the editor's buffer, versioned, minimal, UTF-16, annotated."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pygls.workspace import TextDocument

from codegen_server.edits import FileChange, plan_patch
from codegen_server.server.workspace_edit import to_workspace_edit

DISK = "def greet(name):\n    return 'hi ' + name\n\n\ndef shout(text):\n    return text.upper()\n"
BUFFER = "# 😀 emoji before the edit\n" + DISK.replace("def shout(text):", "def shout(text: str) -> str:")
DIFF = """\
--- a/greet.py
+++ b/greet.py
@@ -5,3 +5,3 @@
 
 def shout(text: str) -> str:
-    return text.upper()
+    return text.upper() + ' 🎉'
"""


def apply_like_an_editor(text: str, edit: types.TextDocumentEdit) -> str:
    doc = TextDocument("file:///x", text)
    for e in sorted(edit.edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        doc.apply_change(types.TextDocumentContentChangePartial(range=e.range, text=e.new_text))
    return doc.source


def test_diff_against_open_modified_buffer_makes_a_versioned_edit_from_the_buffer(tmp_path: Path) -> None:
    (tmp_path / "greet.py").write_text(DISK)
    result = plan_patch(DIFF, tmp_path, buffers={"greet.py": BUFFER})
    assert result.failures == []  # the context only exists in the buffer, not on disk
    edit = to_workspace_edit(result.changes, tmp_path, versions={"greet.py": 7}, label="codegen: fix")
    [doc_edit] = edit.document_changes
    assert isinstance(doc_edit, types.TextDocumentEdit)
    assert doc_edit.text_document.version == 7
    assert doc_edit.text_document.uri == from_fs_path(str(tmp_path / "greet.py"))
    # Minimal: one edit replacing only the changed line.
    [only] = doc_edit.edits
    assert (only.range.start.line, only.range.end.line) == (6, 7)
    assert only.annotation_id == "codegen"
    assert apply_like_an_editor(BUFFER, doc_edit) == BUFFER.replace("text.upper()\n", "text.upper() + ' 🎉'\n")
    assert edit.change_annotations["codegen"].needs_confirmation is True
    assert edit.change_annotations["codegen"].label == "codegen: fix"


def test_utf16_positions_at_end_without_newline(tmp_path: Path) -> None:
    old = "a\n😀😀"
    new = "a\n😀😀!"
    edit = to_workspace_edit([FileChange("e.txt", "modify", old, new)], tmp_path, versions={}, label="x")
    [doc_edit] = edit.document_changes
    assert doc_edit.text_document.version is None
    [e] = doc_edit.edits
    assert (e.range.end.line, e.range.end.character) == (1, 4)  # two surrogate pairs
    assert apply_like_an_editor(old, doc_edit) == new


def test_edits_elsewhere_leave_other_lines_alone(tmp_path: Path) -> None:
    old = "".join(f"line {i}\n" for i in range(100))
    new = old.replace("line 10\n", "line ten\n").replace("line 90\n", "line 90\nline 90b\n")
    edit = to_workspace_edit([FileChange("f.txt", "modify", old, new)], tmp_path, versions={}, label="x")
    [doc_edit] = edit.document_changes
    assert [(e.range.start.line, e.range.end.line) for e in doc_edit.edits] == [(10, 11), (91, 91)]
    assert apply_like_an_editor(old, doc_edit) == new


def test_file_operations_are_annotated(tmp_path: Path) -> None:
    changes = [
        FileChange("new.py", "create", None, "x = 1\n"),
        FileChange("old.py", "delete", "y = 2\n", None),
        FileChange("a.py", "rename", "z = 3\n", "z = 4\n", new_path="b/a.py"),
    ]
    edit = to_workspace_edit(changes, tmp_path, versions={}, label="L", needs_confirmation=False)
    kinds = [type(c).__name__ for c in edit.document_changes]
    assert kinds == ["CreateFile", "TextDocumentEdit", "DeleteFile", "RenameFile", "TextDocumentEdit"]
    assert all(c.annotation_id == "codegen" for c in edit.document_changes if not isinstance(c, types.TextDocumentEdit))
    assert all(e.annotation_id == "codegen" for c in edit.document_changes if isinstance(c, types.TextDocumentEdit)
               for e in c.edits)
    rename = edit.document_changes[3]
    assert rename.new_uri == from_fs_path(str(tmp_path / "b/a.py"))
    assert edit.document_changes[4].text_document.uri == rename.new_uri
    assert apply_like_an_editor("", edit.document_changes[1]) == "x = 1\n"
    assert edit.change_annotations["codegen"].needs_confirmation is False


async def test_apply_diff_over_lsp_uses_buffer_and_version(tmp_path: Path, editor_factory) -> None:
    (tmp_path / "greet.py").write_text(DISK)
    editor = await editor_factory(tmp_path)
    uri = editor.open("greet.py", DISK, version=3)
    editor.change(uri, BUFFER)  # version 4, unsaved, with a non-BMP character before the edit
    result = await editor.execute("codegen.applyDiff", {"diff": DIFF, "apply": "client"})
    assert result["applied"] is True and result["failures"] == []
    [doc_edit] = [c for c in editor.edits_received[-1].edit.document_changes if isinstance(c, types.TextDocumentEdit)]
    assert doc_edit.text_document.version == 4
    assert editor.buffer_text("greet.py") == BUFFER.replace("text.upper()\n", "text.upper() + ' 🎉'\n")
