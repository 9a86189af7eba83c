"""Supported languages: file extensions, tree-sitter grammars (PyPI wheels) and tag queries."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import tree_sitter as ts

QUERY_DIR = Path(__file__).with_name("queries")


@dataclass(frozen=True)
class LanguageSpec:
    """How to load one grammar and which tag query it uses."""

    name: str
    module: str
    factory: str
    query: str


LANGUAGES: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec("python", "tree_sitter_python", "language", "python"),
        LanguageSpec("javascript", "tree_sitter_javascript", "language", "javascript"),
        LanguageSpec("typescript", "tree_sitter_typescript", "language_typescript", "typescript"),
        LanguageSpec("tsx", "tree_sitter_typescript", "language_tsx", "typescript"),
        LanguageSpec("go", "tree_sitter_go", "language", "go"),
        LanguageSpec("rust", "tree_sitter_rust", "language", "rust"),
        LanguageSpec("java", "tree_sitter_java", "language", "java"),
        LanguageSpec("c", "tree_sitter_c", "language", "c"),
        LanguageSpec("cpp", "tree_sitter_cpp", "language", "cpp"),
    )
}

EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
}


def language_for_path(path: str) -> str | None:
    """Return the language name for a file path, or None if we do not index it."""
    dot = path.rfind(".")
    if dot < 0:
        return None
    return EXTENSIONS.get(path[dot:].lower())


@lru_cache(maxsize=None)
def grammar(name: str) -> ts.Language:
    """The tree-sitter Language for `name`, loaded from its installed wheel (no network)."""
    spec = LANGUAGES[name]
    return ts.Language(getattr(importlib.import_module(spec.module), spec.factory)())


@lru_cache(maxsize=None)
def tag_query(name: str) -> ts.Query:
    """The compiled tag query (definitions, references, imports) for a language."""
    spec = LANGUAGES[name]
    return ts.Query(grammar(name), (QUERY_DIR / f"{spec.query}.scm").read_text())
