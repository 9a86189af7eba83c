"""Workspace checkpoints: snapshot the project's files at each iteration and restore any
snapshot byte for byte.

Layout: ``<run_dir>/checkpoints/<id>.json``, a manifest (path -> {sha256, mode} or {link}); the
file contents are blobs named by their SHA-256 in ``.codegen/objects/``, shared by every run
(``blobs``).

A content-addressed store of our own, rather than git objects, because it must
work where git is absent or the workspace is not a repository, must not read
the user's git config (``core.autocrlf``, clean/smudge filters and LFS would
break byte-for-byte restores), and must keep full permission bits, which git
reduces to 644/755. Unchanged files cost nothing after the first checkpoint of the workspace.

What is captured: every regular file and symlink under the root except what
the workspace's ``.gitignore`` files (and ``.git/info/exclude``) ignore,
``.git/`` and ``.codegen/`` themselves, common tool caches, and files larger
than ``max_file_bytes``. Restoring touches only captured-kind files: ignored and
oversized files are never written or removed.

A cloned repository can carry any ``.codegen/`` it likes, so a manifest is sealed for this user,
this run and its id (``trust.seal``), and one that is not is never restored. Even a sealed
manifest is checked as a model's diff would be: paths stay inside the root, blob names are
SHA-256 digests (never a path of their own), each blob's content is checked against its digest
before anything is written, modes keep only permission bits (no setuid, setgid or sticky), and a
symlink pointing outside the root is not created (the result lists it).

Methods do blocking file I/O; call them through ``asyncio.to_thread`` from async code.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from ..edits import EditError
from ..edits.lock import workspace_lock
from ..edits.paths import normalize_rel_path, resolve_inside
from ..trust.files import STATE_DIR, RefusedPath, read_regular, state_dir
from ..trust.notices import ignored
from ..trust.seal import Unsealed, open_json, seal_json
from ..trust.state import NOT_OURS
from .blobs import BlobError, BlobStore, atomic_write_bytes

# Never captured, whatever .gitignore says: VCS and our own data, and caches
# a person would never want rolled back.
_ALWAYS_IGNORED = (
    ".git/", ".codegen/", ".hg/", ".svn/", "node_modules/", "__pycache__/", "*.pyc",
    ".pytest_cache/", ".mypy_cache/", ".ruff_cache/", ".tox/", ".venv/", ".DS_Store",
)
_NEVER_CAPTURED = {".git", ".codegen"}  # by name, at any depth, whatever .gitignore says
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
#: What a manifest may weigh: some hundred bytes per file of a large workspace.
_MANIFEST_LIMIT = 64 * 1024 * 1024
#: A blob's name: its content's SHA-256, as codegen writes it.
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: The mode bits a restore sets: permissions only, never setuid, setgid or sticky.
_PERMISSIONS = 0o777


class CheckpointError(Exception):
    """A checkpoint could not be found, read or restored."""


def manifest_purpose(run_id: str, checkpoint_id: str) -> str:
    """What a manifest's seal is for: this checkpoint of this run (it cannot stand in for another)."""
    return f"checkpoint:{run_id}/{checkpoint_id}"


@dataclass(frozen=True)
class Checkpoint:
    """One saved workspace state. ``files`` are the captured POSIX paths, sorted;
    ``skipped`` the files left out for their size."""

    id: str
    label: str
    files: tuple[str, ...]
    created: float
    skipped: tuple[str, ...] = ()
    #: A digest of the captured content: equal digests, equal workspaces (to notice a state seen before).
    digest: str = ""


@dataclass(frozen=True)
class RestoreResult:
    """What a restore changed. ``safety`` is the checkpoint of the state just before
    the restore, so the restore itself can be undone (or finished after a crash)."""

    checkpoint: Checkpoint
    written: tuple[str, ...]
    removed: tuple[str, ...]
    safety: Checkpoint
    #: Symlinks the checkpoint holds that point outside the workspace: not created.
    skipped_links: tuple[str, ...] = ()


