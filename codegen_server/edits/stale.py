"""Whether a previewed change is stale: the files it touches changed on disk since it was computed.

An editor's preview can stay open for minutes. Once the user accepts it, the daemon brings the disk
in line with the accepted edit (``workflows.host.ensure_on_disk``), which would overwrite whatever
another writer put there meanwhile, or write a change computed against text that is gone. So the
disk state of every touched file is fingerprinted when the preview is offered and compared right
before the accepted edit is written: a file that changed (and does not already hold the accepted
result, as when the editor saved it) stops the write with StalePreview naming it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from .types import FileChange, StaleFileError


class StalePreview(StaleFileError):
    """A file of a previewed change changed on disk: the change is not written."""

    #: What the daemon's error data says (`data.kind`).
    kind = "stale-preview"


def _fingerprint(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _text_digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def _touched(changes: Sequence[FileChange]) -> dict[str, str | None]:
    """Each touched path and the digest it holds once the change is applied (None: absent)."""
    after: dict[str, str | None] = {}
    for change in changes:
        if change.kind == "rename":
            after[change.path] = None
            after[change.new_path or change.path] = _text_digest(change.new_text)
        else:
            after[change.path] = _text_digest(change.new_text)
    return after


def disk_state(root: Path, changes: Sequence[FileChange], open_paths: Sequence[str] = ()) -> dict[str, str | None]:
    """The digest of every file ``changes`` touch, as the disk holds it now (None: absent).

    Raises StaleFileError when a file the editor does not hold open (``open_paths``; the change
    was then computed from the disk) already differs from the text the change was computed from.
    """
    state = {path: _fingerprint(root / path) for path in _touched(changes)}
    for change in changes:
        if change.path not in open_paths and change.kind != "create" \
                and state[change.path] != _text_digest(change.old_text):
            raise StalePreview(f"{change.path} changed on disk after the change was computed: nothing was "
                                 "offered or written. Run the command again to compute it against the file as it is.")
    return state


def check_unchanged(root: Path, changes: Sequence[FileChange], before: Mapping[str, str | None]) -> None:
    """Raise StaleFileError naming the first file that changed on disk since ``before`` (``disk_state``)
    and does not hold what the accepted change leaves there."""
    for path, result in _touched(changes).items():
        now = _fingerprint(root / path)
        if now != before.get(path) and now != result:
            raise StalePreview(f"{path} changed on disk while the preview was open: the accepted change was "
                                 "computed against the earlier file, so it was not written to disk (the editor's "
                                 "buffer holds it unsaved; revert that buffer to keep the file as it is on disk). "
                                 "Run the command again to compute the change against the file as it is.")
