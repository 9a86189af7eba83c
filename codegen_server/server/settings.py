"""Server settings from initializationOptions and workspace/didChangeConfiguration.

Both carry the same object (the editor's `codegen` settings section)::

    {"model": {"name": "...", "baseUrl": "...", "apiKey": "...", "timeout": 120},
     "apply": {"saveAfterApply": true}}

Unknown keys and values of the wrong type are reported to the user and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ..model import ModelSettings
from ..model.settings import merge_editor_settings, settings_from_env


@dataclass(frozen=True)
class FixSettings:
    """Defaults for codegen.fixTests (section `codegen.fix`)."""

    max_iterations: int = 8
    test_command: str | None = None
    #: Accept each iteration's edit without a preview, within a run.
    auto_accept: bool = False
    allow_test_edits: bool = False


_FIX_KEYS = {"maxIterations": ("max_iterations", int), "testCommand": ("test_command", str),
             "autoAccept": ("auto_accept", bool), "allowTestEdits": ("allow_test_edits", bool)}


@dataclass(frozen=True)
class ServerSettings:
    model: ModelSettings = field(default_factory=ModelSettings)
    #: After the editor accepts an edit, make sure the files on disk hold it too
    #: (editors may leave applied edits unsaved; tests and tools read the disk).
    save_after_apply: bool = True
    fix: FixSettings = field(default_factory=FixSettings)


def initial_settings() -> ServerSettings:
    return ServerSettings(model=settings_from_env())


def merge(settings: ServerSettings, options: Any) -> tuple[ServerSettings, list[str]]:
    """Overlay the editor's options on ``settings``; returns the result and any problems found."""
    if options is None:
        return settings, []
    if not isinstance(options, Mapping):
        return settings, [f"codegen settings should be an object, got {type(options).__name__} (ignored)"]
    if isinstance(options.get("codegen"), Mapping):  # didChangeConfiguration sends {"codegen": {...}}
        options = options["codegen"]
    problems: list[str] = []
    model, model_problems = merge_editor_settings(settings.model, _section(options, "model", problems))
    problems += model_problems
    result = replace(settings, model=model)
    apply = _section(options, "apply", problems)
    if "saveAfterApply" in apply:
        if isinstance(apply["saveAfterApply"], bool):
            result = replace(result, save_after_apply=apply["saveAfterApply"])
        else:
            problems.append("codegen.apply.saveAfterApply should be true or false (ignored)")
    fix_values = {}
    for key, value in _section(options, "fix", problems).items():
        if key not in _FIX_KEYS:
            problems.append(f"unknown setting codegen.fix.{key} (ignored)")
            continue
        name, kind = _FIX_KEYS[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            problems.append(f"codegen.fix.{key} should be a {kind.__name__} (ignored)")
            continue
        fix_values[name] = value
    result = replace(result, fix=replace(result.fix, **fix_values))
    for key in options:
        if key not in ("model", "apply", "fix"):
            problems.append(f"unknown setting codegen.{key} (ignored)")
    return result, problems


def _section(options: Mapping, name: str, problems: list[str]) -> Mapping:
    value = options.get(name) or {}
    if not isinstance(value, Mapping):
        problems.append(f"codegen.{name} should be an object (ignored)")
        return {}
    return value
