"""Context engine: tree-sitter index, ranked repo map and focused context. Knows nothing of LSP."""

from .engine import ContextEngine, ContextResult, engine_for
from .failures import FailureTrace, Frame, parse_test_output
from .index import IndexStats

__all__ = [
    "ContextEngine", "ContextResult", "Frame", "IndexStats", "FailureTrace", "engine_for", "parse_test_output",
]
