"""Workspace checkpoints: snapshot the project's files at each iteration and restore any
snapshot byte for byte.

Layout under ``<run_dir>/checkpoints/``::

    objects/<2 hex>/<62 hex>   file contents, named by SHA-256 (shared by all checkpoints)
    <id>.json                  manifest: path -> {sha256, mode} or {link}

A content-addressed store of our own, rather than git objects, because it must
work where git is absent or the workspace is not a repository, must not read
the user's git config (``core.autocrlf``, clean/smudge filters and LFS would
break byte-for-byte restores), and must keep full permission bits, which git
reduces to 644/755. Unchanged files cost nothing after the first checkpoint.

What is captured: every regular file and symlink under the root except what
the workspace's ``.gitignore`` files (and ``.git/info/exclude``) ignore,
``.git/`` and ``.codegen/`` themselves, common tool caches, and files larger
than ``max_file_bytes``. Restoring touches only captured-kind files: ignored and
oversized files are never written or removed.

Methods do blocking file I/O; call them through ``asyncio.to_thread`` from async code.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pathspec

from ..edits import EditError
from ..edits.lock import workspace_lock
from ..edits.paths import normalize_rel_path, resolve_inside

# Never captured, whatever .gitignore says: VCS and our own data, and caches
# a person would never want rolled back.
_ALWAYS_IGNORED = (
    ".git/", ".codegen/", ".hg/", ".svn/", "node_modules/", "__pycache__/", "*.pyc",
    ".pytest_cache/", ".mypy_cache/", ".ruff_cache/", ".tox/", ".venv/", ".DS_Store",
)
_NEVER_CAPTURED = {".git", ".codegen"}  # by name, at any depth, whatever .gitignore says
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024


class CheckpointError(Exception):
    """A checkpoint could not be found, read or restored."""


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


class CheckpointStore:
    """Checkpoints of the workspace ``root``, kept in ``<run_dir>/checkpoints/``."""

    def __init__(self, root: Path, run_dir: Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.root = root.resolve()
        self.dir = run_dir / "checkpoints"
        self.objects = self.dir / "objects"
        self.max_file_bytes = max_file_bytes

    # -- public API ---------------------------------------------------------------

    def save(self, label: str) -> Checkpoint:
        """Snapshot the workspace now, under a human-readable ``label``."""
        entries, skipped = self._capture()
        return self._write_manifest(label, entries, skipped)

    def list(self) -> list[Checkpoint]:
        """All checkpoints, oldest first."""
        if not self.dir.is_dir():
            return []
        return [self._load(path.stem)[0] for path in sorted(self.dir.glob("*.json"))]

    def get(self, checkpoint_id: str) -> Checkpoint:
        """The checkpoint with this id (raises CheckpointError if there is none)."""
        return self._load(checkpoint_id)[0]

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
        target, wanted = self._load(checkpoint_id)
        self._check_paths(checkpoint_id, wanted)
        self._check_blobs(wanted)
        safety = self.save(f"before restore to {checkpoint_id}")
        _, current = self._load(safety.id)

        removed = sorted(path for path in current if path not in wanted)
        for path in removed:
            (self.root / path).unlink(missing_ok=True)
        self._prune_empty_dirs(removed)

        written = sorted(path for path, entry in wanted.items() if current.get(path) != entry)
        for path in written:
            self._write_entry(path, wanted[path])
        return RestoreResult(target, tuple(written), tuple(removed), safety)

    # -- capture -----------------------------------------------------------------

    def _capture(self) -> tuple[dict[str, dict], list[str]]:
        entries: dict[str, dict] = {}
        skipped: list[str] = []
        ignore = _IgnoreRules(self.root)
        self.objects.mkdir(parents=True, exist_ok=True)

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
                    entry = self._store_file(Path(child.path), info)
                    if entry is not None:
                        entries[path] = entry

        walk(self.root, "")
        return entries, skipped

    def _store_file(self, path: Path, info: os.stat_result) -> dict | None:
        try:
            data = path.read_bytes()
        except OSError:  # vanished or unreadable since the scan
            return None
        digest = hashlib.sha256(data).hexdigest()
        blob = self._blob(digest)
        if not blob.exists():
            blob.parent.mkdir(exist_ok=True)
            _atomic_write_bytes(blob, data, 0o444)
        return {"sha256": digest, "mode": stat.S_IMODE(info.st_mode)}

    def _blob(self, digest: str) -> Path:
        return self.objects / digest[:2] / digest[2:]

    # -- manifests -------------------------------------------------------------

    def _write_manifest(self, label: str, entries: dict[str, dict], skipped: list[str]) -> Checkpoint:
        created = time.time()
        body = {"label": label, "created": created, "files": entries, "skipped": skipped}
        text = json.dumps(body, indent=1, sort_keys=True).encode()
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".manifest.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            # A hard link fails if the name exists, so concurrent saves never
            # overwrite each other's ids.
            while True:
                checkpoint_id = f"{self._next_number():04d}"
                try:
                    os.link(tmp, self.dir / f"{checkpoint_id}.json")
                    break
                except FileExistsError:
                    continue
        finally:
            os.unlink(tmp)
        return Checkpoint(checkpoint_id, label, tuple(sorted(entries)), created, tuple(skipped), _digest(entries))

    def _next_number(self) -> int:
        numbers = [int(p.stem) for p in self.dir.glob("*.json") if p.stem.isdigit()]
        return max(numbers, default=-1) + 1

    def _load(self, checkpoint_id: str) -> tuple[Checkpoint, dict[str, dict]]:
        if not checkpoint_id.isdigit():
            raise CheckpointError(f"not a checkpoint id: {checkpoint_id!r}")
        path = self.dir / f"{checkpoint_id}.json"
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointError(f"no checkpoint {checkpoint_id} in {self.dir}") from None
        except (OSError, ValueError) as error:
            raise CheckpointError(f"checkpoint {checkpoint_id} is unreadable: {error}") from error
        files = body["files"]
        checkpoint = Checkpoint(
            checkpoint_id, body["label"], tuple(sorted(files)), body["created"], tuple(body["skipped"]),
            _digest(files),
        )
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

    def _check_blobs(self, entries: dict[str, dict]) -> None:
        """Refuse to start a restore that could not finish."""
        missing = [p for p, e in entries.items() if "sha256" in e and not self._blob(e["sha256"]).is_file()]
        if missing:
            raise CheckpointError(f"checkpoint data missing for {len(missing)} file(s), e.g. {missing[0]}")

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
            _atomic_write_bytes(target, self._blob(entry["sha256"]).read_bytes(), entry["mode"])

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


class _IgnoreRules:
    """Git's ignore rules: built-ins, ``.git/info/exclude``, and every ``.gitignore``
    on the way down, deeper files taking precedence."""

    def __init__(self, root: Path) -> None:
        base = list(_ALWAYS_IGNORED)
        exclude = root / ".git" / "info" / "exclude"
        if exclude.is_file():
            base += exclude.read_text(encoding="utf-8", errors="replace").splitlines()
        self.base = pathspec.GitIgnoreSpec.from_lines(base)
        self.local: dict[str, pathspec.GitIgnoreSpec] = {}

    def enter(self, directory: Path, rel: str) -> None:
        gitignore = directory / ".gitignore"
        if gitignore.is_file():
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            self.local[rel] = pathspec.GitIgnoreSpec.from_lines(lines)

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
            verdict = spec.check_file(sub).include
            if verdict is not None:
                return verdict
        return bool(self.base.check_file(candidate).include)


def _digest(entries: dict[str, dict]) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()


def _atomic_write_bytes(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".codegen-tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
