"""Edits engine: parse model-written diffs, compute changes safely, write them atomically."""

from codegen_server.edits.lock import recover
from codegen_server.edits.plan import plan_patch
from codegen_server.edits.render import diff_texts, render_diff
from codegen_server.edits.report import failure_record, format_failures
from codegen_server.edits.types import EditError, EditLimits, FileChange, HunkFailure, PatchResult, StaleFileError
from codegen_server.edits.write import write_changes

__all__ = [
    "EditError", "EditLimits", "FileChange", "HunkFailure", "PatchResult",
    "StaleFileError", "diff_texts", "failure_record", "format_failures", "plan_patch", "recover", "render_diff", "write_changes",
]
