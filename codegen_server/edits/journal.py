"""The apply journal: what a multi-file write is about to do, so a crash can be undone or finished.

``write_changes`` records every step before taking it, in ``.codegen/writer/journal.<n>-<state>.json``::

    {"state": "preparing" | "committing" | "complete",
     "entries": [{"path": rel, "temp": rel | null, "backup": rel | null}], "dirs": [rel, ...],
     "seal": "..."}

An entry's commit is: move ``path`` aside to ``backup`` (if it existed), then rename ``temp``
(the new content, fully written) onto ``path``. Recovery, under the writer lock:

- ``preparing``: temp files may be half-written and nothing is renamed yet: delete the temps.
- ``committing``: some entries are swapped: put every backup back, remove what was created.
- ``complete``: every entry is swapped: delete the backups (roll forward).

Recovery renames and deletes files, so it acts only on a journal this user's codegen wrote for
this workspace: the journal is sealed (``trust.state``, purpose ``journal:<real root>``), and even
a sealed one is checked entry by entry (each path one a diff could name, no symlink on the way,
temp and backup exactly the names the writer gives them beside it). Any other ``journal.*`` file,
such as one that came with a cloned repository, is ignored with one warning naming it, and left
for the user to delete.

The journal survives the writer being killed (it is renamed into place before the first
rename of a workspace file); like git and editors, surviving power loss is not promised.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codegen_server.edits.paths import normalize_rel_path, resolve_inside
from codegen_server.trust.files import RefusedPath, read_regular, state_dir, write_state
from codegen_server.trust.notices import ignored
from codegen_server.trust.state import load_json, save_json

WRITER = "writer"
TEMP_SUFFIX = ".codegen-tmp"
BACKUP_SUFFIX = ".codegen-bak"
_STATES = ("preparing", "committing", "complete")
#: The journal files the writer names, one per state; ``save_json`` writes each beside it as a dot-temp first.
_JOURNAL = re.compile(r"journal\.([123])-(preparing|committing|complete)\.json")
_JOURNAL_TEMP = re.compile(r"\.journal\.[123]-[a-z]+\.json\..+\.tmp")
#: A journal's entries name at most a few thousand paths; a bigger file is no journal of ours.
_LIMIT = 16 * 1024 * 1024
REMEDY = "codegen did not act on it; delete the file"


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


def aside_name(name: str, jid: str, suffix: str) -> str:
    """The name of a file's temp (``TEMP_SUFFIX``) or backup (``BACKUP_SUFFIX``) in its own folder."""
    return f".{name}.{jid}{suffix}"


def writer_dir(root: Path, *, create: bool = False) -> Path:
    """``<root>/.codegen/writer``, a real folder inside the workspace, ignored by git through its own .gitignore.

    Raises RefusedPath when ``.codegen`` or ``writer`` is a symlink or not a folder.
    """
    directory = state_dir(root, WRITER, create=create)
    if create:
        _ignore_everything(directory)
    return directory


def _ignore_everything(directory: Path) -> None:
    ignore = directory / ".gitignore"
    try:
        if read_regular(ignore, 16) == b"*\n":
            return
    except RefusedPath:
        pass  # a symlink, or not a plain file: replaced, never written through
    write_state(ignore, b"*\n")


def _purpose(root: Path) -> str:
    return f"journal:{os.path.realpath(root)}"


def _listing(directory: Path) -> list[str]:
    """The journal files (and leftover journal temps) in the verified writer folder."""
    try:
        return sorted(n for n in os.listdir(directory) if n.startswith(("journal.", ".journal.")))
    except (FileNotFoundError, NotADirectoryError):
        return []


def pending(root: Path) -> bool:
    """Whether a journal file (a crashed or running writer's, or a planted one) exists in ``root``.

    Raises RefusedPath when the writer folder is not a real folder inside the workspace.
    """
    return bool(_listing(writer_dir(root)))


def save(root: Path, journal: Journal) -> None:
    """Record the journal, sealed, in its state's own file, then drop the previous state's.

    Each state gets a new name (``journal.2-committing.json``) because renaming over an existing
    file, or truncating one, makes ext4 flush it to disk (auto_da_alloc): milliseconds per apply.
    The rename is atomic, so a reader sees a whole journal or the previous one.
    """
    directory = writer_dir(root, create=True)
    n = _STATES.index(journal.state) + 1
    save_json(directory / f"journal.{n}-{journal.state}.json", asdict(journal), _purpose(root), indent=None)
    for k in range(n - 1, 0, -1):
        (directory / f"journal.{k}-{_STATES[k - 1]}.json").unlink(missing_ok=True)


def discard(root: Path) -> None:
    """Remove the journal files the writer names, and its leftover temps (the write is finished or undone)."""
    directory = writer_dir(root)
    for name in _listing(directory):
        if _JOURNAL.fullmatch(name) or _JOURNAL_TEMP.fullmatch(name):
            _remove(directory / name)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # a folder planted under a journal's name: not ours to remove
        pass


