"""Every refusal: unlocatable, stale, ambiguous, unsafe paths, limits, non-UTF-8 — nothing written."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from codegen_server.edits import EditError, EditLimits, format_failures, plan_patch
from codegen_server.workflows.apply import apply_patch
from tests.support.files import workspace_files
from tests.support.inventory import APP


def snapshot(root: Path) -> dict[str, bytes]:
    return workspace_files(root)


def test_stale_context_is_refused_with_closest_lines(ws: Path) -> None:
    answer = """\
--- a/src/app.py
+++ b/src/app.py
@@ -19,4 +19,4 @@
     def remove(self, name, count=1):
         have = self.items.get(name, 0)
-        if count >= have:
+        if count > have or count < 0:
             raise KeyError(name)
"""
    result = plan_patch(answer, ws)
    assert result.changes == []
    [failure] = result.failures
    assert failure.path == "src/app.py" and failure.hunk_index == 0
    assert "not found" in failure.reason
    assert "if count >= have:" in failure.searched
    assert failure.closest_line == 18 and "if count > have:" in failure.closest
    report = format_failures(result.failures)
    assert "src/app.py hunk 1" in report and "closest lines in the file (from line 18)" in report


def test_unlocatable_context_is_refused(ws: Path) -> None:
    answer = "--- a/src/app.py\n+++ b/src/app.py\n@@ -3,3 +3,3 @@\n import os\n-import sys\n+import json\n import re\n"
    result = plan_patch(answer, ws)
    assert result.changes == []
    assert [(f.path, f.hunk_index, f.reason) for f in result.failures] == [
        ("src/app.py", 0, "context and removed lines not found in the file")]
    assert result.failures[0].searched == "import os\nimport sys\nimport re"


def test_ambiguous_context_without_line_numbers_is_refused(ws: Path) -> None:
    (ws / "twice.py").write_text("def a():\n    x = 1\n    return x\n\n\ndef b():\n    x = 1\n    return x\n")
    answer = "--- a/twice.py\n+++ b/twice.py\n@@ ... @@\n     x = 1\n-    return x\n+    return x + 1\n"
    result = plan_patch(answer, ws)
    [failure] = result.failures
    assert "matches 2 places" in failure.reason and "lines 2, 7" in failure.reason


def test_ambiguous_context_with_unhelpful_line_number_is_refused(ws: Path) -> None:
    (ws / "twice.py").write_text("def a():\n    x = 1\n    return x\n\n\ndef b():\n    x = 1\n    return x\n")
    answer = "--- a/twice.py\n+++ b/twice.py\n@@ -4,2 +4,2 @@\n     x = 1\n-    return x\n+    return x + 1\n"
    result = plan_patch(answer, ws)
    assert result.changes == []
    assert [(f.path, f.reason) for f in result.failures] == [(
        "twice.py", "context matches 2 places (lines 2, 7) and line 4 from the header does not clearly pick one")]


def test_atomic_by_default_one_bad_hunk_blocks_everything(ws: Path) -> None:
    good = "--- a/README.md\n+++ b/README.md\n@@\n-Tracks items.\n+Tracks things.\n"
    bad = "--- a/src/app.py\n+++ b/src/app.py\n@@\n-    nothing like this\n+    at all\n"
    result = plan_patch(good + bad, ws)
    # The engine keeps the good file's change in the plan; the workflow's guard must write none of it.
    assert [c.path for c in result.changes] == ["README.md"]
    assert [(f.path, f.reason) for f in result.failures] == [
        ("src/app.py", "context and removed lines not found in the file")]
    before = snapshot(ws)
    outcome = asyncio.run(apply_patch(good + bad, ws))
    assert outcome.applied is False and outcome.reason == "some hunks did not apply; nothing was written"
    assert snapshot(ws) == before
    salvaged = plan_patch(good + bad, ws, salvage=True)
    assert [c.path for c in salvaged.changes] == ["README.md"]
    assert [f.path for f in salvaged.failures] == ["src/app.py"]


def test_salvage_keeps_good_hunks_of_a_file_never_half_a_hunk(ws: Path) -> None:
    answer = """\
