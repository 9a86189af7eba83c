"""Everything a run leaves behind, under <workspace>/.codegen/."""

from .runs import Run, RunNotFound, RunStore, RunSummary, StateRefused

__all__ = ["Run", "RunNotFound", "RunStore", "RunSummary", "StateRefused"]
