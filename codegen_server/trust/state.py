"""Sealed state files: written by codegen with a seal, read back only if the seal holds.

A file that is absent reads as None. One that is not a regular file, is too large, or is not
sealed for its purpose by this user also reads as None, after one warning naming the file and
what to do: untrusted state is never acted on, and never fails a command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .files import DEFAULT_LIMIT, RefusedPath, read_regular, write_state
from .notices import ignored
from .seal import Unsealed, open_bytes, open_json, seal_bytes, seal_json

#: Why an unsealed file is ignored, in the user's words.
NOT_OURS = "it was not written by codegen for this user on this machine (it may have come with the files)"


def load_json(path: Path, purpose: str, remedy: str, limit: int = DEFAULT_LIMIT) -> dict[str, Any] | None:
    """The fields of the sealed JSON file at ``path``, or None (absent, or ignored with a warning)."""
    raw = _read(path, remedy, limit)
    if raw is None:
        return None
    try:
        return open_json(raw, purpose)
    except Unsealed as error:
        ignored(path, f"{NOT_OURS}: {error}", remedy)
        return None


def save_json(path: Path, data: dict[str, Any], purpose: str, *, indent: int | None = 2) -> None:
    """Write ``data`` sealed for ``purpose``, atomically."""
    write_state(path, seal_json(data, purpose, indent=indent).encode("utf-8"))


def load_bytes(path: Path, purpose: str, remedy: str, limit: int = DEFAULT_LIMIT) -> bytes | None:
    """The payload of the sealed binary file at ``path``, or None (absent, or ignored with a warning)."""
    raw = _read(path, remedy, limit)
    if raw is None:
        return None
    try:
        return open_bytes(raw, purpose)
    except Unsealed as error:
        ignored(path, f"{NOT_OURS}: {error}", remedy)
        return None


def save_bytes(path: Path, payload: bytes, purpose: str) -> None:
    """Write ``payload`` sealed for ``purpose``, atomically."""
    write_state(path, seal_bytes(payload, purpose))


def _read(path: Path, remedy: str, limit: int) -> bytes | None:
    try:
        return read_regular(path, limit)
    except RefusedPath as error:
        ignored(path, f"it {error.why}", remedy)
        return None
