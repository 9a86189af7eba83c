"""Context for changing an existing workspace: the files a task most likely touches, quoted whole, with their tests.

A model asked to change a project from its repo map alone sees signatures: no bodies, no fields,
no tests, so it cannot write a diff that applies and has to ask for the files first. Here the
product files are ranked for the task — the files it names, the files defining the names it
mentions (plain words that happen to be defined names count less), then the repo map's
personalised rank — and each is quoted whole with line numbers (so a whole-file rewrite of it is
allowed, see shown.py), followed by its tests: test files named after it, or importing it.
A file too long to fit keeps the definitions the task names, whole.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from .focus import definition_piece, quote
from .pieces import Piece
from .rank import Focus, Graph, Ranking
from .resolve import Resolver, Target, is_test_path

TASK_FILES = "Files the task most likely touches, whole"
TASK_TESTS = "Their tests"
TASK_SECTIONS = [TASK_FILES, TASK_TESTS]
MAX_FILES = 6  # product files offered whole, most likely first
MAX_TESTS_PER_FILE = 2
MAX_NAMED_DEFINITIONS = 3  # of a file too long to quote whole


def _stem(path: str) -> str:
    """`src/cart.py` -> `cart`; `test/cart.test.js`, `cart_test.go`, `test_cart.py` -> `cart`."""
    name = PurePosixPath(path).name.split(".", 1)[0].removeprefix("test_")
    for suffix in ("_test", "_tests", "_spec"):
        name = name.removesuffix(suffix)
    return name


def ranked_files(resolver: Resolver, graph: Graph, focus: Focus, ranking: Ranking) -> list[str]:
    """Product files by how likely the task touches them (see the module docstring)."""
    named = focus.identifiers
    weak = focus.weak_identifiers
    defines: dict[str, float] = {}
    for names, weight in ((named, 1.0), (weak, 0.5)):
        for name in names:
            for target in resolver.definers.get(name, ()):
                defines[target.path] = max(defines.get(target.path, 0.0), weight)
    top = float(ranking.file_rank.max()) if len(ranking.file_rank) else 0.0
    scores = []
    for fid, path in enumerate(graph.files):
        if is_test_path(path) or path not in resolver.records:
            continue
        rank = float(ranking.file_rank[fid]) / top if top > 0 else 0.0
        scores.append((2 * focus.files.get(path, 0.0) + defines.get(path, 0.0) + rank, path))
    scores.sort(key=lambda item: (-item[0], item[1]))
    return [path for _, path in scores[:MAX_FILES]]


def tests_of(resolver: Resolver, path: str) -> list[str]:
    """Test files of a product file: named after it first, then those importing it."""
    stem = _stem(path)
    tests = [p for p in sorted(resolver.records) if is_test_path(p)]
    named = [p for p in tests if _stem(p) == stem]
    word = re.compile(rf"\b{re.escape(stem)}\b")
    # An import names the module (`from shop.cart import`, `require('../src/cart')`): check those only.
    mentioning = [p for p in tests if p not in named
                  and any(word.search(text) for _, text in resolver.records[p].tags.imports)]
    importing = [p for p in mentioning if path in resolver.imported_files(p)]
    return (named + importing)[:MAX_TESTS_PER_FILE]


def _whole(resolver: Resolver, path: str, section: str, brief: str = "") -> Piece | None:
    lines = resolver.lines(path)
    if not lines:
        return None
    text = f"`{path}` (the whole file, {len(lines)} lines):\n" + quote(lines, 0, len(lines) - 1, set())
    return Piece(section, text, brief, (path, -2), [path], span=(path, 0, len(lines) - 1))


def _named_definitions(resolver: Resolver, path: str, names: set[str]) -> str:
    """The definitions of ``path`` the task names, whole: the brief form of a file too long to quote."""
    definitions = resolver.records[path].tags.definitions
    chosen = [i for i, d in enumerate(definitions) if d.name in names][:MAX_NAMED_DEFINITIONS]
    return "\n\n".join(definition_piece(resolver, Target(path, i), TASK_FILES, "Named in the task:").text
                        for i in chosen)


def task_file_pieces(resolver: Resolver, graph: Graph, focus: Focus, ranking: Ranking) -> list[Piece]:
    """Pieces for a task that changes the workspace, most likely first: each file whole, then its tests."""
    pieces: list[Piece] = []
    for path in ranked_files(resolver, graph, focus, ranking):
        named = _named_definitions(resolver, path, focus.identifiers | focus.weak_identifiers)
        piece = _whole(resolver, path, TASK_FILES, named)
        if piece is None:
            continue
        pieces.append(piece)
        for test in tests_of(resolver, path):
            if (test_piece := _whole(resolver, test, TASK_TESTS)) is not None:
                pieces.append(test_piece)
    return pieces