def load(root: Path) -> Journal | None:
    """The latest journal codegen wrote for this workspace, checked entry by entry, or None.

    Every other journal file is ignored with one warning that names it; none is ever acted on.
    """
    return _load(root)[0]


def _load(root: Path) -> tuple[Journal | None, list[Path]]:
    """The latest journal of ours (or None), and every journal file of ours (sealed and sound)."""
    directory = writer_dir(root)
    found: list[tuple[int, Journal]] = []
    ours: list[Path] = []
    for name in _listing(directory):
        path = directory / name
        match = _JOURNAL.fullmatch(name)
        if match is None:
            if not _JOURNAL_TEMP.fullmatch(name):
                ignored(path, "it is not a journal codegen writes", REMEDY)
            continue
        body = load_json(path, _purpose(root), REMEDY, _LIMIT)
        if body is None:
            continue  # absent, or unsealed, a symlink, too large: load_json said which
        try:
            journal = parse(body, Path(os.path.realpath(root)))
            if journal.state != match.group(2):
                raise ValueError(f"its state {journal.state!r} is not the one its name says")
        except ValueError as error:
            ignored(path, f"it is not a journal codegen can act on: {error}", REMEDY)
            continue
        found.append((int(match.group(1)), journal))
        ours.append(path)
    return (max(found, key=lambda item: item[0])[1] if found else None), ours


def parse(body: dict[str, Any], root_real: Path) -> Journal:
    """A journal's fields as the writer wrote them; raises ValueError naming the first thing that is not.

    Each ``path`` must be a clean workspace path a diff could name, with no symlink in its
    folders; ``temp`` and ``backup`` the names the writer gives them beside it (one write id for
    all); each of ``dirs`` a clean path with no symlink at all. Recovery acts only on such a journal.
    """
    state, entries, dirs = body.get("state"), body.get("entries"), body.get("dirs")
    if state not in _STATES:
        raise ValueError(f"its state is not one of {', '.join(_STATES)}")
    if not isinstance(entries, list) or not isinstance(dirs, list):
        raise ValueError("it has no list of entries and folders")
    journal = Journal(state)
    jids: set[str] = set()
    for raw in entries:
        if not isinstance(raw, dict) or set(raw) != {"path", "temp", "backup"}:
            raise ValueError("an entry is not {path, temp, backup}")
        path, temp, backup = raw["path"], raw["temp"], raw["backup"]
        if not isinstance(path, str) or not all(v is None or isinstance(v, str) for v in (temp, backup)):
            raise ValueError("an entry's fields are not text")
        _clean(root_real, path, whole=False)
        folder, _, name = path.rpartition("/")
        for aside, suffix in ((temp, TEMP_SUFFIX), (backup, BACKUP_SUFFIX)):
            if aside is None:
                continue
            beside = f"{folder}/.{name}." if folder else f".{name}."
            match = re.fullmatch(re.escape(beside) + r"([0-9a-f]{8})" + re.escape(suffix), aside)
            if match is None:
                raise ValueError(f"{aside!r} is not the writer's {suffix} file beside {path!r}")
            jid = match.group(1)
            jids.add(jid)
        journal.entries.append(Entry(path, temp, backup))
    if len(jids) > 1:
        raise ValueError("its entries belong to different writes")
    for rel in dirs:
        if not isinstance(rel, str):
            raise ValueError("a folder is not text")
        _clean(root_real, rel, whole=True)
        journal.dirs.append(rel)
    return journal


def _clean(root_real: Path, rel: str, *, whole: bool) -> None:
    """Refuse a path a diff could not name, or one reached through a symlink: through its folders, and
    with ``whole`` through its last component too."""
    if normalize_rel_path(rel) != rel:  # EditError (a ValueError) for absolute, '..', .git, .codegen
        raise ValueError(f"{rel!r} is not a clean workspace path")
    checked = rel if whole else rel.rpartition("/")[0]
    if checked and resolve_inside(root_real, checked) != root_real / checked:
        raise ValueError(f"{rel!r} goes through a symbolic link")


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


def recover_locked(root: Path) -> bool:
    """Finish or undo a crashed writer's journal; True if there was one. The caller holds the writer lock.

    A journal file that is not this user's codegen's own is left where it is, after a warning.
    """
    journal, ours = _load(root)
    if journal is not None:
        if journal.state == "complete":
            roll_forward(root, journal)
        else:
            roll_back(root, journal)
    for path in ours:
        _remove(path)
    # A journal temp never renamed into place is dropped: its writer had touched nothing after it.
    directory = writer_dir(root)
    for name in _listing(directory):
        if _JOURNAL_TEMP.fullmatch(name):
            _remove(directory / name)
    return journal is not None
