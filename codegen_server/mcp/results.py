"""What the tools return: a structured result (its schema is the tool's output schema) and a short summary.

Built from the workflows' own results; the names are the ones the daemon's results use, in snake case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from ..edits.report import failure_record

if TYPE_CHECKING:
    from ..context import ContextResult as EngineContext
    from ..workflows.apply import ApplyOutcome
    from ..workflows.changes import ChangeOutcome
    from ..workflows.clarify import ClarifyResult
    from ..workflows.feedback import FeedbackResult
    from ..workflows.fix import FixResult
    from ..workflows.undo import UndoResult


#: The one failure shape (edits.report.failure_record), as every result of the daemon reports it.
FAILURES = ("hunks that did not apply, each {file, hunk, reason, closest}: hunk is 1-based or null, closest "
            "the nearest text found in the file or null")


class FileChanged(BaseModel):
    path: str = Field(description="workspace-relative path")
    action: str = Field(description="create, modify, delete or rename")
    new_path: str | None = Field(default=None, description="the new path of a rename")


class TestsAfter(BaseModel):
    command: str
    passed: int
    failed: int
    failing: list[str] = Field(default_factory=list)


class ChangeResult(BaseModel):
    """generate / feedback: the files the model's change touches and whether they were written."""

    run_id: str = Field(description="the run: its record is codegen://runs/<run_id>; undo works on it")
    applied: bool = Field(description="whether the change was written to the workspace")
    files: list[FileChanged]
    diff: str = Field(description="the change as a unified diff")
    reason: str = Field(default="", description="why nothing was written, if it was not")
    failures: list[dict[str, Any]] = Field(default_factory=list, description=FAILURES)
    refused: list[str] = Field(default_factory=list, description="files left untouched, each with the reason")
    sensitive: list[dict[str, str]] = Field(
        default_factory=list, description="changed files that make an editor, a shell or git run code: {path, why}")
    question: str = Field(default="", description="feedback: a question the model asked instead of changing code")
    explanation: str = Field(default="", description="feedback: the model's prose about the change")
    tests_after: TestsAfter | None = Field(default=None, description="feedback: the tests run after the change")
    markers_remaining: list[dict[str, Any]] = Field(default_factory=list,
                                                    description="feedback on markers: markers left in place")


class ClarifyOutcome(BaseModel):
    run_id: str = Field(description="answer with clarify(run_id, answers), then generate(run_id=...)")
    questions: list[str]
    done: bool = Field(description="the specification is clear: generate(run_id=...) builds it")


class ApplyResult(BaseModel):
    run_id: str = Field(default="", description="the run that recorded it: undo(run_id) reverses what it wrote; "
                                                "empty for a dry run or a refused diff, which write nothing")
    applied: bool
    dry_run: bool
    files: list[FileChanged]
    diff: str
    reason: str = Field(default="", description="why nothing was written (refused, dry run, already applied)")
    failures: list[dict[str, Any]] = Field(default_factory=list, description=FAILURES)
    already_applied: list[dict[str, Any]] = Field(default_factory=list)
    sensitive: list[dict[str, str]] = Field(default_factory=list)


class ContextOutcome(BaseModel):
    text: str = Field(description="the focused context and repo map, as the model would see it")
    tokens: int
    files: list[str] = Field(description="the files the context shows")


class Iteration(BaseModel):
    number: int
    failing_before: int
    failing_after: int
    edited: list[str]
    refused: list[str]
    actions: list[str]
    checkpoint: str


class FixOutcome(BaseModel):
    run_id: str = Field(description="undo(run_id) returns the workspace to its start")
    green: bool = Field(description="every test passes")
    stopped: str = Field(description="green, iterations, budget, no-progress, declined or cancelled")
    failing_before: int = Field(description="failing tests at the start")
    failing_after: int = Field(description="failing tests at the end")
    files_changed: list[str]
    iterations: list[Iteration]
    tokens_used: int
    checkpoints: list[str]
    restored_to: str | None = Field(description="the checkpoint the workspace was returned to, if any")
    summary: str


class UndoOutcome(BaseModel):
    run_id: str
    restored_to: str
    written: list[str]
    removed: list[str]
    before_undo: str = Field(description="undo(run_id, checkpoint=this) undoes this undo")
    skipped_links: list[str] = Field(default_factory=list)


def tool_result(result: BaseModel, summary: str) -> CallToolResult:
    """The structured result, and the short text summary a host shows or its model reads."""
    return CallToolResult(content=[TextContent(type="text", text=summary)],
                          structured_content=result.model_dump(mode="json"))


def _files(files: list[dict]) -> list[FileChanged]:
    return [FileChanged(path=f["path"], action=f["action"], new_path=f.get("newPath") or f.get("new_path"))
            for f in files]


