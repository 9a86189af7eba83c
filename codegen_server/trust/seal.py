"""Seals: an HMAC-SHA256, under this user's key, over what codegen wrote and what it is for.

A JSON state file carries its seal as a top-level ``"seal"`` field, computed over the other fields
(canonical JSON) and a *purpose* that names what the file is (``journal:<root>``, ``run:<id>/run.json``,
...), so a sealed file cannot be passed off as another kind of state. A binary file (the index
cache) starts with a magic line and its seal.

Why a key outside the workspace rather than a checksum: a cloned repository can carry files with
any checksum it likes, but not a seal under a key that never left this user's state folder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from .key import user_key

SEAL_FIELD = "seal"
_VERSION = "v1"
_MAGIC = b"codegen-sealed-v1\n"
_DIGEST = hashlib.sha256().digest_size


class Unsealed(ValueError):
    """State whose seal is missing or wrong, or that is not what a sealed file looks like."""


def _mac(purpose: str, payload: bytes) -> bytes:
    mac = hmac.new(user_key(), purpose.encode("utf-8") + b"\0", hashlib.sha256)
    mac.update(payload)  # not joined to the purpose first: no copy of a 17 MB index cache
    return mac.digest()


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def seal_json(data: dict[str, Any], purpose: str, *, indent: int | None = 2) -> str:
    """``data`` as JSON text with its seal for ``purpose`` added."""
    body = {k: v for k, v in data.items() if k != SEAL_FIELD}
    seal = f"{_VERSION}:{_mac(purpose, _canonical(body)).hex()}"
    return json.dumps({**body, SEAL_FIELD: seal}, indent=indent, ensure_ascii=False) + "\n"


def open_json(text: str | bytes, purpose: str) -> dict[str, Any]:
    """The fields of a sealed JSON file (without the seal); raises Unsealed unless it was sealed for ``purpose``."""
    try:
        data = json.loads(text)
    except ValueError:
        raise Unsealed("it is not JSON") from None
    if not isinstance(data, dict):
        raise Unsealed("it is not a JSON object")
    seal = data.pop(SEAL_FIELD, None)
    if not isinstance(seal, str):
        raise Unsealed("it has no seal")
    version, _, mac = seal.partition(":")
    try:
        given = bytes.fromhex(mac)
    except ValueError:
        raise Unsealed("its seal is malformed") from None
    if version != _VERSION or not hmac.compare_digest(given, _mac(purpose, _canonical(data))):
        raise Unsealed("its seal does not match")
    return data


def seal_bytes(payload: bytes, purpose: str) -> bytes:
    """``payload`` behind a magic line and its seal for ``purpose``."""
    return _MAGIC + _mac(purpose, payload) + payload


def open_bytes(raw: bytes, purpose: str) -> bytes:
    """The payload of ``seal_bytes``; raises Unsealed unless it was sealed for ``purpose``."""
    if not raw.startswith(_MAGIC) or len(raw) < len(_MAGIC) + _DIGEST:
        raise Unsealed("it has no seal")
    given = raw[len(_MAGIC):len(_MAGIC) + _DIGEST]
    payload = raw[len(_MAGIC) + _DIGEST:]
    if not hmac.compare_digest(given, _mac(purpose, payload)):
        raise Unsealed("its seal does not match")
    return payload
