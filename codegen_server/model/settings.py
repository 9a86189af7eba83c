"""Model settings, merged from the environment, LSP initializationOptions and didChangeConfiguration."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

DEFAULT_MODEL = "gpt-4o"


@dataclass(frozen=True)
class ModelSettings:
    """Where the model lives and how patiently to talk to it.

    ``api_key`` is never written anywhere: ``__repr__`` hides it and the run store
    redacts it from everything it saves.
    """

    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 120.0
    max_retries: int = 4
    temperature: float | None = 0.1
    # Seconds of the first retry's backoff; doubles each time (capped at 20 s).
    retry_backoff: float = 1.0
    #: Where each value came from, for error messages ("set codegen.model.name or CODEGEN_MODEL").
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def configured(self) -> bool:
        """A key, or an endpoint that may not need one (Ollama, llama.cpp, vLLM)."""
        return bool(self.api_key or self.base_url)

    def describe_endpoint(self) -> str:
        return self.base_url or "https://api.openai.com/v1"


SETTING_NAMES = {
    "model": ("codegen.model.name", "CODEGEN_MODEL"),
    "base_url": ("codegen.model.baseUrl", "OPENAI_BASE_URL"),
    "api_key": ("codegen.model.apiKey", "OPENAI_API_KEY"),
}


def setting_hint(key: str) -> str:
    """'codegen.model.baseUrl (or OPENAI_BASE_URL)' — how a user fixes a value."""
    editor, env = SETTING_NAMES[key]
    return f"`{editor}` (or the environment variable {env})"


def settings_from_env(env: Mapping[str, str] | None = None) -> ModelSettings:
    """Read OPENAI_API_KEY, OPENAI_BASE_URL, CODEGEN_MODEL (and CODEGEN_MODEL_TIMEOUT)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, (_, var) in SETTING_NAMES.items():
        if env.get(var):
            values[key] = env[var]
            sources[key] = var
    if env.get("CODEGEN_MODEL_TIMEOUT"):
        values["timeout"] = float(env["CODEGEN_MODEL_TIMEOUT"])
    if env.get("CODEGEN_MODEL_MAX_RETRIES"):
        values["max_retries"] = int(env["CODEGEN_MODEL_MAX_RETRIES"])
    return ModelSettings(**values, sources=sources)


# Keys accepted in the editor's `codegen.model` object, mapped to ModelSettings fields.
_EDITOR_KEYS = {
    "name": "model",
    "model": "model",
    "baseUrl": "base_url",
    "apiKey": "api_key",
    "timeout": "timeout",
    "maxRetries": "max_retries",
    "temperature": "temperature",
    "retryBackoff": "retry_backoff",
}
_TYPES = {"model": str, "base_url": str, "api_key": str, "timeout": float,
          "max_retries": int, "temperature": float, "retry_backoff": float}


def merge_editor_settings(base: ModelSettings, options: Mapping[str, Any] | None) -> tuple[ModelSettings, list[str]]:
    """Overlay the editor's `codegen.model` settings on ``base``.

    Returns the merged settings and a list of problems (unknown keys, wrong types)
    that the server reports to the user; bad values are ignored, not fatal.
    """
    if not options:
        return base, []
    problems: list[str] = []
    values: dict[str, Any] = {}
    sources = dict(base.sources)
    for key, raw in options.items():
        name = _EDITOR_KEYS.get(key)
        if name is None:
            problems.append(f"unknown setting codegen.model.{key} (ignored)")
            continue
        if raw is None or raw == "":
            continue
        try:
            value = _TYPES[name](raw)
            if isinstance(raw, bool) or (_TYPES[name] is str and not isinstance(raw, str)):
                raise TypeError
        except (TypeError, ValueError):
            problems.append(f"codegen.model.{key} should be a {_TYPES[name].__name__}, got {raw!r} (ignored)")
            continue
        values[name] = value
        sources[name] = f"codegen.model.{key}"
    return replace(base, **values, sources=sources), problems
