"""The apply journal: what a multi-file write is about to do, so a crash can be undone or finished.

``write_changes`` records every step before taking it, in ``.codegen/writer/journal.<n>-<state>.json``::

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
_STATES = ("preparing", "committing", "complete")


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


def _journal_files(root: Path) -> list[str]:
    try:
        return sorted(n for n in os.listdir(root / WRITER_DIR) if n.startswith("journal."))
    except FileNotFoundError:
        return []


def pending(root: Path) -> bool:
    """Whether a journal (a crashed or running writer's) exists in ``root``."""
    return bool(_journal_files(root))


def save(root: Path, journal: Journal) -> None:
    """Record the journal in its state's own file, then drop the previous state's.

    Each state gets a new name (``journal.2-committing.json``) because renaming over an existing
    file, or truncating one, makes ext4 flush it to disk (auto_da_alloc): milliseconds per apply.
    The rename is atomic, so a reader sees a whole journal or the previous one.
    """
    directory = writer_dir(root, create=True)
    n = _STATES.index(journal.state) + 1
    name = directory / f"journal.{n}-{journal.state}.json"
    tmp = directory / f"journal.{n}-{journal.state}.tmp"
    tmp.write_text(json.dumps(asdict(journal)), encoding="utf-8")
    os.replace(tmp, name)
    for k in range(n - 1, 0, -1):
        (directory / f"journal.{k}-{_STATES[k - 1]}.json").unlink(missing_ok=True)


def discard(root: Path) -> None:
    """Remove every journal file (the write is finished, undone or recovered)."""
    for name in _journal_files(root):
        (root / WRITER_DIR / name).unlink(missing_ok=True)


def load(root: Path) -> Journal | None:
    """The latest whole journal, or None; a ``.tmp`` never renamed means nothing was done after it."""
    done = [n for n in _journal_files(root) if n.endswith(".json")]
    if not done:
        return None
    body = json.loads((root / WRITER_DIR / done[-1]).read_text(encoding="utf-8"))
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
        discard(root)  # a journal never renamed into place: the writer had touched nothing yet
        return
    if journal.state == "complete":
        roll_forward(root, journal)
    else:
        roll_back(root, journal)
    discard(root)
