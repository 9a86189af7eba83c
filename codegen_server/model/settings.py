"""Model settings, merged from the environment, LSP initializationOptions and didChangeConfiguration."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from ipaddress import ip_address
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from ..redaction import redact_url

DEFAULT_MODEL = "gpt-4o"
OPENAI_ENDPOINT = "https://api.openai.com/v1"


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
    #: Requests sent at once where a workflow can split its work (a new project's files): 1 is one at a time.
    parallel: int = 8
    temperature: float | None = 0.1
    # Seconds of the first retry's backoff; doubles each time (capped at 20 s).
    retry_backoff: float = 1.0
    #: Sent as ``max_tokens`` when set; servers with a small default output limit need it.
    max_tokens: int | None = None
    #: How many times an answer cut off at the output limit is asked to go on.
    max_continuations: int = 2
    #: A call whose answer (with its thinking and continuations) grows past this many characters fails:
    #: a runaway stream must not fill the memory.
    max_answer_chars: int = 1_000_000
    #: A call (retries and continuations included) still going after this many seconds fails.
    max_call_seconds: float = 1800.0
    #: Environment values that could not be used: what is wrong and how to fix it (reported at first use).
    problems: tuple[str, ...] = field(default=(), compare=False)
    #: Where each value came from, for error messages ("set codegen.model.name or CODEGEN_MODEL").
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    #: Whom error messages address: "editor" (the daemon: editor settings) or "cli" (flags, environment).
    audience: str = field(default="editor", compare=False)

    @property
    def configured(self) -> bool:
        """A key, or an endpoint that may not need one (Ollama, llama.cpp, vLLM)."""
        return bool(self.api_key or self.base_url)

    def describe_endpoint(self) -> str:
        """The endpoint for messages: credentials in the URL (`user:secret@`) are never shown."""
        return redact_url(self.base_url or OPENAI_ENDPOINT)

    @property
    def is_default_endpoint(self) -> bool:
        """OpenAI's own API (no base URL set): there is no local server to check on."""
        return not self.base_url or self.base_url.rstrip("/") == OPENAI_ENDPOINT

    @property
    def is_loopback(self) -> bool:
        """The endpoint is on this machine (127.0.0.0/8, ::1, localhost)."""
        host = (urlsplit(self.base_url).hostname or "") if self.base_url else ""
        if host == "localhost" or host.endswith(".localhost"):
            return True
        try:
            return ip_address(host).is_loopback
        except ValueError:
            return False


#: How a user sets each value: the setting (a client's `initializationOptions` / configuration key,
#: without the `codegen.` section), the CLI flag, and the environment variable.
SETTING_NAMES = {
    "model": ("model.name", "--model", "CODEGEN_MODEL"),
    "base_url": ("model.baseUrl", "--base-url", "OPENAI_BASE_URL"),
    "api_key": ("model.apiKey", None, "OPENAI_API_KEY"),
    "timeout": ("model.timeout", "--timeout", "CODEGEN_MODEL_TIMEOUT"),
    "max_tokens": ("model.maxTokens", None, "CODEGEN_MODEL_MAX_TOKENS"),
    "max_answer_chars": ("model.maxAnswerChars", None, "CODEGEN_MODEL_MAX_ANSWER_CHARS"),
    "max_call_seconds": ("model.maxCallSeconds", None, "CODEGEN_MODEL_MAX_CALL_SECONDS"),
}


def setting_names(key: str) -> tuple[str, str]:
    """The setting and the environment variable that set ``key``: a client words its own advice from them."""
    setting, _, env = SETTING_NAMES[key]
    return setting, env


def setting_hint(key: str, audience: str = "editor") -> str:
    """How a user fixes a value, in words every client shares: the setting `model.baseUrl` (or the
    environment variable OPENAI_BASE_URL) in an editor, `--base-url` (or ...) in the CLI. No client's own
    advice (a command, a setup option): the error's data names the setting for that."""
    setting, flag, env = SETTING_NAMES[key]
    if audience == "cli":
        if key == "api_key":
            return "the API key (the environment variable OPENAI_API_KEY)"
        return f"`{flag}` (or the environment variable {env})" if flag else f"the environment variable {env}"
    if key == "api_key":
        # No settings file holds the key (they get shared and synced): each client sends it its own way.
        return f"the API key (the client's `{setting}`, or the environment variable {env})"
    return f"the setting `{setting}` (or the environment variable {env})"


