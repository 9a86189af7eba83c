"""Atomic writes, line endings, modes, and rollback when the disk fails half-way."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codegen_server.edits import EditError, FileChange, plan_patch, write_changes
from codegen_server.edits import write as write_module
from tests.support.files import leftovers, workspace_files


def test_crlf_file_stays_crlf(tmp_path: Path) -> None:
    (tmp_path / "win.txt").write_bytes(b"alpha\r\nbeta\r\ngamma\r\n")
    answer = "```diff\n--- a/win.txt\n+++ b/win.txt\n@@ -1,3 +1,4 @@\n alpha\n-beta\n+BETA\n+delta\n gamma\n```\n"
    result = plan_patch(answer, tmp_path)
    write_changes(tmp_path, result.changes)
    assert (tmp_path / "win.txt").read_bytes() == b"alpha\r\nBETA\r\ndelta\r\ngamma\r\n"


def test_crlf_whole_file_rewrite_and_missing_final_newline(tmp_path: Path) -> None:
    (tmp_path / "w.py").write_bytes(b"a = 1\r\nb = 2")
    result = plan_patch("w.py\n```python\na = 10\nb = 20\n```\n", tmp_path)
    write_changes(tmp_path, result.changes)
    assert (tmp_path / "w.py").read_bytes() == b"a = 10\r\nb = 20"


def test_utf8_bom_and_non_ascii_kept(tmp_path: Path) -> None:
    (tmp_path / "u.txt").write_bytes("\ufeffnaïve\ncafé\n".encode("utf-8"))
    result = plan_patch("--- a/u.txt\n+++ b/u.txt\n@@\n naïve\n-café\n+crème\n", tmp_path)
    write_changes(tmp_path, result.changes)
    assert (tmp_path / "u.txt").read_bytes() == "\ufeffnaïve\ncrème\n".encode("utf-8")


def test_mode_preserved_and_parent_dirs_created(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    write_changes(tmp_path, [
        FileChange("run.sh", "modify", "#!/bin/sh\necho hi\n", "#!/bin/sh\necho bye\n"),
        FileChange("deep/er/new.txt", "create", None, "x\n"),
    ])
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert script.read_text() == "#!/bin/sh\necho bye\n"
    assert (tmp_path / "deep/er/new.txt").read_text() == "x\n"
    assert not [p for p in tmp_path.rglob("*codegen-*")]


def test_rollback_restores_everything_when_a_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "b.txt").write_text("b\n")
    (tmp_path / "gone.txt").write_text("gone\n")
    changes = [
        FileChange("a.txt", "modify", "a\n", "A\n"),
        FileChange("gone.txt", "delete", "gone\n", None),
        FileChange("new/c.txt", "create", None, "c\n"),
        FileChange("b.txt", "modify", "b\n", "B\n"),
    ]
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src, dst):  # the disk fails on the 5th rename, after a, gone and c are in place
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(write_module.os, "replace", flaky_replace)
    with pytest.raises(OSError, match="disk full"):
        write_changes(tmp_path, changes)
    monkeypatch.setattr(write_module.os, "replace", real_replace)
    assert workspace_files(tmp_path) == {"a.txt": b"a\n", "b.txt": b"b\n", "gone.txt": b"gone\n"}
    assert not (tmp_path / "new").exists() and leftovers(tmp_path) == []


def test_refuses_when_disk_changed_since_planning(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\n")
    result = plan_patch("--- a/a.txt\n+++ b/a.txt\n@@\n-one\n+two\n", tmp_path)
    (tmp_path / "a.txt").write_text("someone else typed\n")
    with pytest.raises(EditError, match="not the text the patch was planned against"):
        write_changes(tmp_path, result.changes)
    assert (tmp_path / "a.txt").read_text() == "someone else typed\n"


def test_buffers_win_over_disk(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\ny = 2\n")
    buffers = {"a.py": "x = 1\nz = 3\ny = 2\n"}
    result = plan_patch("--- a/a.py\n+++ b/a.py\n@@\n z = 3\n-y = 2\n+y = 20\n", tmp_path, buffers=buffers)
    assert result.failures == []
    assert result.changes[0].old_text == buffers["a.py"]
    assert result.changes[0].new_text == "x = 1\nz = 3\ny = 20\n"
    assert (tmp_path / "a.py").read_text() == "x = 1\ny = 2\n"  # planning writes nothing