class CheckpointStore:
    """Checkpoints of the workspace ``root``, kept in ``<run_dir>/checkpoints/``."""

    def __init__(self, root: Path, run_dir: Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        """``run_dir`` is ``<root>/.codegen/runs/<runId>``: the folders on the way must be real folders."""
        try:
            self._parts = (*run_dir.relative_to(root / STATE_DIR).parts, "checkpoints")
        except ValueError:
            raise CheckpointError(f"{run_dir} is not a folder under {root / STATE_DIR}") from None
        self.root = root.resolve()
        self.run_id = run_dir.name
        self.dir = run_dir / "checkpoints"
        self.max_file_bytes = max_file_bytes
        self._blobs = BlobStore(self.root, self._parts, max_file_bytes)

    def _folder(self, *parts: str, create: bool = False) -> Path:
        """A folder of the store (``objects/ab``, say), each folder on the way a real one."""
        try:
            return state_dir(self.root, *self._parts, *parts, create=create)
        except RefusedPath as error:
            raise CheckpointError(f"{error}; refusing to use these checkpoints") from None

    # -- public API ---------------------------------------------------------------

    def save(self, label: str) -> Checkpoint:
        """Snapshot the workspace now, under a human-readable ``label``."""
        entries, skipped = self._capture()
        return self._write_manifest(label, entries, skipped)

    def list(self) -> list[Checkpoint]:
        """All checkpoints codegen sealed, oldest first; any other manifest is left out with one warning."""
        folder = self._folder()
        if not folder.is_dir():
            return []
        found = []
        for checkpoint_id in sorted((p.stem for p in folder.glob("*.json") if p.stem.isdigit()), key=int):
            try:
                found.append(self._load(checkpoint_id)[0])
            except CheckpointError as error:
                ignored(folder / f"{checkpoint_id}.json", str(error), "undo does not use it")
        return found

    def get(self, checkpoint_id: str) -> Checkpoint:
        """The checkpoint with this id (raises CheckpointError if there is none)."""
        return self._load(checkpoint_id)[0]

    def changed_since(self, checkpoint_id: str) -> list[str]:
        """The captured paths created, changed (content or mode) or removed since the checkpoint, sorted."""
        _, saved = self._load(checkpoint_id)
        entries, _ = self._capture()
        return sorted(path for path in saved.keys() | entries.keys() if saved.get(path) != entries.get(path))

    def restore(self, checkpoint_id: str) -> RestoreResult:
        """Return the workspace to the checkpoint, byte for byte and mode for mode.

        Files captured since are removed, changed and deleted ones written back.
        The current state is checkpointed first, and every file is replaced by
        an atomic rename, so a crash part-way loses nothing: restoring the
        ``safety`` checkpoint (or this one again) completes the picture.
        """
        with workspace_lock(self.root):  # no apply writes while files are put back
            return self._restore_locked(checkpoint_id)

    def _restore_locked(self, checkpoint_id: str) -> RestoreResult:
        self._blobs.begin()
        target, wanted = self._load(checkpoint_id)
        self._check_paths(checkpoint_id, wanted)
        entries, skipped = self._capture()
        written = sorted(path for path, entry in wanted.items() if entries.get(path) != entry)
        outside = [p for p in written if "link" in wanted[p] and not _link_stays_inside(p, wanted[p]["link"])]
        written = [p for p in written if p not in outside]
        # Every blob is read and checked against its digest before the first file is touched: a restore
        # that could not finish never starts (a missing blob of a file that is already right is no matter).
        self._verify_blobs({path: wanted[path] for path in written})
        safety = self._write_manifest(f"before restore to {checkpoint_id}", entries, skipped)

        removed = sorted(path for path in entries if path not in wanted)
        for path in removed:
            (self.root / path).unlink(missing_ok=True)
        self._prune_empty_dirs(removed)

        for path in written:
            self._write_entry(path, wanted[path])
        return RestoreResult(target, tuple(written), tuple(removed), safety, tuple(outside))

    # -- capture -----------------------------------------------------------------

    def _capture(self) -> tuple[dict[str, dict], list[str]]:
        entries: dict[str, dict] = {}
        skipped: list[str] = []
        ignore = _IgnoreRules(self.root)
        self._blobs.begin()

        def walk(directory: Path, rel: str) -> None:
            ignore.enter(directory, rel)
            try:
                children = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError:
                return
            for child in children:
                path = f"{rel}/{child.name}" if rel else child.name
                is_dir = child.is_dir(follow_symlinks=False)
                if child.name in _NEVER_CAPTURED or ignore.ignored(path, is_dir):
                    continue
                if is_dir:
                    walk(Path(child.path), path)
                elif child.is_symlink():
                    entries[path] = {"link": os.readlink(child.path)}
                elif child.is_file(follow_symlinks=False):
                    info = child.stat(follow_symlinks=False)
                    if info.st_size > self.max_file_bytes:
                        skipped.append(path)
                        continue
                    entry = self._store_file(child.path, info)
                    if entry is not None:
                        entries[path] = entry

        walk(self.root, "")
        return entries, skipped

    def _store_file(self, path: str, info: os.stat_result) -> dict | None:
        try:
            digest = self._blobs.put(path, info)
        except RefusedPath as error:
            raise CheckpointError(f"{error}; refusing to use these checkpoints") from None
        if digest is None:  # vanished or unreadable since the scan
            return None
        return {"sha256": digest, "mode": stat.S_IMODE(info.st_mode) & _PERMISSIONS}

    def _blob(self, rel: str, digest: str) -> bytes:
        """The content saved for ``rel``, checked against its digest; raises CheckpointError."""
        try:
            return self._blobs.read(rel, digest)
        except BlobError as error:
            raise CheckpointError(str(error)) from None

    # -- manifests -------------------------------------------------------------

    def _write_manifest(self, label: str, entries: dict[str, dict], skipped: list[str]) -> Checkpoint:
        created = time.time()
        body = {"label": label, "created": created, "files": entries, "skipped": skipped}
        folder = self._folder(create=True)
        # A hard link fails if the name exists, so concurrent saves never overwrite each other's
        # ids; the seal names the id, so each attempt seals anew.
        while True:
            checkpoint_id = f"{self._next_number(folder):04d}"
            text = seal_json(body, manifest_purpose(self.run_id, checkpoint_id), indent=1).encode("utf-8")
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".manifest.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.link(tmp, folder / f"{checkpoint_id}.json")
                break
            except FileExistsError:
                continue
            finally:
                os.unlink(tmp)
        return Checkpoint(checkpoint_id, label, tuple(sorted(entries)), created, tuple(skipped), _digest(entries))

    @staticmethod
    def _next_number(folder: Path) -> int:
        numbers = [int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()]
        return max(numbers, default=-1) + 1

    def _load(self, checkpoint_id: str) -> tuple[Checkpoint, dict[str, dict]]:
        """A sealed manifest, its shape checked; raises CheckpointError naming the file."""
        if not checkpoint_id.isdigit():
            raise CheckpointError(f"not a checkpoint id: {checkpoint_id!r}")
        path = self._folder() / f"{checkpoint_id}.json"
        try:
            raw = read_regular(path, _MANIFEST_LIMIT)
        except RefusedPath as error:
            raise CheckpointError(f"checkpoint {checkpoint_id} cannot be used: {error}") from None
        except OSError as error:
            raise CheckpointError(f"checkpoint {checkpoint_id} is unreadable: {error}") from None
        if raw is None:
            raise CheckpointError(f"no checkpoint {checkpoint_id} in {self.dir}")
        try:
            body = open_json(raw, manifest_purpose(self.run_id, checkpoint_id))
        except Unsealed as error:
            raise CheckpointError(f"checkpoint {checkpoint_id} ({path}) cannot be used: {NOT_OURS}: {error}") from None
        try:
            files = {rel: _entry(rel, entry) for rel, entry in _field(body, "files", dict).items()}
            label, skipped = _field(body, "label", str), _field(body, "skipped", list)
            created = _field(body, "created", (int, float))
            if not all(isinstance(p, str) for p in skipped):
                raise ValueError("its skipped files are not all paths")
        except ValueError as error:
            raise CheckpointError(f"checkpoint {checkpoint_id} ({path}) is malformed: {error}") from None
        checkpoint = Checkpoint(checkpoint_id, label, tuple(sorted(files)), float(created), tuple(skipped),
                                _digest(files))
        return checkpoint, files

    def _check_paths(self, checkpoint_id: str, entries: dict[str, dict]) -> None:
        """Refuse a manifest naming any path a patch could not name: a planted or corrupted manifest
        must not write outside the root, into .git/ or .codegen/, or through a symlink."""
        for rel in entries:
            try:
                if normalize_rel_path(rel) != rel:
                    raise EditError(f"not a clean workspace-relative path: {rel!r}")
                parent = rel.rpartition("/")[0]
                if parent:
                    resolve_inside(self.root, parent)
                # A capture never records a path under a file or a link: restoring "a" as a link
                # and then "a/x" would write through it, which the check above cannot see.
                parts = rel.split("/")
                under = next(("/".join(parts[:n]) for n in range(1, len(parts)) if "/".join(parts[:n]) in entries),
                             None)
                if under is not None:
                    raise EditError(f"{rel!r} lies under {under!r}, which the checkpoint holds as a file or link")
            except EditError as error:
                raise CheckpointError(f"checkpoint {checkpoint_id} names an unsafe path, refusing to restore "
                                      f"anything: {error}") from None

    def _verify_blobs(self, entries: dict[str, dict]) -> None:
        """Read every blob a restore will write and check it against its digest (one at a time)."""
        for rel, entry in entries.items():
            if "sha256" in entry:
                self._blob(rel, entry["sha256"])

    # -- restore ------------------------------------------------------------------

    def _write_entry(self, rel: str, entry: dict) -> None:
        target = self.root / rel
        if target.is_dir() and not target.is_symlink():
            if any(target.iterdir()):
                raise CheckpointError(f"cannot restore {rel}: a non-empty directory is in the way")
            target.rmdir()
        target.parent.mkdir(parents=True, exist_ok=True)
        if "link" in entry:
            tmp = target.parent / f".{target.name}.codegen-restore"
            tmp.unlink(missing_ok=True)
            os.symlink(entry["link"], tmp)
            os.replace(tmp, target)
        else:
            atomic_write_bytes(target, self._blob(rel, entry["sha256"]), entry["mode"])

    def _prune_empty_dirs(self, removed: list[str]) -> None:
        """Remove directories left empty by removals (a created package, say)."""
        parents = {(self.root / path).parent for path in removed}
        for directory in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            while directory != self.root and directory.is_relative_to(self.root):
                try:
                    directory.rmdir()
                except OSError:  # not empty (or already gone): stop climbing
                    break
                directory = directory.parent


#: Verdicts of ignore rules already asked, by the rules' lines, then by path: a rule set is a pure
#: function of its lines, and a capture asks thousands of them (most again at the next capture).
_verdicts: dict[tuple[str, ...], dict[str, bool | None]] = {}
_MAX_VERDICTS = 200_000


class _Rules:
    """One set of gitignore lines, its verdicts remembered across captures."""

    def __init__(self, lines: list[str]) -> None:
        key = tuple(lines)
        if sum(len(v) for v in _verdicts.values()) > _MAX_VERDICTS:
            _verdicts.clear()
        self._spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._seen = _verdicts.setdefault(key, {})

    def verdict(self, path: str) -> bool | None:
        """True: ignored; False: re-included by a negation; None: no rule says."""
        if path in self._seen:
            return self._seen[path]
        found = self._seen[path] = self._spec.check_file(path).include
        return found


class _IgnoreRules:
    """Git's ignore rules: built-ins, ``.git/info/exclude``, and every ``.gitignore``
    on the way down, deeper files taking precedence."""

    def __init__(self, root: Path) -> None:
        base = list(_ALWAYS_IGNORED)
        exclude = root / ".git" / "info" / "exclude"
        if exclude.is_file():
            base += exclude.read_text(encoding="utf-8", errors="replace").splitlines()
        self.base = _Rules(base)
        self.local: dict[str, _Rules] = {}

    def enter(self, directory: Path, rel: str) -> None:
        gitignore = directory / ".gitignore"
        if gitignore.is_file():
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            self.local[rel] = _Rules(lines)

    def ignored(self, path: str, is_dir: bool) -> bool:
        candidate = path + "/" if is_dir else path
        parts = path.split("/")
        # Deepest .gitignore first; the first one with an opinion decides.
        for depth in range(len(parts) - 1, -1, -1):
            base = "/".join(parts[:depth])
            spec = self.local.get(base)
            if spec is None:
                continue
            sub = candidate[len(base) + 1 :] if base else candidate
            verdict = spec.verdict(sub)
            if verdict is not None:
                return verdict
        return bool(self.base.verdict(candidate))


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"its {name!r} is missing or of the wrong type")
    return value


