"""The MCP server: one tool per workflow, each calling the same workflow the CLI calls.

Tools: clarify, generate, feedback, fix, apply_diff, context, undo; resources: a run's record
(``codegen://runs/<run_id>``, read back through the run store) and the repo map. Every tool writes through the
edits engine only (inside the root, atomic, under the writer lock) and records its run like the CLI.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from .. import __version__
from ..store import RunNotFound, RunStore
from ..workflows.context import DEFAULT_BUDGET
from ..workflows.fix_options import FixOptions
from . import results
from .workspace import Workspace

if TYPE_CHECKING:
    from ..workflows.host import Applier, Host

INSTRUCTIONS = """codegen writes, reviews and repairs code in one workspace with its own model.
generate builds from a prompt (clarify first for a vague one); feedback changes a line range the way a
review comment asks, or acts on `codegen:` marker comments; fix repairs until the tests pass; apply_diff
applies a diff you wrote (tolerant of miscounted hunks; dry_run to check first); context shows what
the model would see for a task; undo returns the workspace to a run's start. Every change is atomic
and recorded as a run (codegen://runs/<run_id>)."""

#: The defaults a fix tool call starts from (the CLI's).
_FIX = FixOptions()
ALLOW_CONFIG_EDITS = Field(description="write files that make an editor, a shell or git run code (.vscode/"
                                       "settings.json, .envrc, git hooks...); default: refused, nothing written")


def build_server(workspace: Workspace) -> MCPServer:
    """The server with every tool registered, working in ``workspace``."""
    server = MCPServer("codegen", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def clarify(
        ctx: Context,
        prompt: Annotated[str | None, Field(description="what to build (starts a new run)")] = None,
        run_id: Annotated[str | None, Field(description="a clarify run to answer (with answers)")] = None,
        answers: Annotated[list[str] | None, Field(description="answers, in the order of the questions")] = None,
    ) -> Annotated[CallToolResult, results.ClarifyOutcome]:
        """Ask the model what a vague prompt leaves open; answer until done, then generate(run_id=...)."""
        from ..workflows import clarify as workflow

        if not (prompt or run_id):
            raise ToolError("clarify: give a prompt, or a run_id with answers")
        outcome = await workspace.run(ctx, "clarify", lambda host: workflow.answer(host, run_id, answers or [])
                                      if run_id else workflow.start(host, prompt or ""))
        return results.clarify_result(outcome)

    @server.tool()
    async def generate(
        ctx: Context,
        prompt: Annotated[str | None, Field(description="what to build or change")] = None,
        run_id: Annotated[str | None, Field(description="a clarified run to build (from clarify)")] = None,
        dry_run: Annotated[bool, Field(description="compute the diff, write nothing")] = False,
        allow_config_edits: Annotated[bool, ALLOW_CONFIG_EDITS] = False,
    ) -> Annotated[CallToolResult, results.ChangeResult]:
        """Write a project (or changes to the workspace's code) from a prompt or a clarified run."""
        from ..workflows import generate as workflow

        if not (prompt or run_id):
            raise ToolError("generate: give a prompt or the run_id of a clarified run")
        outcome = await workspace.run(ctx, "generate", lambda host: workflow.generate(
            host, _applier(host.root, dry_run, allow_config_edits), prompt=prompt, run_id=run_id))
        return results.change_result(outcome)

    @server.tool()
    async def feedback(
        ctx: Context,
        file: Annotated[str | None, Field(description="workspace-relative file the comment is on")] = None,
        start_line: Annotated[int | None, Field(description="first line of the range (1-based)", ge=1)] = None,
        end_line: Annotated[int | None, Field(description="last line of the range (default: start_line)",
                                              ge=1)] = None,
        comment: Annotated[str | None, Field(description="what should change")] = None,
        markers: Annotated[bool, Field(description="act on every `codegen:` marker comment instead of a "
                                                   "file/range/comment")] = False,
        reply_to: Annotated[str | None, Field(description="continue an earlier feedback or generate run")] = None,
        verify: Annotated[bool, Field(description="run the tests that cover the change afterwards")] = True,
        test_command: Annotated[str | None, Field(description="the test command (default: detected)")] = None,
        dry_run: Annotated[bool, Field(description="compute the diff, write nothing")] = False,
        allow_config_edits: Annotated[bool, ALLOW_CONFIG_EDITS] = False,
    ) -> Annotated[CallToolResult, results.ChangeResult]:
        """Change code the way a review comment on a line range asks, or as the `codegen:` markers ask."""
        from ..workflows import feedback as workflow
        from ..workflows.verify import has_tests

        if markers == bool(file or comment or start_line):
            raise ToolError("feedback: give file, start_line and comment, or markers=true (and no file)")
        if not markers and not (file and comment and start_line):
            raise ToolError("feedback: file, start_line and comment go together")
        if end_line is not None and start_line is not None and end_line < start_line:
            raise ToolError("feedback: end_line comes before start_line")

        async def work(host: Host):
            checks = verify and not dry_run and await asyncio.to_thread(has_tests, host.root, test_command)
            options = {"verify": checks, "test_command": test_command}
            applier = _applier(host.root, dry_run, allow_config_edits)
            if markers:
                return await workflow.apply_marker_feedback(host, applier, **options)
            return await workflow.apply_feedback(host, applier, path=file, comment=comment, reply_to=reply_to,
                                                 line_range=(start_line, end_line or start_line), **options)

        return results.change_result(await workspace.run(ctx, "feedback", work))

    @server.tool()
    async def fix(
        ctx: Context,
        test_command: Annotated[str | None, Field(description="the test command (default: detected)")] = None,
        max_iterations: Annotated[int, Field(description="stop after this many edits", ge=1)] = _FIX.max_iterations,
        token_budget: Annotated[int, Field(description="stop once the model used this many tokens",
                                           ge=1)] = _FIX.token_budget,
        test_timeout: Annotated[float, Field(description="seconds before a test run is killed",
                                             gt=0)] = _FIX.test_timeout,
        allow_test_edits: Annotated[bool, Field(description="let the model edit tests too")] = False,
        allow_install: Annotated[bool, Field(description="let the model install packages")] = False,
        allow_commands: Annotated[bool, Field(description="let the model run commands")] = False,
        allow_config_edits: Annotated[bool, ALLOW_CONFIG_EDITS] = False,
    ) -> Annotated[CallToolResult, results.FixOutcome]:
        """Repair the code until the tests pass, a checkpoint per iteration; cancelling restores the last one."""
        from ..workflows import fix as workflow
        from ..workflows.host import DiskApplier

        async def consent(action: str) -> bool:
            # The call's flags are the consent: a tool call has nobody to ask in the middle of it.
            return (allow_install and action.startswith("install ")) or \
                   (allow_commands and action.startswith("run "))

        options = FixOptions(max_iterations=max_iterations, token_budget=token_budget, test_command=test_command,
                             test_timeout=test_timeout, allow_test_edits=allow_test_edits)

        async def work(host: Host):
            host.consent = consent
            return await workflow.fix(host, DiskApplier(host.root, allow_config_edits=allow_config_edits), options)

        return results.fix_result(await workspace.run(ctx, "fix", work))

    @server.tool()
    async def apply_diff(
        ctx: Context,
        diff: Annotated[str, Field(description="a unified diff (hunk counts may be off), or whole-file blocks")],
        dry_run: Annotated[bool, Field(description="say what would change, write nothing")] = False,
        allow_config_edits: Annotated[bool, ALLOW_CONFIG_EDITS] = False,
    ) -> Annotated[CallToolResult, results.ApplyResult]:
        """Apply a diff atomically: every file or none; a hunk that does not place says why and where it came close.
        Applied, it is a run that undo(run_id) reverses."""
        from ..edits import EditError
        from ..redaction import redact
        from ..workflows.apply import apply_patch
        from ..workflows.apply_run import apply_run
        from ..workflows.host import DiskApplier

        async def work(host: Host):
            applier = DiskApplier(host.root, allow_config_edits=allow_config_edits)
            try:
                if dry_run:
                    return results.apply_result(await apply_patch(diff, host.root, dry_run=True, applier=applier))
                return results.apply_result(await apply_run(host, diff, applier=applier))
            except EditError as error:  # a path outside the root, a size limit, a non-UTF-8 file
                await host.store.settle("failed", redact(f"refused: {error}"))  # the run apply_run began
                return results.refused_apply(error)

        return await workspace.run(ctx, "apply_diff", work)

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    async def context(
        ctx: Context,
        task: Annotated[str, Field(description="the task; identifiers and files in it steer the repo map")] = "",
        budget: Annotated[int, Field(description="token budget", ge=0)] = DEFAULT_BUDGET,
        file: Annotated[str | None, Field(description="a file in question, workspace-relative")] = None,
        start_line: Annotated[int | None, Field(description="first line in question in file (1-based)", ge=1)] = None,
        end_line: Annotated[int | None, Field(description="last line in question (default: start_line)", ge=1)] = None,
        test_output: Annotated[str | None, Field(description="a test run's output: failures are quoted")] = None,
    ) -> Annotated[CallToolResult, results.ContextOutcome]:
        """The repo map and focused context codegen's model would get for a task, within a token budget."""
        from ..workflows.context import gather_context

        if start_line is not None and not file:
            raise ToolError("context: start_line needs file")
        line_range = (start_line, end_line or start_line) if start_line is not None else None

        async def work(host: Host):
            try:
                return await asyncio.to_thread(gather_context, host.root, task=task, path=file, line_range=line_range,
                                               test_output=test_output, budget=budget)
            except ValueError as error:  # a file or range that cannot be read
                raise ToolError(f"context: {error}") from None

        return results.context_result(await workspace.run(ctx, "context", work))

    @server.tool()
    async def undo(
        ctx: Context,
        run_id: Annotated[str, Field(description="the run, as a tool's result gave it")],
        checkpoint: Annotated[str, Field(description='"start", "iteration N", or a checkpoint id')] = "start",
    ) -> Annotated[CallToolResult, results.UndoOutcome]:
        """Return the workspace to a checkpoint of a run (its start by default); the undo itself can be undone."""
        from ..workflows import undo as workflow

        outcome = await workspace.run(ctx, "undo", lambda host: workflow.undo(host, run_id, checkpoint))
        return results.undo_result(outcome)

    @server.resource("codegen://runs/{run_id}", mime_type="application/json",
                     description="a run's record: what was asked, its outcome, and every model call (request and "
                                 "answer), as codegen sealed them")
    async def run_record(run_id: str, ctx: Context) -> str:
        """One run's transcript: run.json and its model calls, read only through the run store."""
        root = await workspace.root_for(ctx)

        def read() -> str:
            run = RunStore(root).open(run_id, read_only=True)
            return json.dumps({"run": run.read_json_sync("run.json", {}), "calls": run.calls()}, indent=2)

        try:
            return await asyncio.to_thread(read)
        except RunNotFound as error:
            raise ResourceError(str(error)) from None

    @server.resource("codegen://repo-map{?task,budget}", mime_type="text/markdown",
                     description="the workspace's repo map (signatures, ranked towards task), within budget tokens")
    async def repo_map(ctx: Context, task: str = "", budget: str = str(DEFAULT_BUDGET)) -> str:
        """The map the model is sent with a task, as `context` gives it without a file in question."""
        from ..workflows.context import gather_context

        if not budget.isdigit():
            raise ResourceError(f"budget must be a whole number of tokens, not {budget!r}")
        root = await workspace.root_for(ctx)
        return (await asyncio.to_thread(gather_context, root, task=task, budget=int(budget))).text

    return server


def _applier(root: Path, dry_run: bool, allow_config_edits: bool) -> Applier:
    """The disk, atomically (refusing files that run code unless allowed), or nothing for a dry run."""
    from ..workflows.host import DiskApplier, PreviewOnly

    return PreviewOnly() if dry_run else DiskApplier(root, allow_config_edits=allow_config_edits)
