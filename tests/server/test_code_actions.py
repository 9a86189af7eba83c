"""Markers as diagnostics and codegen's code actions: what an editor without a plugin gets, over the protocol."""

from __future__ import annotations

import asyncio
from typing import Union

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env

MARKED = '''def mean(values):
    # codegen: return 0.0 for an empty list
    return sum(values) / len(values)


def label():
    return "codegen: this string is not a marker"
'''

DONE = '''`mean` now returns 0.0 for an empty list.

```diff
--- a/stats.py
+++ b/stats.py
@@ -1,3 +1,4 @@
 def mean(values):
-    # codegen: return 0.0 for an empty list
+    if not values:
+        return 0.0
     return sum(values) / len(values)
```
'''


async def diagnostics_when(editor, uri: str, wanted) -> list[types.Diagnostic]:
    """The document's diagnostics once ``wanted(diagnostics)`` holds (published ones only)."""
    async def wait() -> list[types.Diagnostic]:
        while not (uri in editor.client.diagnostics and wanted(editor.client.diagnostics[uri])):
            await editor.client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return list(editor.client.diagnostics[uri])
    return await asyncio.wait_for(wait(), 15)


async def shown_messages(editor) -> list[types.ShowMessageParams]:
    """The `window/showMessage`s so far, once there is one."""
    async def wait() -> list[types.ShowMessageParams]:
        while not editor.client.messages:
            await editor.client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
        return list(editor.client.messages)
    return await asyncio.wait_for(wait(), 30)


def lines(diagnostics: list[types.Diagnostic]) -> list[int]:
    return [d.range.start.line for d in diagnostics]


async def code_actions(editor, uri: str, line: int, only: list[str] | None = None) -> list[types.CodeAction]:
    # lsprotocol reads any object with a `command` field as a Command, so a CodeAction carrying one would
    # lose its kind on this (Python) client's side; editors tell them apart by whether `command` is a string.
    converter = editor.client.protocol._converter
    converter.register_structure_hook(Union[types.Command, types.CodeAction], lambda value, _: converter.structure(
        value, types.Command if isinstance(value.get("command"), str) else types.CodeAction))
    return await editor.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line, 0), end=types.Position(line, 0)),
        context=types.CodeActionContext(diagnostics=[], only=only)))


async def test_a_marker_is_a_diagnostic_that_moves_and_goes_with_the_comment(tmp_path, editor_factory):
    (tmp_path / "stats.py").write_text(MARKED)
    editor = await editor_factory(tmp_path)
    uri = editor.open("stats.py")

    [shown] = await diagnostics_when(editor, uri, lambda d: len(d) > 0)
    assert (shown.source, shown.severity, shown.code) == ("codegen", types.DiagnosticSeverity.Information, "marker")
    assert shown.message == "return 0.0 for an empty list"
    assert (shown.range.start.line, shown.range.start.character, shown.range.end.character) == (1, 4, 43)
    # The string holding "codegen:" on line 7 is no marker.

    editor.change(uri, "import math\n\n" + MARKED)
    assert lines(await diagnostics_when(editor, uri, lambda d: lines(d) != [1])) == [3]

    editor.change(uri, "import math\n\n" + MARKED.replace("    # codegen: return 0.0 for an empty list\n", ""))
    assert await diagnostics_when(editor, uri, lambda d: lines(d) != [3]) == []

    editor.change(uri, MARKED)
    assert lines(await diagnostics_when(editor, uri, lambda d: len(d) > 0)) == [1]
    editor.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    assert await diagnostics_when(editor, uri, lambda d: not d) == []  # a closed file's markers are not followed


async def test_a_diagnostic_counts_columns_as_the_client_chose(tmp_path, editor_factory):
    (tmp_path / "names.py").write_text('GREETING = "héllo wörld"  # codegen: translate to English\n')
    editor = await editor_factory(tmp_path, client="neovim")  # Neovim 0.11 counts in UTF-8 bytes
    uri = editor.open("names.py")
    [shown] = await diagnostics_when(editor, uri, lambda d: len(d) > 0)
    assert (shown.range.start.character, shown.range.end.character) == (28, 59)  # UTF-16 would say 26 and 57


async def test_the_marker_code_action_runs_and_its_edit_reaches_the_editor(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(MARKED)
    model = scripted_model([ScriptStep(content=DONE)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    uri = editor.open("stats.py")
    await diagnostics_when(editor, uri, lambda d: len(d) > 0)

    titles = [a.title for a in await code_actions(editor, uri, 1)]
    assert titles == ["Codegen: do this marker (return 0.0 for an empty list)",
                      "Codegen: do all markers in the workspace", "Codegen: fix until tests pass"]
    assert [a.title for a in await code_actions(editor, uri, 4)] == ["Codegen: fix until tests pass"]
    [fix] = await code_actions(editor, uri, 1, only=[types.CodeActionKind.Source])
    assert (fix.kind, fix.command.command, fix.command.arguments) == ("source.codegen.fixTests", "codegen.start", (
        {"command": "codegen.fixTests", "arguments": {"root": str(tmp_path.resolve())}},))

    this, every, _ = await code_actions(editor, uri, 1)
    assert every.command.arguments[0] == {"command": "codegen.applyFeedback",
                                          "arguments": {"markers": True, "root": str(tmp_path.resolve())}}
    # The editor sends the action's command back as it is, as eglot, Helix and Zed do; it is answered at
    # once (eglot gives up on a command after 10 s), and the outcome comes as a message.
    assert await editor.execute(this.command.command, *this.command.arguments) == {"started": True}
    assert not editor.edits_received  # answered before the model was even asked
    [shown] = await shown_messages(editor)

    assert (shown.type, shown.message) == (types.MessageType.Info, "codegen: `mean` now returns 0.0 for an empty list.")
    assert len(editor.edits_received) == 1 and "if not values:" in editor.buffer_text("stats.py")
    assert "# codegen:" not in editor.buffer_text("stats.py")
    sent = model.requests[0]["messages"][-1]["content"]
    assert "stats.py, lines 2-2" in sent and "return 0.0 for an empty list" in sent
    editor.change(uri, editor.buffer_text("stats.py"))  # the editor reports the edit it applied, as editors do
    assert await diagnostics_when(editor, uri, lambda d: not d) == []  # the marker is gone, and its diagnostic


async def test_a_started_command_that_fails_says_why_in_a_message(tmp_path, editor_factory):
    editor = await editor_factory(tmp_path)
    with pytest.raises(JsonRpcException, match="must be one of"):
        await editor.execute("codegen.start", {"command": "codegen.undo", "arguments": {}})
    started = await editor.execute("codegen.start", {"command": "codegen.applyFeedback", "arguments": {"comment": "x"}})
    assert started == {"started": True}  # the arguments are the command's to check, as it runs
    [shown] = await shown_messages(editor)
    assert (shown.type, shown.message) == (types.MessageType.Error, "codegen: codegen.applyFeedback: `uri` is required")
