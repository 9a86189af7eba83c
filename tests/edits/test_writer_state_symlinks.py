"""codegen's writer folder and lock are never followed out of the workspace (issue 23, point 3).

A cloned repository can make ``.codegen``, ``.codegen/writer``, the lock or the writer's
``.gitignore`` a symlink to somewhere outside. A write then refuses with a clear error (or, for
the ``.gitignore``, replaces the link), recovery at the start of a command warns, and nothing
outside is created, written or deleted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.cli import codegen
from tests.support.hostile import hostile_clone

PATCH = "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# a project\n+# a project, patched\n"
# A journal a writer elsewhere left behind (or any file named like one): never deleted through a link.
VICTIM = json.dumps({"state": "preparing", "entries": [], "dirs": []})


def with_state_outside(link: str, target: str):
    """A repository whose ``link`` (under the clone) points at ``target`` (under the canaries' folder)."""
    def plant(repo: Path, outside: Path) -> None:
        (outside / "state" / "writer").mkdir(parents=True)
        (outside / "state" / "writer" / "journal.1-preparing.json").write_text(VICTIM)
        (outside / "writer").mkdir()
        (outside / "writer" / "journal.1-preparing.json").write_text(VICTIM)
        path = repo / link
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(outside / target, path.parent), path)

    return plant


@pytest.mark.parametrize("link, target", [(".codegen", "state"), (".codegen/writer", "writer")],
                         ids=["codegen", "writer"])
def test_a_symlinked_state_folder_is_refused_and_nothing_outside_changes(tmp_path: Path, link: str,
                                                                        target: str) -> None:
    clone, outside = hostile_clone(tmp_path, with_state_outside(link, target))
    assert (clone / link).is_symlink()
    listed = codegen("memory", "--root", str(clone))  # recovery at the start: a warning, the command works
    assert "Traceback" not in listed.stderr and str(clone / link) in listed.stderr, listed.stderr
    written = codegen("apply", "--root", str(clone), "-", stdin=PATCH)
    assert written.returncode == 1 and "symbolic link" in written.stderr and "Traceback" not in written.stderr
    assert str(clone / link) in written.stderr
    assert (clone / "README.md").read_text() == "# a project\n"  # the write refused whole
    assert outside.changes() == []


def test_a_symlinked_lock_creates_nothing_outside(tmp_path: Path) -> None:
    def plant(repo: Path, outside: Path) -> None:
        writer = repo / ".codegen" / "writer"
        writer.mkdir(parents=True)
        os.symlink("../../../outside/lock-made-here", writer / "lock")  # dangling: O_CREAT would make it
        (writer / "journal.2-committing.json").write_text('{"state": "committing"}')  # recovery takes the lock

    clone, outside = hostile_clone(tmp_path, plant)
    assert (clone / ".codegen" / "writer" / "lock").is_symlink()
    listed = codegen("memory", "--root", str(clone))
    assert listed.returncode == 0 and "Traceback" not in listed.stderr
    assert str(clone / ".codegen" / "writer" / "lock") in listed.stderr
    written = codegen("apply", "--root", str(clone), "-", stdin=PATCH)
    assert written.returncode == 1 and "lock" in written.stderr and "symbolic link" in written.stderr
    assert (clone / "README.md").read_text() == "# a project\n"
    assert not (outside.folder / "lock-made-here").exists()
    assert outside.changes() == []


def test_a_symlinked_writer_gitignore_is_replaced_not_written_through(tmp_path: Path) -> None:
    def plant(repo: Path, outside: Path) -> None:
        writer = repo / ".codegen" / "writer"
        writer.mkdir(parents=True)
        os.symlink("../../../outside/secret.txt", writer / ".gitignore")

    clone, outside = hostile_clone(tmp_path, plant)
    assert (clone / ".codegen" / "writer" / ".gitignore").is_symlink()
    written = codegen("apply", "--root", str(clone), "-", stdin=PATCH)
    assert written.returncode == 0, written.stderr
    assert (clone / "README.md").read_text() == "# a project, patched\n"
    ignore = clone / ".codegen" / "writer" / ".gitignore"
    assert not ignore.is_symlink() and ignore.read_text() == "*\n"
    assert outside.changes() == []
