"""`textDocument/codeAction`: codegen's commands for editors that know only the standard protocol.

On a marker (its diagnostic, or a range touching it): "Codegen: do this marker", "... do all markers
in this file" and "... in the workspace"; in a prompt file (its first line a marker, nothing but
markers and blank lines), "Codegen: generate from this prompt". On a selection: "Codegen: explain",
and "Codegen: apply the marker above" when a marker ends above it. Anywhere in a workspace file, the
source action `source.codegen.fixTests`, "Codegen: fix until tests pass". Each action is only a `Command` naming
an existing codegen command with its arguments: the editor sends it back as
`workspace/executeCommand`, and the daemon runs it as any client's call — progress through
`$/progress`, the change through `workspace/applyEdit` (the editor previews or applies it its own
way).

The actions' commands go through `codegen.start`, which answers at once and runs the command in the
background: editors wait for `workspace/executeCommand` only so long (eglot 1.9: 10 s, then "Timed
out"), and a fix loop runs for minutes. Nothing else changes: its progress, questions
(`window/showMessageRequest`) and edits reach the editor as they would, and its outcome is shown with
`window/showMessage` instead of being returned to an editor that would not show it, and the run's
transcript (what was asked, the model's whole answer, what became of it) opens beside the code with
`window/showDocument` where the editor supports it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from ...context.markers import Marker
from ...redaction import redact
from ...store import RunNotFound
from ..app import CodegenServer
from ..arguments import command_object, get_str
from .explain import EXPLAIN
from .feedback import APPLY_FEEDBACK
from .fix import FIX
from .generate import GENERATE
from .marker_diagnostics import document_markers
from .transcript import show_document, write_run_transcript

log = logging.getLogger(__name__)

START = "codegen.start"
#: What `codegen.start` runs: the commands the code actions name.
STARTABLE = (APPLY_FEEDBACK, FIX, EXPLAIN, GENERATE)
FIX_TESTS_KIND = "source.codegen.fixTests"
KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite, FIX_TESTS_KIND]


def _wanted(kind: str, only: list[str] | None) -> bool:
    """LSP kinds are hierarchical: `source` asks for `source.codegen.fixTests` too."""
    return not only or any(kind == want or kind.startswith(f"{want}.") for want in only)


def _start(title: str, command: str, arguments: dict[str, Any]) -> types.Command:
    return types.Command(title=title, command=START, arguments=[{"command": command, "arguments": arguments}])


def _touches(first: int, last: int, wanted: types.Range) -> bool:
    return first <= wanted.end.line and wanted.start.line <= last


def _marker_range(marker: Marker) -> dict:
    return {"start": {"line": marker.line, "character": marker.character},
            "end": {"line": marker.end_line, "character": marker.end_character}}


def _prompt_file(text: str, markers: list[Marker]) -> bool:
    """A prompt file: its first line is a marker and every other line is blank or part of a marker."""
    if not markers or markers[0].line != 0:
        return False
    marked = {line for m in markers for line in range(m.line, m.end_line + 1)}
    return all(n in marked or not line.strip() for n, line in enumerate(text.splitlines()))


def _marker_above(markers: list[Marker], wanted: types.Range) -> Marker | None:
    """The nearest marker ending right above a selection (only blank lines or nothing between)."""
    above = [m for m in markers if m.end_line < wanted.start.line]
    return max(above, key=lambda m: m.end_line) if above else None


async def code_actions(ls: CodegenServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """The actions for ``params``' range; none for a document outside the opened folders."""
    uri = params.text_document.uri
    found = await document_markers(ls, uri)
    if found is None:
        return []
    root = str(found.root)
    only = params.context.only
    wanted = params.range
    actions: list[types.CodeAction] = []
    touched = [m for m in found.markers if _touches(m.line, m.end_line, wanted)]
    document = ls.workspace.text_documents.get(unquote(uri))
    text = document.source if document is not None else ""
    if touched and _wanted(types.CodeActionKind.QuickFix, only):
        if _prompt_file(text, found.markers):
            actions.append(types.CodeAction(
                title="Codegen: generate from this prompt", kind=types.CodeActionKind.QuickFix,
                diagnostics=[found.diagnostic(m) for m in touched], is_preferred=True,
                command=_start("Codegen: generate from this prompt", GENERATE, {"promptFile": uri, "root": root})))
        for marker in touched:
            actions.append(types.CodeAction(
                title=f"Codegen: do this marker ({marker.text})", kind=types.CodeActionKind.QuickFix,
                diagnostics=[found.diagnostic(marker)], is_preferred=not actions,
                command=_start("Codegen: do this marker", APPLY_FEEDBACK, {
                    "uri": uri, "range": _marker_range(marker), "comment": marker.text, "root": root})))
        actions.append(types.CodeAction(
            title="Codegen: do all markers in this file", kind=types.CodeActionKind.QuickFix,
            diagnostics=[found.diagnostic(m) for m in touched],
            command=_start("Codegen: do all markers in this file", APPLY_FEEDBACK,
                           {"markers": True, "uri": uri, "root": root})))
        actions.append(types.CodeAction(
            title="Codegen: do all markers in the workspace", kind=types.CodeActionKind.QuickFix,
            diagnostics=[found.diagnostic(m) for m in touched],
            command=_start("Codegen: do all markers in the workspace", APPLY_FEEDBACK,
                           {"markers": True, "root": root})))
    selected = wanted.start != wanted.end
    if selected and not touched and _wanted(types.CodeActionKind.RefactorRewrite, only):
        marker = _marker_above(found.markers, wanted)
        if marker is not None:
            lines = {"start": {"line": marker.line, "character": 0}, "end": wanted.end}
            actions.append(types.CodeAction(
                title=f"Codegen: apply the marker above ({marker.text})", kind=types.CodeActionKind.RefactorRewrite,
                command=_start("Codegen: apply the marker above", APPLY_FEEDBACK, {
                    "uri": uri, "range": lines, "comment": marker.text, "root": root})))
    if selected and _wanted(types.CodeActionKind.Empty, only):
        actions.append(types.CodeAction(
            title="Codegen: explain",  # no kind: it changes nothing, so it is no refactor or fix
            command=_start("Codegen: explain", EXPLAIN, {"uri": uri, "range": to_json_range(wanted), "root": root})))
    if _wanted(FIX_TESTS_KIND, only):
        actions.append(types.CodeAction(
            title="Codegen: fix until tests pass", kind=FIX_TESTS_KIND,
            command=_start("Codegen: fix until tests pass", FIX, {"root": root})))
    return actions


