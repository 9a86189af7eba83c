"""`codegen apply` as a user runs it: a real subprocess, real files, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.cli import codegen as run_codegen
from tests.support.files import workspace_files


GOOD = "--- a/app.py\n+++ b/app.py\n@@ ... @@\n def f():\n-    return 1\n+    return 2\n"
BAD = "--- a/app.py\n+++ b/app.py\n@@ ... @@\n def g():\n-    return 1\n+    return 2\n"


def codegen(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`codegen apply ARGS` through the command's own entry point."""
    return run_codegen("apply", *args, stdin=stdin, timeout=60)


def workspace(tmp_path: Path) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "app.py").write_text("def f():\n    return 1\n")
    return tmp_path


def test_apply_from_file_exit_0(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws")
    patch = tmp_path / "fix.patch"
    patch.write_text(GOOD)
    proc = codegen(str(patch), "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    assert "+    return 2" in proc.stdout
    assert (root / "app.py").read_text() == "def f():\n    return 2\n"


def test_apply_from_stdin_json(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    proc = codegen("-", "--root", str(root), "--json", stdin=GOOD)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["applied"] is True and out["files"] == [{"path": "app.py", "action": "modify"}]


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    proc = codegen("-", "--root", str(root), "--dry-run", stdin=GOOD)
    assert proc.returncode == 0 and "+    return 2" in proc.stdout
    assert (root / "app.py").read_text() == "def f():\n    return 1\n"


def test_refused_exit_1_with_report(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    proc = codegen("-", "--root", str(root), stdin=BAD)
    assert proc.returncode == 1
    assert "app.py hunk 1" in proc.stdout and "def g():" in proc.stdout and "closest lines" in proc.stdout
    assert "nothing was written" in proc.stderr
    assert (root / "app.py").read_text() == "def f():\n    return 1\n"
    js = codegen("-", "--root", str(root), "--json", stdin=BAD)
    assert js.returncode == 1
    # The one failure shape (README "Failures"); the closest text keeps its lines, with no `|` quoting.
    [failure] = json.loads(js.stdout)["failures"]
    assert failure == {"file": "app.py", "hunk": 1, "reason": failure["reason"], "closest": "def f():\n    return 1"}
    assert failure["reason"] and "|" not in failure["reason"]


def test_unsafe_path_exit_1(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws")
    proc = codegen("-", "--root", str(root), stdin="--- /dev/null\n+++ b/../evil.txt\n@@ -0,0 +1 @@\n+x\n")
    assert proc.returncode == 1 and "evil.txt" in proc.stderr
    assert not (tmp_path / "evil.txt").exists()


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert codegen().returncode == 2
    assert codegen(str(tmp_path / "missing.patch"), "--root", str(tmp_path)).returncode == 2
    assert codegen("-", "--root", str(tmp_path / "nope"), stdin=GOOD).returncode == 2


def test_multi_file_refusal_writes_no_file(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    (root / "notes.txt").write_text("keep\n")
    good = "--- a/notes.txt\n+++ b/notes.txt\n@@\n-keep\n+changed\n--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+x = 1\n"
    for patch in (good + BAD, BAD + good):
        proc = codegen("-", "--root", str(root), "--json", stdin=patch)
        assert proc.returncode == 1
        out = json.loads(proc.stdout)
        assert out["applied"] is False and [f["file"] for f in out["failures"]] == ["app.py"]
        assert out["reason"] == "some hunks did not apply; nothing was written"
        assert workspace_files(root) == {"app.py": b"def f():\n    return 1\n", "notes.txt": b"keep\n"}


def test_reapplying_exits_1_already_applied_and_writes_nothing(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    assert codegen("-", "--root", str(root), stdin=GOOD).returncode == 0
    again = codegen("-", "--root", str(root), stdin=GOOD)
    assert again.returncode == 1
    assert "already applied: its result is in the file at line 1" in again.stderr
    assert "codegen apply: already applied: nothing written" in again.stderr
    assert (root / "app.py").read_text() == "def f():\n    return 2\n"


def test_hostile_paths_are_clear_refusals_not_tracebacks(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws")
    for patch, words in [("--- /dev/null\n+++ b/a\x00b.py\n@@ -0,0 +1 @@\n+x\n", "NUL or control character"),
                         ("/tmp/evil\n```\nowned\n```\n", "absolute path refused"),
                         ("--- /dev/null\n+++ b/.codegen/runs/x/run.json\n@@ -0,0 +1 @@\n+{}\n", "writes into .codegen/")]:
        proc = codegen("-", "--root", str(root), stdin=patch)
        assert proc.returncode == 1 and words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert workspace_files(root) == {"app.py": b"def f():\n    return 1\n"}