#: Numeric environment variables: the ModelSettings field, how to read the value, and its expected form.
_NUMERIC_ENV: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "CODEGEN_MODEL_TIMEOUT": ("timeout", lambda v: _positive(float(v)), "a number of seconds above 0, like 120"),
    "CODEGEN_MODEL_MAX_RETRIES": ("max_retries", lambda v: _at_least(int(v), 0), "a whole number from 0, like 4"),
    "CODEGEN_MODEL_MAX_TOKENS": ("max_tokens", lambda v: _at_least(int(v), 1), "a whole number of tokens, like 4096"),
    "CODEGEN_MODEL_PARALLEL": ("parallel", lambda v: _at_least(int(v), 1), "a whole number from 1, like 4"),
    "CODEGEN_MODEL_MAX_ANSWER_CHARS": ("max_answer_chars", lambda v: _at_least(int(v), 1),
                                       "a whole number of characters, like 1000000"),
    "CODEGEN_MODEL_MAX_CALL_SECONDS": ("max_call_seconds", lambda v: _positive(float(v)),
                                       "a number of seconds above 0, like 1800"),
}
#: Every environment variable codegen reads, with what it sets (README, --help); the model settings
#: read all but CODEGEN_INDEX_WORKERS, which the context index reads (context/parse_pool.py), and
#: CODEGEN_MAX_MESSAGE_MB, which the daemon's framing reads (server/framing.py).
ENV_VARIABLES = {
    "OPENAI_API_KEY": "the API key (never logged or stored)",
    "OPENAI_BASE_URL": "an OpenAI-compatible endpoint, such as http://localhost:11434/v1",
    "CODEGEN_MODEL": f"the model name (default {DEFAULT_MODEL})",
    "CODEGEN_MODEL_TIMEOUT": "seconds to wait for the model (default 120)",
    "CODEGEN_MODEL_MAX_RETRIES": "retries of 429/5xx/timeouts/dropped streams (default 4)",
    "CODEGEN_MODEL_MAX_TOKENS": "the answer's output limit, sent as max_tokens (default: the server's)",
    "CODEGEN_MODEL_PARALLEL": "requests sent at once where work splits, as a new project's files (default 8; 1: one)",
    "CODEGEN_MODEL_MAX_ANSWER_CHARS": "the longest answer one call may stream before it fails (default 1000000)",
    "CODEGEN_MODEL_MAX_CALL_SECONDS": "the longest one call may take, retries included, before it fails (default 1800)",
    "CODEGEN_INDEX_WORKERS": "processes that parse a large index refresh beside the daemon's own (default: one per core but one, at most 8; 0: none)",
    "CODEGEN_MAX_MESSAGE_MB": "codegen-server: the largest LSP message read, in MB (default 64; --max-message-mb)",
    "HTTPS_PROXY, HTTP_PROXY, NO_PROXY": "a proxy to reach the model endpoint through (read by the HTTP client)",
    "*API_KEY*, OPENAI_*, CODEGEN_*": "kept out of the environment of the project's test runs",
}


def _positive(value: float) -> float:
    if not value > 0 or value == float("inf"):
        raise ValueError(value)
    return value


def _at_least(value: int, low: int) -> int:
    if value < low:
        raise ValueError(value)
    return value


def settings_from_env(env: Mapping[str, str] | None = None) -> ModelSettings:
    """Read the model's variables in ENV_VARIABLES.

    A value that cannot be used is left out and kept in ``problems``, naming the
    variable and the form it needs: the first model call reports it (a daemon must
    not die at start-up over it, and commands that need no model are not stopped).
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    problems: list[str] = []
    for key in ("model", "base_url", "api_key"):  # text values; the numeric ones below
        var = SETTING_NAMES[key][2]
        if env.get(var):
            values[key] = env[var]
            sources[key] = var
    for var, (name, read, form) in _NUMERIC_ENV.items():
        raw = env.get(var, "").strip()
        if not raw:
            continue
        try:
            values[name] = read(raw)
            sources[name] = var
        except ValueError:
            problems.append(f"The environment variable {var} should be {form}; it is {raw[:40]!r}.")
    return ModelSettings(**values, sources=sources, problems=tuple(problems))


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
    "maxTokens": "max_tokens",
    "maxContinuations": "max_continuations",
    "maxAnswerChars": "max_answer_chars",
    "maxCallSeconds": "max_call_seconds",
    "parallel": "parallel",
}
_TYPES = {"model": str, "base_url": str, "api_key": str, "timeout": float,
          "max_retries": int, "temperature": float, "retry_backoff": float,
          "max_tokens": int, "max_continuations": int, "max_answer_chars": int, "max_call_seconds": float,
          "parallel": int}
_MINIMUM = {"max_tokens": 1, "max_continuations": 0, "max_retries": 0, "max_answer_chars": 1, "parallel": 1}
_POSITIVE = {"max_call_seconds"}


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
            if _TYPES[name] is int and (not isinstance(raw, int) or value < _MINIMUM.get(name, value)):
                raise ValueError
            if name in _POSITIVE and not 0 < value < float("inf"):
                raise ValueError
        except (TypeError, ValueError):
            # A secret's value is never echoed, whatever its type.
            shown = "a value that is not shown" if name == "api_key" else repr(raw)
            kind = "a whole number" if _TYPES[name] is int else f"a {_TYPES[name].__name__}"
            problems.append(f"codegen.model.{key} should be {kind}, got {shown} (ignored)")
            continue
        values[name] = value
        sources[name] = f"codegen.model.{key}"
    # An editor value replaces a bad environment value of the same setting, and its complaint.
    replaced = [var for var, (name, _, _) in _NUMERIC_ENV.items() if name in values]
    env_problems = tuple(p for p in base.problems if not any(var in p for var in replaced))
    return replace(base, **values, sources=sources, problems=env_problems), problems
