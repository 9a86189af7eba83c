"""edits.stale: a preview whose files changed on disk since it was computed is refused, naming the file."""

from __future__ import annotations

import pytest

from codegen_server.edits.stale import check_unchanged, disk_state
from codegen_server.edits.types import FileChange, StaleFileError


def change(old: str | None = "one\n", new: str | None = "two\n", path: str = "notes.txt", kind: str = "modify"):
    return FileChange(path=path, kind=kind, old_text=old, new_text=new)


def test_a_file_changed_before_the_preview_is_refused_unless_the_editor_holds_it(tmp_path):
    (tmp_path / "notes.txt").write_text("someone else's\n")
    with pytest.raises(StaleFileError, match="notes.txt changed on disk after the change was computed"):
        disk_state(tmp_path, [change()])
    # An open document: the change was computed from the editor's buffer, which may differ from the disk.
    assert disk_state(tmp_path, [change()], ["notes.txt"]) == {"notes.txt": disk_state(
        tmp_path, [change(old="someone else's\n")])["notes.txt"]}


def test_a_file_changed_while_the_preview_was_open_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("one\n")
    before = disk_state(tmp_path, [change(), change(None, "new\n", "new.txt", "create")])
    check_unchanged(tmp_path, [change()], before)  # nothing changed
    (tmp_path / "notes.txt").write_text("two\n")  # the editor saved the accepted edit: not stale
    check_unchanged(tmp_path, [change()], before)
    (tmp_path / "notes.txt").write_text("someone else's\n")
    with pytest.raises(StaleFileError, match="notes.txt changed on disk while the preview was open"):
        check_unchanged(tmp_path, [change()], before)
    (tmp_path / "new.txt").write_text("made meanwhile\n")
    with pytest.raises(StaleFileError, match="new.txt changed on disk"):
        check_unchanged(tmp_path, [change(None, "new\n", "new.txt", "create")], before)
