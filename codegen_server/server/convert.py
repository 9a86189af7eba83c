"""Workflow results into the JSON the commands return: camelCase keys, as LSP does."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from ..edits import HunkFailure, failure_record


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_json(value: Any) -> Any:
    """Dataclasses to dicts, snake_case keys to camelCase, recursively; a hunk failure in the one
    failure shape (``edits.failure_record``)."""
    if isinstance(value, HunkFailure):
        value = failure_record(value)
    elif is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, dict):
        return {camel(str(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def error_data(error: BaseException | None = None, kind: str | None = None) -> dict[str, str | None]:
    """A JSON-RPC error's `data`: ``{kind, setting, env}``, the same keys for every error.

    ``kind`` names the cause ("auth", "no-test-command", ...; default the error's own); ``setting``
    (like "model.apiKey") and ``env`` (like "OPENAI_API_KEY") what fixes it, or null. The message
    stays neutral; each client words its own advice (a command, a setup option) from these.
    """
    return {"kind": kind or getattr(error, "kind", None) or type(error).__name__,
            "setting": getattr(error, "setting", None), "env": getattr(error, "env", None)}
