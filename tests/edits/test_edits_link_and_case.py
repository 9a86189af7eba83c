"""A diff deleting or renaming a symlink acts on the link; `.git` and `.codegen` are refused in any
spelling that opens them (issue 23, point 4).

The diffs come from a model, and the symlinks from the repository: a cloned repository with
``link.txt -> real.txt``; a diff that deletes ``link.txt`` must remove the link and leave
``real.txt`` as it is. Case-insensitive filesystems (macOS, Windows) open ``.GIT/hooks`` as
``.git/hooks``, Windows drops trailing dots and spaces and reads ``GIT~1`` and
``.git::$INDEX_ALLOCATION`` as ``.git``: each is refused as ``.git/`` is, by the CLI and the daemon.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codegen_server.edits import EditError, plan_patch
from codegen_server.edits.paths import normalize_rel_path, resolve_inside
from tests.support.cli import codegen
from tests.support.hostile import hostile_clone

REAL = "keep me\n"
DELETE_LINK = "--- a/link.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-keep me\n"
RENAME_LINK = "diff --git a/link.txt b/moved.txt\nsimilarity index 100%\nrename from link.txt\nrename to moved.txt\n"
RENAME_AND_EDIT_LINK = "--- a/link.txt\n+++ b/moved.txt\n@@ -1 +1 @@\n-keep me\n+kept, and moved\n"


def linked(tmp_path: Path) -> tuple[Path, object]:
    def plant(repo: Path, outside: Path) -> None:
        (repo / "real.txt").write_text(REAL)
        os.symlink("real.txt", repo / "link.txt")

    clone, outside = hostile_clone(tmp_path, plant)
    assert (clone / "link.txt").is_symlink()
    return clone, outside


def test_codegen_apply_deleting_a_symlink_removes_the_link_not_its_target(tmp_path: Path) -> None:
    clone, outside = linked(tmp_path)
    done = codegen("apply", "--root", str(clone), "-", stdin=DELETE_LINK)
    assert done.returncode == 0, done.stderr
    assert not os.path.lexists(clone / "link.txt")
    assert (clone / "real.txt").read_text() == REAL
    assert outside.changes() == []


@pytest.mark.parametrize("diff, moved", [(RENAME_LINK, REAL), (RENAME_AND_EDIT_LINK, "kept, and moved\n")],
                         ids=["rename", "rename-and-edit"])
def test_codegen_apply_renaming_a_symlink_moves_the_link_not_its_target(tmp_path: Path, diff: str,
                                                                        moved: str) -> None:
    clone, outside = linked(tmp_path)
    done = codegen("apply", "--root", str(clone), "-", stdin=diff)
    assert done.returncode == 0, done.stderr
    assert not os.path.lexists(clone / "link.txt")
    assert (clone / "real.txt").read_text() == REAL  # the file the link pointed to stays where it was
    assert (clone / "moved.txt").read_text() == moved
    assert outside.changes() == []


@pytest.mark.parametrize("apply", ["disk", None], ids=["disk", "editor"])
async def test_apply_diff_deleting_a_symlink_removes_the_link_not_its_target(tmp_path: Path, editor_factory,
                                                                             apply: str | None) -> None:
    clone, outside = linked(tmp_path)
    editor = await editor_factory(clone)
    result = await editor.execute("codegen.applyDiff", {"diff": DELETE_LINK, **({"apply": apply} if apply else {})})
    assert result["applied"] is True, result
    assert not os.path.lexists(clone / "link.txt")
    assert (clone / "real.txt").read_text() == REAL
    assert outside.changes() == []


GIT_SPELLINGS = [".GIT/hooks/pre-commit", ".git /hooks/pre-commit", ".Git./config", "GIT~1/config",
                 ".git::$INDEX_ALLOCATION/hooks/pre-commit", ".g\u200cit/config", "sub/.CODEGEN/x",
                 ".codegen./runs/x", "sub\\.Git\\hooks\\x"]


@pytest.mark.parametrize("path", GIT_SPELLINGS)
def test_every_spelling_of_git_and_codegen_is_refused(path: str) -> None:
    with pytest.raises(EditError, match=r"\.git/|\.codegen/"):
        normalize_rel_path(path)


@pytest.mark.parametrize("path", [".GIT/hooks/pre-commit", ".git /hooks/pre-commit", ".Git./config",
                                  "sub/.CODEGEN/x"])
def test_codegen_apply_refuses_a_diff_into_git_in_any_spelling(tmp_path: Path, path: str) -> None:
    clone, outside = hostile_clone(tmp_path, lambda repo, out: None)
    before = sorted(os.listdir(clone))
    patch = f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,2 @@\n+#!/bin/sh\n+touch ../outside/ran\n"
    done = codegen("apply", "--root", str(clone), "-", stdin=patch)
    assert done.returncode == 1 and "refused" in done.stderr, done.stderr
    assert sorted(set(os.listdir(clone)) - {".codegen"}) == before  # no .GIT, ".git ", sub/ created
    assert outside.changes() == []


def test_a_symlink_into_git_in_another_letter_case_is_refused(tmp_path: Path) -> None:
    """Where ``.GIT`` is the same folder as ``.git``, a link to it leads into git's files."""
    (tmp_path / ".GIT").mkdir()  # stands for .git on a case-insensitive filesystem
    os.symlink(".GIT", tmp_path / "innocent")
    with pytest.raises(EditError, match=r"\.git/"):
        resolve_inside(tmp_path, "innocent/config")
    with pytest.raises(EditError, match=r"\.git/"):
        plan_patch("--- /dev/null\n+++ b/innocent/config\n@@ -0,0 +1 @@\n+[core]\n", tmp_path)
