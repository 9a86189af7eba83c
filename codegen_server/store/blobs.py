"""The contents checkpoints hold: blobs named by their SHA-256, one folder for every run of a workspace.

Layout: ``.codegen/objects/<2 hex>/<62 hex>``. Each run used to keep its own blobs (under
``runs/<id>/checkpoints/objects/``, still read), so every run that writes copied the whole
workspace before its first write: 35 MB and seconds for a one-line apply on Django's tree. Shared,
a file unchanged since any earlier checkpoint costs no write.

``.codegen/`` may come with a cloned repository, so nothing found there is taken on trust: a blob
already in the shared folder stands in for a file only once this process has read it and found
its digest right (else it is written anew), and a restore checks every blob it reads again. A
folder on the way that is a symlink or a file is never written through: the run's own folder
takes the blob instead, as before, and a warning says so once.

What stat says of each file a capture read (device, inode, size, mtime and ctime in ns) is kept in
memory with its digest, as git's index keeps it: a later capture in this process reads only the
files whose stat changed. A file whose mtime or ctime was under RACY_NS old when it was read could
change again within the same clock tick without its stat changing, so its digest is not kept.

Methods do blocking file I/O; call them through ``asyncio.to_thread`` from async code.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from pathlib import Path

from ..trust.files import RefusedPath, read_regular, state_dir
from ..trust.notices import ignored

SHARED_FOLDER = "objects"
#: A file changed less than this long before it was read is read again next time (see above).
RACY_NS = 2_000_000_000
#: Stat entries kept in memory (some 200 bytes each); past this, they are forgotten and rebuilt.
MAX_REMEMBERED = 200_000

StatKey = tuple[int, int, int, int, int]

_lock = threading.Lock()
#: By absolute path: the stat the file had when it was read, and its content's digest.
_digests: dict[str, tuple[StatKey, str]] = {}
#: Shared blobs (by path) this process wrote, or read and found right.
_verified: set[str] = set()


class BlobError(Exception):
    """A blob a restore needs is missing, unreadable or not what its name says."""


def stat_key(info: os.stat_result) -> StatKey:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class BlobStore:
    """The blobs of one run's checkpoints: the workspace's shared folder first, the run's own beside it."""

    def __init__(self, root: Path, own_parts: tuple[str, ...], max_file_bytes: int) -> None:
        """``own_parts``: the run's checkpoint folder under ``.codegen/`` (``runs/<id>/checkpoints``)."""
        self.root = root
        self._own_parts = (*own_parts, "objects")
        self.max_file_bytes = max_file_bytes
        #: Folders checked in this operation (a capture stores thousands of blobs), by (shared, prefix).
        self._checked: dict[tuple[bool, str], Path | None] = {}
        #: Digests whose blob this store wrote into the run's own folder.
        self._own_written: set[str] = set()

    def begin(self) -> None:
        """Check the folders afresh: called at the start of each capture or restore."""
        self._checked.clear()

    def put(self, path: str, info: os.stat_result) -> str | None:
        """The digest of the file at ``path`` (``info``: its lstat), its content stored; None if it vanished."""
        key = stat_key(info)
        known = _digests.get(path)
        if known is not None and known[0] == key and self._has(known[1]):
            return known[1]
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:  # vanished or unreadable since the scan
            return None
        digest = hashlib.sha256(data).hexdigest()
        if not self._has(digest):
            self._write(digest, data)
        if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > RACY_NS:
            with _lock:
                if len(_digests) >= MAX_REMEMBERED:
                    _digests.clear()
                _digests[path] = (key, digest)
        return digest

    def read(self, rel: str, digest: str) -> bytes:
        """The content saved for ``rel``, checked against its digest: the run's own blob, else the shared one."""
        for shared in (False, True):
            blob = self._blob_path(shared, digest)
            if blob is None:
                continue
            try:
                data = read_regular(blob, self.max_file_bytes)
            except RefusedPath as error:
                raise BlobError(f"checkpoint data for {rel} cannot be used: {error}; "
                                "refusing to restore anything") from None
            if data is None:
                continue
            if hashlib.sha256(data).hexdigest() != digest:
                raise BlobError(f"checkpoint data for {rel} ({blob}) does not match its digest: it was changed "
                                "after codegen saved it; refusing to restore anything")
            return data
        raise BlobError(f"checkpoint data missing for {rel} ({self.root / '.codegen' / SHARED_FOLDER / digest[:2] / digest[2:]})")

    # -- inside --------------------------------------------------------------------

    def _folder(self, shared: bool, prefix: str, *, create: bool = False) -> Path | None:
        """``objects/<prefix>``, shared or the run's own, each folder on the way a real one; None when
        one is not (a symlink, a file), said once. Checked once per operation."""
        cached = self._checked.get((shared, prefix))
        if cached is not None:
            return cached
        parts = (SHARED_FOLDER,) if shared else self._own_parts
        try:
            folder = state_dir(self.root, *parts, prefix, create=create)
        except RefusedPath as error:
            ignored(error.path, error.why, "Checkpoints keep their files in the run's own folder instead."
                    if shared else "This run's checkpoints cannot keep their files.")
            return None
        if create or folder.is_dir():
            self._checked[(shared, prefix)] = folder
        return folder

    def _blob_path(self, shared: bool, digest: str) -> Path | None:
        folder = self._folder(shared, digest[:2])
        return None if folder is None else folder / digest[2:]

    def _has(self, digest: str) -> bool:
        """Whether a blob of ``digest`` is stored and can be trusted to hold it."""
        if digest in self._own_written:
            return True
        folder = self._folder(True, digest[:2])
        if folder is None:
            return False
        blob = os.path.join(folder, digest[2:])  # a string: this runs for every file of every capture
        if not os.path.lexists(blob):
            return False
        if blob in _verified:
            return True
        try:  # one that came with the repository, or a run of another process: read it once
            data = read_regular(Path(blob), self.max_file_bytes)
        except (RefusedPath, OSError):
            return False
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            return False
        with _lock:
            _verified.add(blob)
        return True

    def _write(self, digest: str, data: bytes) -> None:
        folder = self._folder(True, digest[:2], create=True)
        if folder is not None:
            blob = os.path.join(folder, digest[2:])
            try:
                atomic_write_bytes(Path(blob), data, 0o444)
            except OSError:  # say, a folder planted where the blob goes: the run's own folder then
                pass
            else:
                with _lock:
                    _verified.add(blob)
                return
        own = self._folder(False, digest[:2], create=True)
        if own is None:
            raise RefusedPath(self.root.joinpath(".codegen", *self._own_parts, digest[:2]),
                              f"is not a real folder, nor is {SHARED_FOLDER}/{digest[:2]}: nowhere to keep a file's "
                              "content")
        atomic_write_bytes(own / digest[2:], data, 0o444)
        self._own_written.add(digest)


def atomic_write_bytes(path: Path, data: bytes, mode: int) -> None:
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
