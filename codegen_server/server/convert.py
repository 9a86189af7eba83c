"""Workflow results into the JSON the commands return: camelCase keys, as LSP does."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_json(value: Any) -> Any:
    """Dataclasses to dicts, snake_case keys to camelCase, recursively."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {camel(str(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value
