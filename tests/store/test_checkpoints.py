"""Checkpoints: undo to any saved state byte for byte, safely, without touching git."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from codegen_server.store.checkpoints import CheckpointError, CheckpointStore


def tree(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every file and symlink under root (except .codegen/ and .git/): kind, bytes, mode."""
    found = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".codegen", ".git")]
        for name in dirs + files:
            path = Path(directory, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path), 0)
            elif path.is_file():
                found[rel] = ("file", path.read_bytes(), stat.S_IMODE(path.lstat().st_mode))
    return found


def make_project(root: Path) -> None:
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text("")
    (root / "src" / "pkg" / "core.py").write_bytes(b"def f():\r\n    return 1\r\n")  # CRLF kept
    (root / "README.md").write_text("# demo\n", encoding="utf-8")
    (root / "logo.bin").write_bytes(bytes(range(256)) * 40)
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    (root / "private.cfg").write_text("x=1\n")
    (root / "private.cfg").chmod(0o600)
    os.symlink("src/pkg/core.py", root / "core-link.py")
    (root / "empty.txt").write_bytes(b"")
    (root / "unicode-é.txt").write_text("ünïcödé\n", encoding="utf-8")
    (root / ".gitignore").write_text("*.log\nbuild/\n")
    (root / "debug.log").write_text("ignored log\n")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_bytes(b"\x7fELF")
    (root / "node_modules" / "dep").mkdir(parents=True)
    (root / "node_modules" / "dep" / "index.js").write_text("module.exports = 1\n")


def store_for(root: Path) -> CheckpointStore:
    return CheckpointStore(root, root / ".codegen" / "runs" / "20260101-000000-abcdef")


def test_undo_to_the_start_is_byte_for_byte_after_many_changes(tmp_path: Path) -> None:
    make_project(tmp_path)
    store = store_for(tmp_path)
    start_tree = tree(tmp_path)
    start = store.save("start")
    assert "debug.log" not in start.files and "build/out.o" not in start.files
    assert not any(p.startswith(("node_modules/", ".codegen/")) for p in start.files)
    assert {"run.sh", "core-link.py", "logo.bin", "unicode-é.txt"} <= set(start.files)

    # Iteration 1: modify, create (including a new package), delete, chmod.
    (tmp_path / "src" / "pkg" / "core.py").write_text("def f():\n    return 2\n")
    (tmp_path / "src" / "newpkg" / "deep").mkdir(parents=True)
    (tmp_path / "src" / "newpkg" / "deep" / "mod.py").write_text("x = 1\n")
    (tmp_path / "README.md").unlink()
    (tmp_path / "run.sh").chmod(0o644)
    first = store.save("iteration 1")
    first_tree = tree(tmp_path)

    # Iteration 2: more of the same, plus a symlink retargeted and a binary change.
    (tmp_path / "logo.bin").write_bytes(b"\x00" * 10)
    (tmp_path / "core-link.py").unlink()
    os.symlink("README.md", tmp_path / "core-link.py")
    (tmp_path / "empty.txt").unlink()
    (tmp_path / "notes.txt").write_text("new\n")
    (tmp_path / "debug.log").write_text("changed ignored log\n")
    store.save("iteration 2")

    result = store.restore(start.id)

    expected = dict(start_tree)
    expected["debug.log"] = ("file", b"changed ignored log\n", expected["debug.log"][2])
    assert tree(tmp_path) == expected  # ignored files are left as they are
    assert not (tmp_path / "src" / "newpkg").exists()  # emptied directories pruned
    assert "notes.txt" in result.removed and "README.md" in result.written

    store.restore(first.id)
    assert tree(tmp_path) == {**first_tree, "debug.log": expected["debug.log"]}

    labels = [c.label for c in store.list()]
    assert labels[:3] == ["start", "iteration 1", "iteration 2"]
    assert labels[3:] == [f"before restore to {start.id}", f"before restore to {first.id}"]


def test_restore_is_undoable_and_survives_a_crash_part_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(tmp_path)
    store = store_for(tmp_path)
    start = store.save("start")
    for i in range(5):
        (tmp_path / f"work{i}.py").write_text(f"value = {i}\n")
    (tmp_path / "src" / "pkg" / "core.py").write_text("changed\n")
    (tmp_path / "README.md").unlink()
    before = tree(tmp_path)

    real_replace = os.replace
    calls = 0

    def crashing_replace(src, dst):  # the process "dies" on the second workspace file written
        nonlocal calls
        if ".codegen" not in Path(dst).parts:
            calls += 1
            if calls == 2:
                raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crashing_replace)
    with pytest.raises(KeyboardInterrupt):
        store.restore(start.id)
    monkeypatch.setattr(os, "replace", real_replace)
    assert calls == 2 and tree(tmp_path) != before  # it really stopped part-way

    assert not list(tmp_path.rglob("*.codegen-tmp"))  # no half-written files left behind
    safety = store.list()[-1]
    assert safety.label == f"before restore to {start.id}"
    store.restore(safety.id)
    assert tree(tmp_path) == before


