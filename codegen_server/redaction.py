"""Keeping secrets out of logs and error texts.

Only logs and error messages are redacted: recorded prompts, answers and files are
kept byte-exact (a key never enters them in the first place). And only values long
enough to be a secret are: a local server's key `x` must not blank every `x`.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable, Iterator, Mapping

_KEY_SHAPES = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")
#: Credentials in a URL (`http://user:secret@host/v1`): the whole userinfo, a lone user name being a token too.
#: Greedy up to the authority's last `@`: a password may hold a raw `@` too.
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://)[^\s/?#\"'<>\[\]]+@")
#: A field named like a secret, and its value whatever its type: a string, a list, an object, a token.
_KEY_FIELDS = re.compile(
    r"""(["']?(?:api[_-]?key|authorization|password|secret)["']?\s*[:=]\s*)"""
    r"""((?:bearer\s+)?(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\[[^\]]*\]|\{[^}]*\}|[^\s,}\]]+))""",
    re.IGNORECASE)
#: Names of settings that hold secrets.
SECRET_NAMES = re.compile(r"api[_-]?key|authorization|password|secret", re.IGNORECASE)
_known_secrets: set[str] = set()
#: A shorter value is not treated as a secret: redacting it would mangle ordinary text.
MIN_SECRET_LENGTH = 8


def add_secret(value: str | None) -> None:
    """Remember a secret (an API key from the editor's settings) so no log or error text shows it."""
    if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
        _known_secrets.add(value)


def secret_settings(options: Any) -> Iterator[str]:
    """Every string under a setting named like a secret, at any depth and whatever its type."""
    if isinstance(options, Mapping):
        for key, value in options.items():
            if isinstance(key, str) and SECRET_NAMES.search(key):
                yield from _strings(value)
            else:
                yield from secret_settings(value)
    elif isinstance(options, (list, tuple)):
        for value in options:
            yield from secret_settings(value)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` without known secrets, *_API_KEY values, key-shaped strings, apiKey fields or URL userinfo.

    For logs and error texts only; values shorter than ``MIN_SECRET_LENGTH`` are left alone.
    """
    secrets = _known_secrets | {v for k, v in os.environ.items() if k.endswith("API_KEY")}
    for secret in sorted(secrets.union(extra), key=len, reverse=True):
        if isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, "[redacted]")
    text = _KEY_FIELDS.sub(r"\1[redacted]", text)
    text = redact_url(text)
    return _KEY_SHAPES.sub("[redacted]", text)


def redact_url(text: str) -> str:
    """``text`` with the userinfo of every URL in it (`user:secret@`) replaced by ``[redacted]@``."""
    return _URL_USERINFO.sub(r"\1[redacted]@", text)


def known_secrets() -> list[str]:
    """The secrets remembered so far (for redacting a test run's output, say)."""
    return sorted(_known_secrets)
