"""Applied exactly as meant, or refused with a reason — never a mangled, doubled or dropped line (issue 12)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from codegen_server.edits import EditError, plan_patch, write_changes
from codegen_server.store.checkpoints import CheckpointError, CheckpointStore
from tests.support.files import leftovers, workspace_files
from tests.support.sealed import reseal_manifest, seal_run_meta

FUNC = "def total(items):\n    result = 0\n    for item in items:\n        result += item\n    return result\n"


def apply(root: Path, answer: str) -> list:
    """Plan and write like `codegen apply`: nothing at all when any hunk fails."""
    result = plan_patch(answer, root)
    if not result.failures:
        write_changes(root, result.changes)
    return result.failures


# -- 1. an added line whose "+" became a space, or was lost --------------------------------------

def test_added_line_whose_plus_became_a_space_keeps_its_indentation(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(FUNC)
    # "+        result += 1" was written " " + "        result += 1": nine columns in the diff text.
    answer = ("--- a/calc.py\n+++ b/calc.py\n@@ -3,3 +3,4 @@\n     for item in items:\n"
              "         result += item\n         result += 1\n     return result\n")
    assert apply(tmp_path, answer) == []
    assert (tmp_path / "calc.py").read_text() == FUNC.replace(
        "        result += item\n", "        result += item\n        result += 1\n")


def test_added_line_that_lost_its_plus_keeps_its_indentation(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(FUNC)
    # "+        result += 1" lost its "+": eight columns, read as context with seven.
    answer = ("--- a/calc.py\n+++ b/calc.py\n@@ -3,3 +3,4 @@\n     for item in items:\n"
              "         result += item\n        result += 1\n     return result\n")
    assert apply(tmp_path, answer) == []
    assert (tmp_path / "calc.py").read_text() == FUNC.replace(
        "        result += item\n", "        result += item\n        result += 1\n")


def test_off_grid_lines_take_the_indentation_of_the_lines_around_them(tmp_path: Path) -> None:
    # A docstring table at ten columns, off the file's four-column grid: the neighbours decide.
    text = 'def f():\n    """\n          a     first\n          b     second\n          c     third\n    """\n'
    (tmp_path / "doc.py").write_text(text)
    answer = ("--- a/doc.py\n+++ b/doc.py\n@@ -3,3 +3,4 @@\n           a     first\n           b     second\n"
              "           bb    added\n           c     third\n")
    assert apply(tmp_path, answer) == []
    assert (tmp_path / "doc.py").read_text() == text.replace("second\n", "second\n          bb    added\n")


def test_removing_a_stub_body_of_dots_is_no_elision(tmp_path: Path) -> None:
    # "..." is code here; with a blank context line dropped only the flexible match can place it.
    text = "class A:\n    def f(self):\n        ...\n\n    def g(self):\n        return 1\n"
    (tmp_path / "stub.py").write_text(text)
    answer = "--- a/stub.py\n+++ b/stub.py\n@@\n     def f(self):\n-        ...\n+        return 0\n     def g(self):\n"
    assert apply(tmp_path, answer) == []
    assert (tmp_path / "stub.py").read_text() == text.replace("        ...\n", "        return 0\n")


def test_a_line_whose_indentation_cannot_say_what_it_was_is_refused(tmp_path: Path) -> None:
    # Two-column and three-column indents both occur: 2 or 3 columns cannot tell "+ lost" from "+ became space".
    text = "items = [\n  1,\n   2,\n]\nend = True\n"
    (tmp_path / "data.py").write_text(text)
    answer = "--- a/data.py\n+++ b/data.py\n@@\n items = [\n   1,\n   3,\n    2,\n ]\n"
    [failure] = apply(tmp_path, answer)
    assert "indentation does not say which" in failure.reason and "'3,'" in failure.reason
    assert (tmp_path / "data.py").read_text() == text


def test_stale_context_is_not_read_as_a_lost_plus_when_the_counts_say_context(tmp_path: Path) -> None:
    # The file lost "    x = 1" since the model read it; the counts (-1,4 +1,4) say the line is context.
    (tmp_path / "f.py").write_text("def f():\n    y = 2\n    return y\n")
    answer = "--- a/f.py\n+++ b/f.py\n@@ -1,4 +1,4 @@\n def f():\n     x = 1\n     y = 2\n-    return y\n+    return x + y\n"
    [failure] = apply(tmp_path, answer)
    assert failure.reason == "context and removed lines not found in the file"
    assert (tmp_path / "f.py").read_text() == "def f():\n    y = 2\n    return y\n"


# -- 2. re-applying an applied patch ----------------------------------------------------------

APPEND = "--- a/calc.py\n+++ b/calc.py\n@@ -4,2 +4,5 @@\n         result += item\n     return result\n+\n+\n+VERSION = 2\n"
CHANGE = "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n-def total(items):\n+def total(items, start=0):\n     result = 0\n"


@pytest.mark.parametrize("patch", [APPEND, CHANGE, APPEND + CHANGE], ids=["insertion", "change", "both"])
def test_reapplying_an_applied_patch_writes_nothing_and_says_so(tmp_path: Path, patch: str) -> None:
    (tmp_path / "calc.py").write_text(FUNC)
    assert apply(tmp_path, patch) == []
    once = (tmp_path / "calc.py").read_bytes()
    again = plan_patch(patch, tmp_path)
    assert again.changes == [] and again.failures == []
    assert len(again.already_applied) == patch.count("@@ -")
    assert all(a.reason.startswith("already applied") for a in again.already_applied)
    assert (tmp_path / "calc.py").read_bytes() == once


def test_a_duplication_that_only_looks_applied_is_applied(tmp_path: Path) -> None:
    # The result (c b b) already stands at the top, but the old side (c b) stands there too,
    # contiguously: the hunk is not applied yet, and repetitive code must not pass for applied.
    (tmp_path / "r.py").write_text("c()\nb()\nb()\nc()\nc()\nc()\n")
    assert apply(tmp_path, "--- a/r.py\n+++ b/r.py\n@@ -1,2 +1,3 @@\n c()\n+b()\n b()\n") == []
    assert (tmp_path / "r.py").read_text() == "c()\nb()\nb()\nb()\nc()\nc()\nc()\n"


def test_a_patch_half_applied_before_applies_only_the_rest(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(FUNC)
    assert apply(tmp_path, APPEND) == []
    result = plan_patch(APPEND + CHANGE, tmp_path)
    assert [a.hunk_index for a in result.already_applied] == [0] and result.failures == []
    write_changes(tmp_path, result.changes)
    text = (tmp_path / "calc.py").read_text()
    assert text.count("VERSION = 2") == 1 and text.startswith("def total(items, start=0):")


def test_git_apply_agrees_the_reapply_is_no_new_change(tmp_path: Path) -> None:
    # The peer's view of the same case: git apply refuses a re-apply (it never doubles the lines either).
    (tmp_path / "calc.py").write_text(FUNC)
    assert apply(tmp_path, APPEND) == []
    (tmp_path / "p.patch").write_text(APPEND)
    proc = subprocess.run(["git", "apply", "--check", "p.patch"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0


# -- 3, 4. whole-file blocks: every name recognised, every block accounted for --------------------

@pytest.mark.parametrize("name", [".gitignore", ".env.example", "Dockerfile", "Makefile", "Procfile", "LICENSE",
                                  "docker/Dockerfile", "config/.env.example"])
def test_dotfiles_and_extensionless_names_are_whole_file_targets(tmp_path: Path, name: str) -> None:
    answer = f"Create this file:\n\n{name}\n```\nline one\nline two\n```\n"
    assert apply(tmp_path, answer) == []
    assert (tmp_path / name).read_text() == "line one\nline two\n"


def test_a_fenced_block_no_path_names_is_reported_not_dropped(tmp_path: Path) -> None:
    answer = ("Install it first:\n\n```sh\npip install requests\n```\n\n"
              "app.py\n```python\nimport requests\n```\n")
    result = plan_patch(answer, tmp_path)
    assert [c.path for c in result.changes] == ["app.py"]
    [note] = result.not_understood
    assert note.header == "fenced block 1 (```sh, 1 lines)" and note.searched == "pip install requests\n"
    assert "no file path names it" in note.reason


@pytest.mark.parametrize("name", ["/tmp/evil", "/etc/cron.d/job"])
def test_an_absolute_path_on_a_whole_file_block_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(EditError, match="absolute path refused"):
        plan_patch(f"{name}\n```\nowned\n```\n", tmp_path)
    assert workspace_files(tmp_path) == {}


# -- 5. modes of new files -------------------------------------------------------------------

def test_new_files_honour_the_umask_and_the_diffs_mode(tmp_path: Path) -> None:
    answer = ("diff --git a/run.sh b/run.sh\nnew file mode 100755\n--- /dev/null\n+++ b/run.sh\n@@ -0,0 +1 @@\n+echo hi\n"
              "diff --git a/notes.txt b/notes.txt\nnew file mode 100644\n--- /dev/null\n+++ b/notes.txt\n@@ -0,0 +1 @@\n+hi\n")
    old = os.umask(0o022)
    try:
        assert apply(tmp_path, answer) == []
        os.umask(0o027)
        assert apply(tmp_path, "plain.txt\n```\nx\n```\n") == []
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "notes.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o640


# -- 6. line endings, byte for byte -----------------------------------------------------------

@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("final", [True, False], ids=["final-eol", "no-final-eol"])
def test_every_line_ending_style_survives_a_disk_apply(tmp_path: Path, eol: str, final: bool) -> None:
    lines = ["alpha", "beta", "gamma", "delta"]
    (tmp_path / "f.txt").write_bytes((eol.join(lines) + (eol if final else "")).encode())
    answer = "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,4 @@\n alpha\n-beta\n+BETA\n+beta two\n gamma\n"
    assert apply(tmp_path, answer) == []
    want = ["alpha", "BETA", "beta two", "gamma", "delta"]
    assert (tmp_path / "f.txt").read_bytes() == (eol.join(want) + (eol if final else "")).encode()


def test_mixed_endings_keep_each_kept_lines_own(tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_bytes(b"one\r\ntwo\nthree\r\nfour\n")
    assert apply(tmp_path, "--- a/m.txt\n+++ b/m.txt\n@@\n one\n-two\n+TWO\n three\n") == []
    assert (tmp_path / "m.txt").read_bytes() == b"one\r\nTWO\nthree\r\nfour\n"


# -- 9. .codegen/ is no target; restore validates manifests ---------------------------------------

def test_a_patch_cannot_write_into_codegen(tmp_path: Path) -> None:
    planted = '{"label": "x", "created": 0, "files": {"../../outside/pwned.txt": {"sha256": "00", "mode": 420}}, "skipped": []}'
    answers = [
        f".codegen/runs/20260101-000000-abcdef/checkpoints/0000.json\n```json\n{planted}\n```\n",
        "--- /dev/null\n+++ b/.codegen/runs/r/run.json\n@@ -0,0 +1 @@\n+{}\n",
        "--- /dev/null\n+++ b/sub/.codegen/x\n@@ -0,0 +1 @@\n+x\n",
    ]
    for answer in answers:
        with pytest.raises(EditError, match=r"\.codegen/"):
            plan_patch(answer, tmp_path)
    os.symlink(".codegen", tmp_path / "innocent")
    (tmp_path / ".codegen").mkdir()
    with pytest.raises(EditError, match=r"resolves into \.codegen/"):
        plan_patch("innocent/run.json\n```\n{}\n```\n", tmp_path)
    assert workspace_files(tmp_path) == {"innocent": b"-> .codegen"}


@pytest.mark.parametrize("bad", ["../../outside/pwned.txt", "/tmp/pwned.txt", ".git/hooks/pre-commit",
                                 "link/pwned.txt", "a/../../pwned.txt"])
def test_restore_refuses_a_manifest_naming_an_unsafe_path_and_touches_nothing(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, bad: str) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    outside = tmp_path_factory.mktemp("outside")
    os.symlink(outside, root / "link")
    (root / "keep.py").write_text("keep = 1\n")
    store = CheckpointStore(root, root / ".codegen" / "runs" / "r")
    saved = store.save("start")
    manifest = store.dir / f"{saved.id}.json"
    body = manifest.read_text().replace('"files": {', f'"files": {{"{bad}": {{"mode": 420, "sha256": '
                                        f'"{"0" * 64}"}}, ', 1)
    manifest.write_text(body)
    reseal_manifest(store, saved.id)  # even a manifest codegen sealed is checked
    (root / "new.py").write_text("new = 1\n")  # a restore would remove this
    before = workspace_files(root)
    with pytest.raises(CheckpointError, match="unsafe path"):
        store.restore(saved.id)
    assert workspace_files(root) == before
    assert list(outside.iterdir()) == [] and not (tmp_path / "pwned.txt").exists()


def test_restore_refuses_a_manifest_that_restores_a_link_then_writes_through_it(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    # "a" is restored as a link to a folder outside, then "a/pwned.txt" would be written through it:
    # checking each parent as it is before the restore cannot see that. A capture never records a
    # path under a link or a file, so such a manifest is planted.
    root = tmp_path / "ws"
    root.mkdir()
    outside = tmp_path_factory.mktemp("outside")
    (root / "keep.py").write_text("keep = 1\n")
    store = CheckpointStore(root, root / ".codegen" / "runs" / "r")
    saved = store.save("start")
    manifest = store.dir / f"{saved.id}.json"
    body = json.loads(manifest.read_text())
    blob = body["files"]["keep.py"]
    body["files"].update({"a": {"link": str(outside)}, "a/pwned.txt": blob})
    manifest.write_text(json.dumps(body))
    reseal_manifest(store, saved.id)  # even a manifest codegen sealed is checked
    before = workspace_files(root)
    with pytest.raises(CheckpointError, match="unsafe path"):
        store.restore(saved.id)
    assert workspace_files(root) == before
    assert list(outside.iterdir()) == []


# -- 10. NUL bytes and symlink loops ------------------------------------------------------------

def test_nul_byte_in_a_path_is_a_clear_refusal(tmp_path: Path) -> None:
    for answer in ["--- /dev/null\n+++ b/a\x00b.py\n@@ -0,0 +1 @@\n+x\n", "--- a/x\x00.py\n+++ b/x\x00.py\n@@\n-a\n+b\n"]:
        with pytest.raises(EditError, match="NUL or control character"):
            plan_patch(answer, tmp_path)
    # A path line with a NUL names no file: the block is reported, not written anywhere.
    result = plan_patch("a\x00b.py\n```\nx\n```\n", tmp_path)
    assert result.changes == [] and len(result.not_understood) == 1
    assert workspace_files(tmp_path) == {}


def test_symlink_loop_is_a_clear_refusal(tmp_path: Path) -> None:
    os.symlink("loop", tmp_path / "loop")
    with pytest.raises(EditError, match="symlink loop"):
        plan_patch("--- /dev/null\n+++ b/loop/x.py\n@@ -0,0 +1 @@\n+x\n", tmp_path)
    with pytest.raises(EditError, match="symlink loop"):
        plan_patch("loop/x.py\n```\nx\n```\n", tmp_path)


# -- 11. deletions must show what they delete ---------------------------------------------------

def _git_hash(path: Path) -> str:
    return subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True, check=True).stdout.strip()


def test_deletion_without_content_or_hash_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.py").write_text("important = True\n")
    answer = "diff --git a/keep.py b/keep.py\ndeleted file mode 100644\n"
    [failure] = apply(tmp_path, answer)
    assert "shows none of the content it deletes" in failure.reason
    wrong = "diff --git a/keep.py b/keep.py\ndeleted file mode 100644\nindex 1234567..0000000\n"
    [failure] = apply(tmp_path, wrong)
    assert "index hash 1234567 is not the file's" in failure.reason
    assert (tmp_path / "keep.py").read_text() == "important = True\n"


def test_deletion_with_the_matching_index_hash_or_content_applies(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    (tmp_path / "b.py").write_text("b = 1\n")
    by_hash = f"diff --git a/a.py b/a.py\ndeleted file mode 100644\nindex {_git_hash(tmp_path / 'a.py')[:7]}..0000000\n"
    by_content = "--- a/b.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-b = 1\n"
    assert apply(tmp_path, by_hash + by_content) == []
    assert workspace_files(tmp_path) == {}


# -- the journal leaves nothing behind -----------------------------------------------------------

def test_a_successful_apply_leaves_no_temp_backup_or_journal(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(FUNC)
    assert apply(tmp_path, CHANGE + "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+x = 1\n") == []
    assert leftovers(tmp_path) == []
    assert (tmp_path / ".codegen" / "writer" / ".gitignore").read_text() == "*\n"


def test_codegen_undo_refuses_a_planted_manifest_and_touches_nothing(tmp_path: Path) -> None:
    root, outside = tmp_path / "ws", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "app.py").write_text("app = 1\n")
    run = root / ".codegen" / "runs" / "20260101-000000-abcdef"
    store = CheckpointStore(root, run)
    saved = store.save("start")
    seal_run_meta(run, {"kind": "fix", "status": "done"})
    manifest = store.dir / f"{saved.id}.json"
    manifest.write_text(manifest.read_text().replace(
        '"files": {', f'"files": {{"../outside/pwned.txt": {{"mode": 420, "sha256": "{"0" * 64}"}}, ', 1))
    reseal_manifest(store, saved.id)  # even a manifest codegen sealed is checked
    (root / "later.py").write_text("later = 1\n")
    before = workspace_files(root)
    proc = subprocess.run([sys.executable, "-m", "codegen_server.cli", "undo", "20260101-000000-abcdef",
                           "--root", str(root)], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1 and "unsafe path" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert workspace_files(root) == before and list(outside.iterdir()) == []
