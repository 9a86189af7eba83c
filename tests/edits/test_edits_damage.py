"""One test per kind of damage models do to diffs: each must still apply, exactly."""

from __future__ import annotations

from pathlib import Path

from codegen_server.edits import plan_patch, write_changes
from tests.support.inventory import APP

EXPECTED_ADD = APP.replace(
    "        if count <= 0:\n",
    "        if not name:\n            raise ValueError(\"name required\")\n        if count <= 0:\n",
)


def apply(ws: Path, answer: str) -> str:
    result = plan_patch(answer, ws)
    assert result.failures == [], result.failures
    write_changes(ws, result.changes)
    return (ws / "src/app.py").read_text(encoding="utf-8")


CLEAN = """\
--- a/src/app.py
+++ b/src/app.py
@@ -12,6 +12,8 @@ class Inventory:
         self.items = {}
 
     def add(self, name, count=1):
+        if not name:
+            raise ValueError("name required")
         if count <= 0:
             raise ValueError("count must be positive")
         self.items[name] = self.items.get(name, 0) + count
"""


def test_clean_diff(ws: Path) -> None:
    assert apply(ws, CLEAN) == EXPECTED_ADD


def test_wrong_line_numbers(ws: Path) -> None:
    assert apply(ws, CLEAN.replace("@@ -12,6 +12,8 @@", "@@ -40,6 +41,8 @@")) == EXPECTED_ADD


def test_header_without_numbers(ws: Path) -> None:
    assert apply(ws, CLEAN.replace("@@ -12,6 +12,8 @@ class Inventory:", "@@ ... @@")) == EXPECTED_ADD


def test_missing_hunk_header(ws: Path) -> None:
    assert apply(ws, CLEAN.replace("@@ -12,6 +12,8 @@ class Inventory:\n", "")) == EXPECTED_ADD


def test_wrong_counts(ws: Path) -> None:
    assert apply(ws, CLEAN.replace("@@ -12,6 +12,8 @@", "@@ -12,2 +12,30 @@")) == EXPECTED_ADD


def test_trailing_whitespace_differences(ws: Path) -> None:
    damaged = CLEAN.replace("     def add(self, name, count=1):\n", "     def add(self, name, count=1):   \n")
    damaged = damaged.replace("         self.items = {}\n", "         self.items = {}\t\n")
    assert apply(ws, damaged) == EXPECTED_ADD


def test_blank_line_differences(ws: Path) -> None:
    # The model dropped the blank context line, and wrote another blank without its space.
    damaged = CLEAN.replace("         self.items = {}\n \n", "         self.items = {}\n")
    assert apply(ws, damaged) == EXPECTED_ADD
    ws_text = (ws / "src/app.py").read_text()
    assert ws_text.count("\n\n") == APP.count("\n\n")


def test_hunks_out_of_order(ws: Path) -> None:
    answer = """\
--- a/src/app.py
+++ b/src/app.py
@@ -36,3 +36,3 @@
     inv = Inventory()
-    inv.add("apple", 3)
+    inv.add("pear", 3)
     inv.remove("apple")
@@ -12,3 +12,3 @@
 
-    def add(self, name, count=1):
+    def add(self, name, count=2):
         if count <= 0:
"""
    got = apply(ws, answer)
    assert got == APP.replace('inv.add("apple", 3)', 'inv.add("pear", 3)').replace("count=1):\n        if count <= 0", "count=2):\n        if count <= 0")


def test_little_context(ws: Path) -> None:
    answer = "--- src/app.py\n+++ src/app.py\n@@\n-        return sum(self.items.values())\n+        return sum(self.items.values(), 0)\n"
    assert apply(ws, answer) == APP.replace("sum(self.items.values())", "sum(self.items.values(), 0)")


def test_added_lines_that_lost_their_plus(ws: Path) -> None:
    # Two lost "+": one reads as context one space short, one has no prefix at all.
    damaged = CLEAN.replace('+        if not name:\n', '        if not name:\n').replace(
        '+            raise ValueError("name required")\n', '            raise ValueError("name required")\n')
    assert apply(ws, damaged) == EXPECTED_ADD


