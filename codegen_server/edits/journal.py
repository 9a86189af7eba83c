"""The apply journal: what a multi-file write is about to do, so a crash can be undone or finished.

``write_changes`` records every step before taking it, in ``.codegen/writer/journal.json``::

    {"state": "preparing" | "committing" | "complete",
     "entries": [{"path": rel, "temp": rel | null, "backup": rel | null}], "dirs": [rel, ...]}

An entry's commit is: move ``path`` aside to ``backup`` (if it existed), then rename ``temp``
(the new content, fully written) onto ``path``. Recovery, under the writer lock:

- ``preparing``: temp files may be half-written and nothing is renamed yet: delete the temps.
- ``committing``: some entries are swapped: put every backup back, remove what was created.
- ``complete``: every entry is swapped: delete the backups (roll forward).

The journal survives the writer being killed (it is renamed into place before the first
rename of a workspace file); like git and editors, surviving power loss is not promised.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

WRITER_DIR = Path(".codegen") / "writer"
JOURNAL = "journal.json"


@dataclass
class Entry:
    """One path's step: ``temp`` holds its new content (None: removed), ``backup`` its old (None: absent)."""

    path: str
    temp: str | None
    backup: str | None


@dataclass
class Journal:
    state: str
    entries: list[Entry] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)


def writer_dir(root: Path, *, create: bool = False) -> Path:
    """``<root>/.codegen/writer``, ignored by git through its own .gitignore."""
    directory = root / WRITER_DIR
    if create and not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ".gitignore").write_text("*\n", encoding="utf-8")
    return directory


def pending(root: Path) -> bool:
    """Whether a journal (a crashed or running writer's) exists in ``root``."""
    directory = root / WRITER_DIR
    return (directory / JOURNAL).exists() or (directory / (JOURNAL + ".tmp")).exists()


def save(root: Path, journal: Journal) -> None:
    """Replace the journal atomically (a torn journal would be worse than none)."""
    directory = writer_dir(root, create=True)
    tmp = directory / (JOURNAL + ".tmp")
    tmp.write_text(json.dumps(asdict(journal)), encoding="utf-8")
    os.replace(tmp, directory / JOURNAL)


def discard(root: Path) -> None:
    (root / WRITER_DIR / JOURNAL).unlink(missing_ok=True)


def load(root: Path) -> Journal | None:
    directory = root / WRITER_DIR
    (directory / (JOURNAL + ".tmp")).unlink(missing_ok=True)  # never renamed: nothing was done after it
    try:
        body = json.loads((directory / JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return Journal(body["state"], [Entry(**e) for e in body["entries"]], list(body["dirs"]))


def _lexists(path: Path) -> bool:
    return os.path.lexists(path)


def roll_back(root: Path, journal: Journal) -> None:
    """Return every entry to its old state and remove what the write created."""
    for entry in reversed(journal.entries):
        path = root / entry.path
        temp = root / entry.temp if entry.temp else None
        backup = root / entry.backup if entry.backup else None
        if journal.state == "preparing":
            if temp is not None:
                temp.unlink(missing_ok=True)
            continue
        if temp is not None and not _lexists(temp):
            # The new content was renamed onto the path: take it away again.
            if backup is not None and _lexists(backup):
                os.replace(backup, path)
            elif backup is None:
                path.unlink(missing_ok=True)
            continue
        if temp is not None:
            temp.unlink(missing_ok=True)
        if backup is not None and _lexists(backup):
            os.replace(backup, path)
    for rel in reversed(journal.dirs):
        try:
            (root / rel).rmdir()
        except OSError:  # not empty (someone else's file) or already gone
            pass


def roll_forward(root: Path, journal: Journal) -> None:
    """Every entry is in place: drop the backups (and any temp left behind)."""
    for entry in journal.entries:
        for rel in (entry.backup, entry.temp):
            if rel:
                (root / rel).unlink(missing_ok=True)


def recover_locked(root: Path) -> None:
    """Finish or undo a crashed writer's journal. The caller holds the writer lock."""
    journal = load(root)
    if journal is None:
        return
    if journal.state == "complete":
        roll_forward(root, journal)
    else:
        roll_back(root, journal)
    discard(root)
