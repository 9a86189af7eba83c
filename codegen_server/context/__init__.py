"""Context engine: tree-sitter index, ranked repo map and focused context. Knows nothing of LSP.

The names below load on first use (PEP 562): the engine pulls in tree-sitter, numpy and the
tokenizer, which a command that never builds a map (``codegen apply``, the daemon's
``initialize``) should not pay for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import ContextEngine, ContextResult, engine_for
    from .failures import FailureTrace, Frame, parse_test_output
    from .index import IndexStats

_HOMES = {
    "ContextEngine": "engine", "ContextResult": "engine", "engine_for": "engine",
    "FailureTrace": "failures", "Frame": "failures", "parse_test_output": "failures",
    "IndexStats": "index",
}

__all__ = [
    "ContextEngine", "ContextResult", "Frame", "IndexStats", "FailureTrace", "engine_for", "parse_test_output",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