def test_lost_plus_on_unindented_line_in_bare_diff(ws: Path) -> None:
    answer = """\
--- a/src/app.py
+++ b/src/app.py
@@ -5,4 +5,6 @@
 log = logging.getLogger(__name__)
+
MAX_ITEMS = 100
 
 
 class Inventory:
"""
    assert apply(ws, answer) == APP.replace("log = logging.getLogger(__name__)\n", "log = logging.getLogger(__name__)\n\nMAX_ITEMS = 100\n")


def test_uniform_indentation_shift(ws: Path) -> None:
    # The model pasted the method without its class indentation.
    answer = """\
--- a/src/app.py
+++ b/src/app.py
@@ -27,2 +27,2 @@
 def total(self):
-    return sum(self.items.values())
+    return sum(self.items.values()) or 0
"""
    assert apply(ws, answer) == APP.replace("sum(self.items.values())\n", "sum(self.items.values()) or 0\n")


def test_elision_in_context(ws: Path) -> None:
    answer = """\
```diff
--- a/src/app.py
+++ b/src/app.py
@@ ... @@
     def remove(self, name, count=1):
         ...
         self.items[name] = have - count
-        if self.items[name] == 0:
+        if self.items[name] <= 0:
```
"""
    assert apply(ws, answer) == APP.replace("if self.items[name] == 0:", "if self.items[name] <= 0:")


def test_fenced_with_prose_and_no_prefixes(ws: Path) -> None:
    answer = "I'll add validation.\n\n```diff\n" + CLEAN.replace("a/src", "src").replace("b/src", "src") + "```\n\nThat's all.\n"
    assert apply(ws, answer) == EXPECTED_ADD


def test_several_files_in_one_answer(ws: Path) -> None:
    answer = CLEAN + """\
--- a/README.md
+++ b/README.md
@@ -1,3 +1,3 @@
 # Inventory
 
-Tracks items.
+Tracks items and counts.
"""
    assert apply(ws, answer) == EXPECTED_ADD
    assert (ws / "README.md").read_text() == "# Inventory\n\nTracks items and counts.\n"


def test_whole_file_block_creates_and_rewrites(ws: Path) -> None:
    answer = """\
Here are the files.

**src/util.py**
```python
def double(x):
    return 2 * x
```

# File: README.md
```markdown
# Inventory

Tracks items, with counts.
```
"""
    result = plan_patch(answer, ws)
    assert result.failures == []
    write_changes(ws, result.changes)
    assert (ws / "src/util.py").read_text() == "def double(x):\n    return 2 * x\n"
    assert (ws / "README.md").read_text() == "# Inventory\n\nTracks items, with counts.\n"
    assert {c.kind for c in result.changes} == {"create", "modify"}


def test_create_delete_rename_git_style(ws: Path) -> None:
    (ws / "old.txt").write_text("one\ntwo\n")
    answer = """\
diff --git a/new/mod.py b/new/mod.py
new file mode 100644
--- /dev/null
+++ b/new/mod.py
@@ -0,0 +1,2 @@
+X = 1
+Y = 2
diff --git a/README.md b/README.md
deleted file mode 100644
--- a/README.md
+++ /dev/null
@@ -1,3 +0,0 @@
-# Inventory
-
-Tracks items.
diff --git a/old.txt b/docs/renamed.txt
similarity index 50%
rename from old.txt
rename to docs/renamed.txt
--- a/old.txt
+++ b/docs/renamed.txt
@@ -1,2 +1,2 @@
 one
-two
+TWO
"""
    result = plan_patch(answer, ws)
    assert result.failures == []
    assert sorted(c.kind for c in result.changes) == ["create", "delete", "rename"]
    write_changes(ws, result.changes)
    assert (ws / "new/mod.py").read_text() == "X = 1\nY = 2\n"
    assert not (ws / "README.md").exists()
    assert not (ws / "old.txt").exists()
    assert (ws / "docs/renamed.txt").read_text() == "one\nTWO\n"


