"""`textDocument/codeAction`: codegen's commands for editors that know only the standard protocol.

On a marker (its diagnostic, or a range touching it): "Codegen: do this marker" and "Codegen: do
all markers in the workspace"; anywhere in a workspace file, the source action
`source.codegen.fixTests`, "Codegen: fix until tests pass". Each action is only a `Command` naming
an existing codegen command with its arguments: the editor sends it back as
`workspace/executeCommand`, and the daemon runs it as any client's call — progress through
`$/progress`, the change through `workspace/applyEdit` (the editor previews or applies it its own
way).
"""

from __future__ import annotations

from lsprotocol import types

from ..app import CodegenServer
from .feedback import APPLY_FEEDBACK
from .fix import FIX
from .marker_diagnostics import document_markers, to_diagnostic

FIX_TESTS_KIND = "source.codegen.fixTests"
KINDS = [types.CodeActionKind.QuickFix, FIX_TESTS_KIND]


def _wanted(kind: str, only: list[str] | None) -> bool:
    """LSP kinds are hierarchical: `source` asks for `source.codegen.fixTests` too."""
    return not only or any(kind == want or kind.startswith(f"{want}.") for want in only)


def _touches(first: int, last: int, wanted: types.Range) -> bool:
    return first <= wanted.end.line and wanted.start.line <= last


async def code_actions(ls: CodegenServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """The actions for ``params``' range; none for a document outside the opened folders."""
    found = await document_markers(ls, params.text_document.uri)
    if found is None:
        return []
    root = str(found.root)
    only = params.context.only
    actions: list[types.CodeAction] = []
    touched = [m for m in found.markers if _touches(m.line, m.end_line, params.range)]
    if touched and _wanted(types.CodeActionKind.QuickFix, only):
        for marker in touched:
            actions.append(types.CodeAction(
                title=f"Codegen: do this marker ({marker.text})", kind=types.CodeActionKind.QuickFix,
                diagnostics=[to_diagnostic(marker)], is_preferred=True,
                command=types.Command(title="Codegen: do this marker", command=APPLY_FEEDBACK, arguments=[{
                    "uri": params.text_document.uri, "range": {
                        "start": {"line": marker.line, "character": marker.character},
                        "end": {"line": marker.end_line, "character": marker.end_character}}, "comment": marker.text, "root": root}])))
        actions.append(types.CodeAction(
            title="Codegen: do all markers in the workspace", kind=types.CodeActionKind.QuickFix,
            diagnostics=[to_diagnostic(m) for m in touched],
            command=types.Command(title="Codegen: do all markers in the workspace", command=APPLY_FEEDBACK,
                                  arguments=[{"markers": True, "root": root}])))
    if _wanted(FIX_TESTS_KIND, only):
        actions.append(types.CodeAction(
            title="Codegen: fix until tests pass", kind=FIX_TESTS_KIND,
            command=types.Command(title="Codegen: fix until tests pass", command=FIX, arguments=[{"root": root}])))
    return actions


def register(server: CodegenServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=KINDS))
    async def on_code_action(ls: CodegenServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return await code_actions(ls, params)
