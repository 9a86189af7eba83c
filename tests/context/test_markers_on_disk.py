"""A file's markers read from disk (for a closed file's diagnostics): as the walk reads files, never through a link."""

from __future__ import annotations

import os
from pathlib import Path

from codegen_server.context.markers import markers_in_file
from codegen_server.context.walk import MAX_FILE_BYTES


def test_a_files_markers_are_read_from_disk_but_never_through_a_link(tmp_path: Path) -> None:
    workspace, outside = tmp_path / "ws", tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (workspace / "real.py").write_text("x = 1  # codegen: call it total\n")
    (outside / "secret.py").write_text("# codegen: the secret outside the workspace\n")
    os.symlink(outside / "secret.py", workspace / "link.py")
    (workspace / "big.py").write_text("# codegen: too big to read\n" + "x = 1\n" * (MAX_FILE_BYTES // 6 + 1))
    (workspace / "latin.py").write_bytes("# codegen: caf\xe9\n".encode("latin-1"))

    text, [marker] = markers_in_file(workspace / "real.py")
    assert text == "x = 1  # codegen: call it total\n"
    assert (marker.text, marker.line, marker.character) == ("call it total", 0, 7)
    assert markers_in_file(workspace / "link.py") is None
    assert markers_in_file(workspace / "big.py") is None
    assert markers_in_file(workspace / "latin.py") is None
    assert markers_in_file(workspace / "gone.py") is None
    assert markers_in_file(workspace / "notes.txt") is None
