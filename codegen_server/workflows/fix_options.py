"""How far `fix` may go: its own module so the CLI's help can show the defaults without loading the loop."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FixOptions:
    max_iterations: int = 8
    #: Model tokens (prompt + completion) the whole run may spend.
    token_budget: int = 400_000
    test_command: str | None = None
    test_timeout: float = 300.0
    allow_test_edits: bool = False
    #: Tokens of context in each diagnose request. The system prompt and the instructions around the context
    #: take ~0.9k more, so the first request stays within 8k: the size the context engine is measured at.
    context_budget: int = 7000
    #: Run the failing tests under coverage to rank the code they ran (``workflows/localize.py``).
    localize: bool = True