def test_no_newline_at_end_of_file_kept(ws: Path) -> None:
    (ws / "n.txt").write_text("a\nb\nc")
    answer = "--- a/n.txt\n+++ b/n.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n\\ No newline at end of file\n"
    result = plan_patch(answer, ws)
    write_changes(ws, result.changes)
    assert (ws / "n.txt").read_text() == "a\nB\nc"


def test_line_number_breaks_a_tie(ws: Path) -> None:
    (ws / "twice.py").write_text("def a():\n    return 1\n\n\ndef b():\n    pass\n\n\ndef a2():\n    return 1\n")
    answer = "--- a/twice.py\n+++ b/twice.py\n@@ -10,1 +10,1 @@\n-    return 1\n+    return 2\n"
    result = plan_patch(answer, ws)
    assert result.failures == []
    write_changes(ws, result.changes)
    assert (ws / "twice.py").read_text().endswith("def a2():\n    return 2\n")


def test_result_diff_is_a_strict_unified_diff(ws: Path) -> None:
    import unidiff

    result = plan_patch(CLEAN.replace("@@ -12,6 +12,8 @@ class Inventory:", "@@ ... @@"), ws)
    parsed = unidiff.PatchSet(result.diff)
    assert parsed[0].path == "src/app.py"
    assert parsed[0].added == 2 and parsed[0].removed == 0


def test_bare_diff_inside_prose_and_two_sections_for_one_file(ws: Path) -> None:
    answer = """First, validate the name:

--- a/src/app.py
+++ b/src/app.py
@@ -12,2 +12,4 @@
     def add(self, name, count=1):
+        if not name:
+            raise ValueError("name required")
         if count <= 0:

Then fix the total:

--- a/src/app.py
+++ b/src/app.py
@@ -28,2 +30,2 @@
     def total(self):
-        return sum(self.items.values())
+        return sum(self.items.values(), 0)

Both changes keep the public API.
"""
    assert apply(ws, answer) == EXPECTED_ADD.replace("sum(self.items.values())", "sum(self.items.values(), 0)")


def test_headerless_hunks_in_a_later_fence_continue_the_last_file(ws: Path) -> None:
    answer = CLEAN.join(["```diff\n", "```\n\nAnd further down:\n\n```diff\n@@ ... @@\n     def total(self):\n"
                         "-        return sum(self.items.values())\n+        return sum(self.items.values(), 0)\n```\n"])
    assert apply(ws, answer) == EXPECTED_ADD.replace("sum(self.items.values())", "sum(self.items.values(), 0)")


def test_headerless_hunk_with_no_file_named_is_reported(ws: Path) -> None:
    [failure] = plan_patch("```diff\n@@ ... @@\n-a\n+b\n```\n", ws).failures
    assert "no ---/+++ file header" in failure.reason


def test_lost_plus_line_followed_by_a_bare_blank_line(ws: Path) -> None:
    # Unfenced, the unprefixed line is followed by an empty line: still inside the hunk.
    answer = "--- a/src/app.py\n+++ b/src/app.py\n@@ -3,3 +3,3 @@\n-import logging\nimport logging.config\n\n log = logging.getLogger(__name__)\n"
    assert apply(ws, answer) == APP.replace("import logging\n", "import logging.config\n")


def test_removed_blank_next_to_removed_line_is_the_one_removed(ws: Path) -> None:
    (ws / "m.py").write_text("x = 1\n\n\nY = 2\n\n\nclass Z:\n    pass\n")
    # The model dropped one blank context line before its removal.
    answer = "--- a/m.py\n+++ b/m.py\n@@ ... @@\n x = 1\n-\n-Y = 2\n \n \n class Z:\n"
    result = plan_patch(answer, ws)
    assert result.failures == []
    assert result.changes[0].new_text == "x = 1\n\n\n\nclass Z:\n    pass\n"
