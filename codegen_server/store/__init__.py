"""Everything a run leaves behind, under <workspace>/.codegen/."""

from .runs import Run, RunNotFound, RunStore

__all__ = ["Run", "RunNotFound", "RunStore"]