def test_git_repository_is_not_touched(tmp_path: Path) -> None:
    make_project(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=tmp_path, check=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("private.cfg\n")
    git_before = tree(tmp_path / ".git")
    store = store_for(tmp_path)

    start = store.save("start")
    (tmp_path / "README.md").write_text("changed\n")
    store.restore(start.id)

    assert "private.cfg" not in start.files  # .git/info/exclude is honoured
    assert tree(tmp_path / ".git") == git_before
    status = subprocess.run(["git", "status", "--porcelain"], cwd=tmp_path, capture_output=True, text=True)
    assert [line for line in status.stdout.splitlines() if line != "?? .codegen/"] == []


def test_nested_gitignore_and_negation(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.tmp\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("!keep.tmp\nlocal/\n")
    (tmp_path / "sub" / "keep.tmp").write_text("kept\n")
    (tmp_path / "sub" / "drop.tmp").write_text("dropped\n")
    (tmp_path / "sub" / "local").mkdir()
    (tmp_path / "sub" / "local" / "x.txt").write_text("ignored\n")
    (tmp_path / "top.tmp").write_text("ignored\n")

    files = store_for(tmp_path).save("start").files

    assert set(files) == {".gitignore", "sub/.gitignore", "sub/keep.tmp"}


def test_oversized_files_are_skipped_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "small.txt").write_text("small\n")
    (tmp_path / "dataset.bin").write_bytes(b"x" * 5000)
    store = CheckpointStore(tmp_path, tmp_path / ".codegen" / "runs" / "r", max_file_bytes=1000)

    start = store.save("start")
    (tmp_path / "dataset.bin").write_bytes(b"y" * 6000)
    (tmp_path / "small.txt").write_text("changed\n")
    store.restore(start.id)

    assert start.skipped == ("dataset.bin",)
    assert (tmp_path / "small.txt").read_text() == "small\n"
    assert (tmp_path / "dataset.bin").read_bytes() == b"y" * 6000


def test_unknown_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    store = store_for(tmp_path)
    with pytest.raises(CheckpointError, match="no checkpoint 0042"):
        store.restore("0042")
    with pytest.raises(CheckpointError, match="not a checkpoint id"):
        store.get("../../etc/passwd")


def test_a_missing_blob_refuses_only_a_restore_that_needs_it(tmp_path: Path) -> None:
    import hashlib

    make_project(tmp_path)
    store = store_for(tmp_path)
    start = store.save("start")
    readme = hashlib.sha256((tmp_path / "README.md").read_bytes()).hexdigest()
    blob = tmp_path / ".codegen" / "objects" / readme[:2] / readme[2:]  # shared by every run
    blob.chmod(0o644)
    blob.unlink()
    (tmp_path / "run.sh").write_text("#!/bin/sh\necho changed\n")
    # README.md is as the checkpoint has it: its lost blob does not stop the restore.
    store.restore(start.id)
    assert (tmp_path / "run.sh").read_text() == "#!/bin/sh\necho hi\n"
    # Now the restore would need it (the restore's own safety capture stored it again: lose it again).
    blob.chmod(0o644)
    blob.unlink()
    (tmp_path / "README.md").write_text("# changed\n")
    (tmp_path / "run.sh").write_text("#!/bin/sh\necho changed\n")
    before = tree(tmp_path)
    with pytest.raises(CheckpointError, match="checkpoint data missing for README.md"):
        store.restore(start.id)
    assert tree(tmp_path) == before


def test_a_later_run_stores_only_what_changed_and_each_undoes_its_own(tmp_path: Path) -> None:
    make_project(tmp_path)
    first = CheckpointStore(tmp_path, tmp_path / ".codegen" / "runs" / "20260101-000000-aaaaaa")
    first_start = first.save("start")
    shared = tmp_path / ".codegen" / "objects"
    blobs = sorted(p for p in shared.rglob("*") if p.is_file())
    (tmp_path / "README.md").write_text("# changed by the first run\n")
    at_second_start = tree(tmp_path)

    second = CheckpointStore(tmp_path, tmp_path / ".codegen" / "runs" / "20260101-000000-bbbbbb")
    second_start = second.save("start")
    # Only the changed file's content is new; the second run keeps no copy of the workspace of its own.
    added = sorted(set(p for p in shared.rglob("*") if p.is_file()) - set(blobs))
    assert [p.read_bytes() for p in added] == [b"# changed by the first run\n"]
    assert not (second.dir / "objects").exists()
    (tmp_path / "run.sh").write_text("#!/bin/sh\necho second\n")

    second.restore(second_start.id)
    assert tree(tmp_path) == at_second_start
    first.restore(first_start.id)
    assert (tmp_path / "README.md").read_text() == "# demo\n"


def test_a_file_rewritten_keeping_its_size_and_mtime_is_read_again(tmp_path: Path, monkeypatch) -> None:
    from codegen_server.store import blobs

    # What stat says is trusted for files older than RACY_NS; these were just written, so none would be.
    monkeypatch.setattr(blobs, "RACY_NS", 0)
    make_project(tmp_path)
    store = store_for(tmp_path)
    before = store.save("before")
    readme = tmp_path / "README.md"
    was = readme.stat()
    readme.write_text("# DEMO\n")  # same size, same inode
    os.utime(readme, ns=(was.st_atime_ns, was.st_mtime_ns))  # and the same mtime: only ctime tells
    assert (readme.stat().st_ino, readme.stat().st_size, readme.stat().st_mtime_ns) == (
        was.st_ino, was.st_size, was.st_mtime_ns)
    after = store.save("after")
    store.restore(before.id)
    assert readme.read_text() == "# demo\n"
    store.restore(after.id)
    assert readme.read_text() == "# DEMO\n"