--- a/src/app.py
+++ b/src/app.py
@@ ... @@
     def total(self):
-        return sum(self.items.values())
+        return sum(self.items.values(), 0)
@@ ... @@
     def missing(self):
-        pass
+        return None
"""
    strict = plan_patch(answer, ws)
    assert strict.changes == [] and len(strict.failures) == 1
    salvaged = plan_patch(answer, ws, salvage=True)
    assert salvaged.failures[0].hunk_index == 1
    assert salvaged.changes[0].new_text == APP.replace("sum(self.items.values())", "sum(self.items.values(), 0)")


def test_pure_insertion_without_context_is_refused(ws: Path) -> None:
    answer = "--- a/src/app.py\n+++ b/src/app.py\n@@ -30,0 +31,1 @@\n+# appended\n"
    [failure] = plan_patch(answer, ws).failures
    assert "no context" in failure.reason


def test_elision_in_removed_lines_is_refused(ws: Path) -> None:
    answer = "--- a/src/app.py\n+++ b/src/app.py\n@@\n     def remove(self, name, count=1):\n-        ...\n+        pass\n"
    result = plan_patch(answer, ws)
    assert result.changes == []
    assert [f.reason for f in result.failures] == ["an elision ('...') among removed lines does not say which lines to remove"]


def test_whole_file_fragment_is_refused(ws: Path) -> None:
    answer = "src/app.py\n```python\nclass Inventory:\n    # ... existing code ...\n    def size(self):\n        return len(self.items)\n```\n"
    [failure] = plan_patch(answer, ws).failures
    assert "elides code" in failure.reason


def test_creating_an_existing_file_is_refused(ws: Path) -> None:
    answer = "--- /dev/null\n+++ b/README.md\n@@ -0,0 +1 @@\n+hello\n"
    [failure] = plan_patch(answer, ws).failures
    assert "already exists" in failure.reason


def test_no_diff_in_answer(ws: Path) -> None:
    [failure] = plan_patch("I could not find the bug, sorry.", ws).failures
    assert "no unified diff" in failure.reason


@pytest.mark.parametrize("path", ["../outside.py", "/etc/passwd", "src/../../x.py", "C:\\\\win.py"])
def test_paths_outside_root_raise(ws: Path, path: str) -> None:
    answer = f"--- a/{path}\n+++ b/{path}\n@@\n-x\n+y\n".replace("a//", "/").replace("b//", "/")
    with pytest.raises(EditError, match="absolute|escapes"):
        plan_patch(answer, ws)


def test_symlink_escape_raises_and_nothing_outside_is_touched(ws: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.py").write_text("x = 1\n")
    os.symlink(outside, ws / "link")
    answer = "--- a/link/secret.py\n+++ b/link/secret.py\n@@\n-x = 1\n+x = 2\n"
    with pytest.raises(EditError, match="outside the workspace.*link/secret.py|link/secret.py.*outside"):
        plan_patch(answer, ws)
    with pytest.raises(EditError):
        plan_patch("link/new.py\n```python\nboom = 1\n```\n", ws)
    assert (outside / "secret.py").read_text() == "x = 1\n" and not (outside / "new.py").exists()


def test_git_dir_writes_raise(ws: Path) -> None:
    (ws / ".git").mkdir()
    (ws / ".git" / "config").write_text("[core]\n")
    with pytest.raises(EditError, match=r"\.git"):
        plan_patch("--- a/.git/config\n+++ b/.git/config\n@@\n-[core]\n+[evil]\n", ws)
    with pytest.raises(EditError, match=r"\.git"):
        plan_patch(".git/hooks/pre-commit\n```sh\nrm -rf /\n```\n", ws)
    os.symlink(ws / ".git", ws / "innocent")
    with pytest.raises(EditError, match=r"\.git"):
        plan_patch("--- a/innocent/config\n+++ b/innocent/config\n@@\n-[core]\n+[evil]\n", ws)
    assert (ws / ".git" / "config").read_text() == "[core]\n"


def test_non_utf8_file_is_refused_clearly(ws: Path) -> None:
    (ws / "latin.txt").write_bytes("café\n".encode("latin-1"))
    with pytest.raises(EditError, match="not UTF-8.*latin.txt"):
        plan_patch("--- a/latin.txt\n+++ b/latin.txt\n@@\n-caf\n+cafe\n", ws)
    assert (ws / "latin.txt").read_bytes() == "café\n".encode("latin-1")


def test_size_limits(ws: Path) -> None:
    with pytest.raises(EditError, match="patch too large"):
        plan_patch("x" * 200, ws, limits=EditLimits(max_patch_bytes=100))
    with pytest.raises(EditError, match="file too large.*src/app.py"):
        plan_patch("--- a/src/app.py\n+++ b/src/app.py\n@@\n-import logging\n+import os\n", ws,
                   limits=EditLimits(max_file_bytes=100))


def test_refusal_writes_nothing(ws: Path) -> None:
    before = snapshot(ws)
    patch = "--- a/src/app.py\n+++ b/src/app.py\n@@\n-not here\n+x\n"
    assert [f.reason for f in plan_patch(patch, ws).failures] == ["context and removed lines not found in the file"]
    outcome = asyncio.run(apply_patch(patch, ws))
    assert (outcome.applied, outcome.files, len(outcome.failures)) == (False, [], 1)
    assert snapshot(ws) == before


@pytest.mark.parametrize("bad_at", [0, 1, 2])
def test_multi_file_refusal_writes_no_file_wherever_the_bad_one_is(ws: Path, bad_at: int) -> None:
    # Creates, modifies and deletes around one file that does not apply: none of it may reach the disk.
    (ws / "old.txt").write_text("obsolete\n")
    parts = [
        "--- a/README.md\n+++ b/README.md\n@@\n-Tracks items.\n+Tracks things.\n",
        "--- /dev/null\n+++ b/src/new.py\n@@ -0,0 +1 @@\n+NEW = 1\n",
        "--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-obsolete\n",
    ]
    parts.insert(bad_at, "--- a/src/app.py\n+++ b/src/app.py\n@@\n-    nothing like this\n+    at all\n")
    before = snapshot(ws)
    outcome = asyncio.run(apply_patch("".join(parts), ws))
    assert outcome.applied is False and [f.path for f in outcome.failures] == ["src/app.py"]
    assert sorted(f["path"] for f in outcome.files) == ["README.md", "old.txt", "src/new.py"]
    assert snapshot(ws) == before


def test_exact_match_elsewhere_loses_to_indented_match_at_the_header_line(ws: Path) -> None:
    # The same block exists at two indentations; the model's hunk (at line 7) was dedented,
    # so it matches the *other* block exactly. Applying it there would edit the wrong code.
    (ws / "nest.py").write_text(
        "def a():\n    if x:\n        y = 1\n\n\ndef b():\n    for i in r:\n        if x:\n            y = 1\n")
    answer = "--- a/nest.py\n+++ b/nest.py\n@@ -8,2 +8,2 @@\n     if x:\n-        y = 1\n+        y = 2\n"
    [failure] = plan_patch(answer, ws).failures
    assert "exactly at line 2" in failure.reason and "also at line 8" in failure.reason


def test_whole_file_excerpt_without_placeholder_is_refused(ws: Path) -> None:
    # A snippet under a path line must not replace the 30-line file it came from.
    answer = ("src/app.py\n```python\n    def total(self):\n        return sum(self.items.values(), 0)\n\n\n"
              "def main():\n    inv = Inventory()\n    inv.add(\"apple\", 3)\n    print(inv.total())\n```\n")
    [failure] = plan_patch(answer, ws).failures
    assert "fragment" in failure.reason and "first line" in failure.reason