def to_json_range(wanted: types.Range) -> dict:
    return {"start": {"line": wanted.start.line, "character": wanted.start.character},
            "end": {"line": wanted.end.line, "character": wanted.end.character}}


def outcome(command: str, result: dict) -> str:
    """One line for the user about a finished command's result."""
    if result.get("cancelled"):
        return result.get("message") or f"{command} was cancelled."
    said = result.get("summary") or result.get("question") or result.get("explanation") or ""
    if result.get("applied") is False and result.get("reason"):
        said = f"{said} (not applied: {result['reason']})" if said else f"Not applied: {result['reason']}"
    return said.strip() or f"{command} finished."


async def run_in_background(ls: CodegenServer, command: str, arguments: dict[str, Any]) -> None:
    """Run ``command`` as `workspace/executeCommand` would, and show its outcome or its error."""
    # This task is no request: pygls's current request id (a context variable this task inherited
    # from `codegen.start`'s) must not tie the command to an answered request, whose id the editor may reuse.
    ls.protocol._ctx_msg_id.set(None)
    handler = ls.protocol.fm.commands[command]
    try:
        result = await handler(arguments)
    except JsonRpcException as error:
        kind, message = types.MessageType.Error, f"codegen: {error.message}"
    except Exception as error:  # a bug: one line for the user, the traceback for the log
        log.exception("%s failed", command)
        kind, message = types.MessageType.Error, f"codegen: {command} failed: {type(error).__name__}: {error}"
    else:
        kind, message = types.MessageType.Info, f"codegen: {outcome(command, result)}"
        await _show_transcript(ls, arguments, result)
    ls.window_show_message(types.ShowMessageParams(type=kind, message=redact(message)))


async def _show_transcript(ls: CodegenServer, arguments: dict[str, Any], result: dict) -> None:
    """Open the run's transcript beside the code: an editor without codegen's UI sees there what the
    model explained, diagnosed or asked, which one `window/showMessage` line cannot hold."""
    run_id = result.get("runId")
    if not isinstance(run_id, str):
        return
    try:
        path = await write_run_transcript(ls.workspace_root(arguments.get("root")), run_id)
    except (RunNotFound, OSError, JsonRpcException) as error:
        log.info("no transcript for run %s: %s", run_id, error)
        return
    await show_document(ls, path)


def register(server: CodegenServer) -> None:
    @server.command(START)
    async def start_command(ls: CodegenServer, *arguments: Any) -> dict:
        """`{command, arguments?}` → `{started: true}` at once; the command runs on, its outcome shown with
        `window/showMessage`. ``command`` is one the code actions name (applyFeedback, fixTests)."""
        args = command_object(START, arguments)
        command = get_str(START, args, "command", required=True, choices=STARTABLE) or ""
        inner = args.get("arguments", {})
        if not isinstance(inner, dict):
            raise JsonRpcInvalidParams(f"{START}: `arguments` must be the JSON object {command} takes")
        task = asyncio.ensure_future(run_in_background(ls, command, inner))
        # Kept with the running commands, so that `shutdown` cancels it as theirs (its runs end cancelled).
        key = f"{START}-{id(task)}"
        ls.codegen_protocol.command_tasks[key] = task
        task.add_done_callback(lambda _: ls.codegen_protocol.command_tasks.pop(key, None))
        return {"started": True}

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=KINDS))
    async def on_code_action(ls: CodegenServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return await code_actions(ls, params)
