"""Context: what the model sees for a task, built by the context engine.

Recipe:
1. Take the workspace's shared engine (one per root) and bring its index up to date with the
   disk; unchanged files come from the cache under .codegen/index/.
2. Focused context first: the failing tests (from a runner's output, else its report), the range in
   question, or for a change to the workspace the files the task most likely touches, whole.
3. Fill the rest of the token budget with the repo map, ranked towards the task, the file in
   question, the open files and the failing tests' files.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..context import ContextResult
    from ..context.failures import FailureTrace
    from ..context.spectrum import Suspect

DEFAULT_BUDGET = 4096


def gather_context(
    root: str | Path,
    *,
    task: str = "",
    path: str | None = None,
    line_range: tuple[int, int] | None = None,
    test_output: str | None = None,
    reported: Sequence[FailureTrace] = (),
    open_files: Sequence[str] = (),
    whole_files: bool = False,
    budget: int = DEFAULT_BUDGET,
    suspects: Sequence[Suspect] = (),
) -> ContextResult:
    """The context for `task` in the workspace at `root`, within `budget` tokens.

    `suspects`: product lines a coverage run of the failing tests ranked (their functions come first).

    Blocking (parses changed files); call it through asyncio.to_thread from async code.
    """
    # The engine (tree-sitter, numpy, the tokenizer) loads when context is first asked for.
    from ..context import engine_for

    engine = engine_for(root)
    started = time.perf_counter()
    stats = engine.refresh()
    refreshed = time.perf_counter() - started
    result = engine.build(
        task=task, path=path, line_range=line_range, test_output=test_output, reported=reported,
        open_files=open_files, whole_files=whole_files, budget=budget, suspects=suspects,
    )
    result.timings["refresh"] = refreshed
    result.timings["total"] += refreshed
    result.timings["parsed_files"] = float(stats.parsed)
    return result