def _entry(rel: Any, entry: Any) -> dict:
    """A manifest entry as restore may use it: ``{sha256, mode}`` or ``{link}``, nothing else.

    The digest must be one (it names a blob: never a path of its own), and the mode keeps
    permission bits only.
    """
    if not isinstance(rel, str) or not isinstance(entry, dict):
        raise ValueError(f"its entry for {rel!r} is not a path and an object")
    if entry.keys() == {"link"} and isinstance(entry["link"], str) and entry["link"]:
        return {"link": entry["link"]}
    if entry.keys() == {"sha256", "mode"}:
        digest, mode = entry["sha256"], entry["mode"]
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ValueError(f"the sha256 of {rel!r} is not a SHA-256 digest: {digest!r}")
        if isinstance(mode, int) and not isinstance(mode, bool):
            return {"sha256": digest, "mode": mode & _PERMISSIONS}
    raise ValueError(f"its entry for {rel!r} is neither {{sha256, mode}} nor {{link}}: {entry!r}")


def _link_stays_inside(rel: str, target: str) -> bool:
    """Whether a symlink at ``rel`` pointing at ``target`` leads to a place inside the root.

    Relative only, climbing (``..``) only at its start and no higher than the root, then going
    down by plain names, not into .git/ or .codegen/. A ``..`` after a name is refused, even
    one that reads as staying inside: the name may be a symlink, out of which ``..`` climbs.
    """
    if not target or target.startswith("/") or "\\" in target:
        return False
    parts = [p for p in target.split("/") if p not in ("", ".")]
    ups = next((i for i, part in enumerate(parts) if part != ".."), len(parts))
    folder = posixpath.dirname(rel).split("/") if "/" in rel else []
    if ups > len(folder):
        return False
    landing = "/".join(folder[:len(folder) - ups] + parts[ups:])
    if not landing:
        return True  # the root itself
    try:
        normalize_rel_path(landing)  # refuses a ".." left after a name, and .git/ or .codegen/
    except EditError:
        return False
    return True


def _digest(entries: dict[str, dict]) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
