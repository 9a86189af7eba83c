"""Keeping secrets out of everything codegen writes: logs, the run store, error messages."""

from __future__ import annotations

import os
import re
from typing import Iterable

_KEY_SHAPES = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")
_KEY_FIELDS = re.compile(r"""(["']?(?:apiKey|api_key|authorization)["']?\s*[:=]\s*["']?)([^"',}\s]+)""",
                         re.IGNORECASE)
_known_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Remember a secret (an API key from the editor's settings) so nothing written shows it."""
    if value:
        _known_secrets.add(value)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` without known secrets, *_API_KEY values, key-shaped strings or apiKey fields."""
    secrets = _known_secrets | {v for k, v in os.environ.items() if k.endswith("API_KEY") and v}
    for secret in secrets.union(s for s in extra if s):
        text = text.replace(secret, "[redacted]")
    text = _KEY_FIELDS.sub(r"\1[redacted]", text)
    return _KEY_SHAPES.sub("[redacted]", text)
