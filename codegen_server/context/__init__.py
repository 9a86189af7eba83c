"""Context engine: tree-sitter index, ranked repo map and focused context. Knows nothing of LSP.

The names below load on first use (PEP 562): the engine pulls in tree-sitter, numpy and the
tokenizer, which a command that never builds a map (``codegen apply``, the daemon's
``initialize``) should not pay for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _HOMES)
