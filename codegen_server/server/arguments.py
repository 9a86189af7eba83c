"""Command arguments: one JSON object per command, checked with messages a user can act on."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from pygls.exceptions import JsonRpcInvalidParams


def command_object(command: str, arguments: Sequence[Any]) -> Mapping[str, Any]:
    """The single JSON object a codegen command takes (an empty object if none was given)."""
    if not arguments:
        return {}
    if len(arguments) != 1 or not isinstance(arguments[0], Mapping):
        raise JsonRpcInvalidParams(f"{command} takes one JSON object as its argument")
    return arguments[0]


def get_str(command: str, args: Mapping[str, Any], key: str, *, required: bool = False,
            choices: Sequence[str] | None = None) -> str | None:
    value = args.get(key)
    if value is None:
        if required:
            raise JsonRpcInvalidParams(f"{command}: `{key}` is required")
        return None
    if not isinstance(value, str):
        raise JsonRpcInvalidParams(f"{command}: `{key}` must be a string")
    if choices is not None and value not in choices:
        raise JsonRpcInvalidParams(f"{command}: `{key}` must be one of {', '.join(choices)}, not {value!r}")
    return value


def get_int(command: str, args: Mapping[str, Any], key: str, default: int, *, minimum: int = 0) -> int:
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise JsonRpcInvalidParams(f"{command}: `{key}` must be a whole number ≥ {minimum}")
    return value


def get_bool(command: str, args: Mapping[str, Any], key: str, default: bool) -> bool:
    value = args.get(key, default)
    if not isinstance(value, bool):
        raise JsonRpcInvalidParams(f"{command}: `{key}` must be true or false")
    return value


def get_str_list(command: str, args: Mapping[str, Any], key: str) -> list[str]:
    value = args.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JsonRpcInvalidParams(f"{command}: `{key}` must be a list of strings")
    return value


def get_line_range(command: str, args: Mapping[str, Any], key: str = "range", *,
                   required: bool = False) -> tuple[int, int] | None:
    """An LSP Range (0-based lines) as a 1-based inclusive line range, as the engines count."""
    value = args.get(key)
    if value is None:
        if required:
            raise JsonRpcInvalidParams(f"{command}: `{key}` is required")
        return None
    try:
        start, end = int(value["start"]["line"]), int(value["end"]["line"])
    except (TypeError, KeyError, ValueError, OverflowError):  # OverflowError: a line of 1e999 (infinity)
        raise JsonRpcInvalidParams(f"{command}: `{key}` must be an LSP Range") from None
    if start < 0 or end < start:
        raise JsonRpcInvalidParams(f"{command}: `{key}` must start at or before its end")
    return start + 1, end + 1
