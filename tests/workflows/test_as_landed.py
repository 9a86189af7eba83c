"""What landed of a change after the editor's review: taken, rejected, taken in part, or taken around typing."""

from __future__ import annotations

from codegen_server.edits.types import FileChange
from codegen_server.workflows.host import as_landed

OLD = "a\nb\nc\nd\ne\nf\n"
NEW = "a\nB\nc\nd\nE\nf\n"


def test_each_file_is_read_from_the_editor_buffer_else_the_disk(tmp_path):
    changes = [FileChange(name, "modify", OLD, NEW) for name in ("taken.py", "rejected.py", "part.py", "typed.py")]
    (tmp_path / "taken.py").write_text(NEW)
    (tmp_path / "rejected.py").write_text(OLD)
    (tmp_path / "part.py").write_text(NEW)  # the disk was saved before; the buffer holds what the user kept
    buffers = {"part.py": "a\nB\nc\nd\ne\nf\n", "typed.py": "# mine\n" + NEW + "more\n"}

    landed, notes = as_landed(tmp_path, changes, buffers)

    assert [(c.path, c.new_text) for c in landed] == [
        ("taken.py", NEW), ("part.py", "a\nB\nc\nd\ne\nf\n"), ("typed.py", "# mine\n" + NEW + "more\n")]
    # Typing of the user's own beside the whole change is no news to the model; a rejected or partial file is.
    assert notes == ["rejected.py: the user rejected your change to it in the review",
                     "part.py: the user took only part of your change in the review; the file as it is now is "
                     "what counts"]