def _file_list(files: list[FileChanged]) -> str:
    return ", ".join(f"{f.path} ({f.action})" for f in files) or "no files"


def change_result(outcome: ChangeOutcome | FeedbackResult) -> CallToolResult:
    """generate's or feedback's outcome."""
    extra: dict[str, Any] = {}
    tests = getattr(outcome, "tests", None)
    if tests is not None:
        extra["tests_after"] = TestsAfter(command=tests.command, passed=tests.passed, failed=tests.failed,
                                          failing=list(tests.failing))
    markers = getattr(outcome, "markers", None)
    result = ChangeResult(
        run_id=outcome.run_id, applied=outcome.applied, files=_files(outcome.files), diff=outcome.diff,
        reason=outcome.reason, failures=outcome.failures, refused=outcome.refused, sensitive=outcome.sensitive,
        question=getattr(outcome, "question", ""), explanation=getattr(outcome, "explanation", ""),
        markers_remaining=(markers or {}).get("remaining", []), **extra)
    if result.question:
        summary = f"run {result.run_id}: the model asks: {result.question}"
    elif result.applied:
        summary = f"run {result.run_id}: wrote {_file_list(result.files)}"
    else:
        summary = f"run {result.run_id}: nothing written ({result.reason or 'no change'}); {_file_list(result.files)}"
    if result.tests_after is not None:
        summary += f"; tests after: {result.tests_after.passed} passed, {result.tests_after.failed} failing"
    return tool_result(result, summary)


def clarify_result(outcome: ClarifyResult) -> CallToolResult:
    result = ClarifyOutcome(run_id=outcome.run_id, questions=list(outcome.questions), done=outcome.done)
    summary = (f"run {result.run_id}: clarified; generate with run_id={result.run_id}" if result.done else
               f"run {result.run_id}: the model asks:\n" +
               "\n".join(f"{n}. {q}" for n, q in enumerate(result.questions, 1)))
    return tool_result(result, summary)


def apply_result(outcome: ApplyOutcome) -> CallToolResult:
    result = ApplyResult(
        run_id=outcome.run_id, applied=outcome.applied, dry_run=outcome.dry_run, files=_files(outcome.files),
        diff=outcome.diff,
        reason=outcome.reason, failures=[failure_record(f) for f in outcome.failures],
        already_applied=[failure_record(f) for f in outcome.already_applied], sensitive=outcome.sensitive)
    verb = "would change" if result.dry_run else "changed" if result.applied else "nothing written"
    summary = (f"run {result.run_id}: " if result.run_id else "") + f"{verb}: {_file_list(result.files)}"
    if result.reason and not result.applied:
        summary += f" ({result.reason})"
    return tool_result(result, summary)


def refused_apply(error: Exception) -> CallToolResult:
    """A patch the edits engine refused outright (a path outside the root, a size limit): nothing written."""
    result = ApplyResult(applied=False, dry_run=False, files=[], diff="", reason=f"refused: {error}")
    return CallToolResult(content=[TextContent(type="text", text=f"refused, nothing written: {error}")],
                          structured_content=result.model_dump(mode="json"), is_error=True)


def context_result(outcome: EngineContext) -> CallToolResult:
    result = ContextOutcome(text=outcome.text, tokens=outcome.tokens, files=list(outcome.files))
    return tool_result(result, outcome.text)


def fix_result(outcome: FixResult) -> CallToolResult:
    iterations = [Iteration(number=i.number, failing_before=i.failing_before, failing_after=i.failing_after,
                            edited=i.edited, refused=i.refused, actions=i.actions, checkpoint=i.checkpoint)
                  for i in outcome.iterations]
    result = FixOutcome(
        run_id=outcome.run_id, green=outcome.green, stopped=outcome.stopped, failing_before=outcome.failing_at_start,
        failing_after=outcome.failing_at_end, files_changed=sorted({p for i in iterations for p in i.edited}),
        iterations=iterations, tokens_used=outcome.tokens_used, checkpoints=outcome.checkpoints,
        restored_to=outcome.restored_to, summary=outcome.summary)
    return tool_result(result, f"run {result.run_id}: {result.summary}")


def undo_result(outcome: UndoResult) -> CallToolResult:
    result = UndoOutcome(run_id=outcome.run_id, restored_to=outcome.restored_to, written=outcome.written,
                         removed=outcome.removed, before_undo=outcome.before_undo, skipped_links=outcome.skipped_links)
    return tool_result(result, f"run {result.run_id}: restored {result.restored_to}: {len(result.written)} file(s) "
                               f"written, {len(result.removed)} removed")
