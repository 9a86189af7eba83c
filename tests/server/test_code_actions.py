"""Markers as diagnostics and codegen's code actions: what an editor without a plugin gets, over the protocol."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Union

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import to_fs_path as from_uri

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


async def code_actions(editor, uri: str, line: int, only: list[str] | None = None,
                       last: int | None = None) -> list[types.CodeAction]:
    """The code actions for ``line`` (a cursor there), or for the selection of lines ``line``..``last``."""
    # lsprotocol reads any object with a `command` field as a Command, so a CodeAction carrying one would
    # lose its kind on this (Python) client's side; editors tell them apart by whether `command` is a string.
    converter = editor.client.protocol._converter
    converter.register_structure_hook(Union[types.Command, types.CodeAction], lambda value, _: converter.structure(
        value, types.Command if isinstance(value.get("command"), str) else types.CodeAction))
    return await editor.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line, 0), end=types.Position(line if last is None else last, 0)),
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
    assert titles == ["Codegen: do this marker (return 0.0 for an empty list)", "Codegen: do all markers in this file",
                      "Codegen: do all markers in the workspace", "Codegen: fix until tests pass"]
    assert [a.title for a in await code_actions(editor, uri, 4)] == ["Codegen: fix until tests pass"]
    [fix] = await code_actions(editor, uri, 1, only=[types.CodeActionKind.Source])
    assert (fix.kind, fix.command.command, fix.command.arguments) == ("source.codegen.fixTests", "codegen.start", (
        {"command": "codegen.fixTests", "arguments": {"root": str(tmp_path.resolve())}},))

    this, in_file, every, _ = await code_actions(editor, uri, 1)
    assert in_file.command.arguments[0] == {"command": "codegen.applyFeedback",
                                            "arguments": {"markers": True, "uri": uri, "root": str(tmp_path.resolve())}}
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

    # The run's transcript opens beside the code, without taking focus: the whole answer, not one line.
    [document] = editor.client.shown_documents
    assert document.uri.endswith("/transcript.md") and document.take_focus is False
    transcript = Path(from_uri(document.uri)).read_text()
    assert transcript.startswith("# codegen feedback — run ")
    assert "- Applied: yes" in transcript and "`stats.py` (modify)" in transcript
    assert "return 0.0 for an empty list" in transcript  # what was sent
    assert "+    if not values:" in transcript  # what the model answered


async def test_a_started_command_that_fails_says_why_in_a_message(tmp_path, editor_factory):
    editor = await editor_factory(tmp_path)
    with pytest.raises(JsonRpcException, match="must be one of"):
        await editor.execute("codegen.start", {"command": "codegen.undo", "arguments": {}})
    started = await editor.execute("codegen.start", {"command": "codegen.applyFeedback", "arguments": {"comment": "x"}})
    assert started == {"started": True}  # the arguments are the command's to check, as it runs
    [shown] = await shown_messages(editor)
    assert (shown.type, shown.message) == (types.MessageType.Error, "codegen: codegen.applyFeedback: `uri` is required")


async def selection_actions(editor, uri: str, first: int, last: int) -> list[types.CodeAction]:
    return await code_actions(editor, uri, first, last=last)


async def test_markers_in_this_file_leave_the_other_files_markers_alone(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(MARKED)
    (tmp_path / "other.py").write_text("# codegen: rename to helpers.py\nx = 1\n")
    model = scripted_model([ScriptStep(content=DONE + "\nDONE: 1\n")])
    editor = await editor_factory(tmp_path, env=model_env(model))
    uri = editor.open("stats.py")
    await diagnostics_when(editor, uri, lambda d: len(d) > 0)
    in_file = next(a for a in await code_actions(editor, uri, 1) if a.title == "Codegen: do all markers in this file")
    assert await editor.execute(in_file.command.command, *in_file.command.arguments) == {"started": True}
    await shown_messages(editor)
    sent = model.requests[0]["messages"][-1]["content"]
    assert "1. stats.py, line 2" in sent and "rename to helpers.py" not in sent and "2. " not in sent.split("The code")[0]
    assert "if not values:" in editor.buffer_text("stats.py")


async def test_explain_on_a_selection_answers_with_the_transcript_and_edits_nothing(tmp_path, scripted_model,
                                                                                    editor_factory):
    (tmp_path / "stats.py").write_text(MARKED)
    answer = "`mean` divides the sum by the count; an empty list raises `ZeroDivisionError` on line 3."
    model = scripted_model([ScriptStep(content=answer)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    uri = editor.open("stats.py")
    actions = await selection_actions(editor, uri, 5, 7)  # label()
    explain = next(a for a in actions if a.title == "Codegen: explain")
    assert explain.kind is None and explain.command.arguments[0]["command"] == "codegen.explain"
    assert await editor.execute(explain.command.command, *explain.command.arguments) == {"started": True}
    [shown] = await shown_messages(editor)
    assert shown.message == f"codegen: {answer}"
    assert not editor.edits_received and (tmp_path / "stats.py").read_text() == MARKED
    sent = model.requests[0]["messages"]
    assert "asks you to explain it" in sent[0]["content"]
    assert "Explain stats.py, lines 6-8." in sent[-1]["content"] and 'return "codegen: this string' in sent[-1]["content"]
    [document] = editor.client.shown_documents
    assert answer in Path(from_uri(document.uri)).read_text()


async def test_a_selection_under_a_marker_offers_to_apply_it_there(tmp_path, editor_factory):
    (tmp_path / "shapes.py").write_text("# codegen: add type hints\n\ndef area(w, h):\n    return w * h\n")
    editor = await editor_factory(tmp_path)
    uri = editor.open("shapes.py")
    [above] = [a for a in await selection_actions(editor, uri, 2, 4) if a.title.startswith("Codegen: apply the marker")]
    assert above.title == "Codegen: apply the marker above (add type hints)"
    assert above.command.arguments[0]["arguments"]["range"] == {"start": {"line": 0, "character": 0},
                                                                "end": {"line": 4, "character": 0}}
    assert above.command.arguments[0]["arguments"]["comment"] == "add type hints"



async def test_markers_in_the_workspace_are_all_done_in_one_run(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(MARKED)
    (tmp_path / "other.py").write_text("# codegen: x should be 2\nx = 1\n")
    both = DONE.replace("```\n", "") + (
        "--- a/other.py\n+++ b/other.py\n@@ -1,2 +1 @@\n-# codegen: x should be 2\n-x = 1\n+x = 2\n```\n\nDONE: 1, 2\n")
    model = scripted_model([ScriptStep(content=both)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    uri = editor.open("stats.py")
    await diagnostics_when(editor, uri, lambda d: len(d) > 0)
    every = next(a for a in await code_actions(editor, uri, 1) if a.title == "Codegen: do all markers in the workspace")
    await run_action(editor, every)
    sent = model.requests[0]["messages"][-1]["content"]
    assert "return 0.0 for an empty list" in sent and "x should be 2" in sent  # both files' markers asked for
    assert "if not values:" in editor.buffer_text("stats.py")
    assert editor.buffer_text("other.py") == "x = 2\n"  # a file the editor had not opened, edited as well


async def test_the_marker_above_a_selection_is_applied_there(tmp_path, scripted_model, editor_factory):
    (tmp_path / "shapes.py").write_text("# codegen: add type hints\n\ndef area(w, h):\n    return w * h\n")
    answer = ("Hints added.\n\n```diff\n--- a/shapes.py\n+++ b/shapes.py\n@@ -1,4 +1,3 @@\n-# codegen: add type hints\n"
              " \n-def area(w, h):\n+def area(w: float, h: float) -> float:\n     return w * h\n```\n")
    model = scripted_model([ScriptStep(content=answer)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    uri = editor.open("shapes.py")
    [above] = [a for a in await selection_actions(editor, uri, 2, 4) if a.title.startswith("Codegen: apply the marker")]
    await run_action(editor, above)
    sent = model.requests[0]["messages"][-1]["content"]
    assert "add type hints" in sent and "def area(w, h):" in sent
    assert editor.buffer_text("shapes.py") == "\ndef area(w: float, h: float) -> float:\n    return w * h\n"


GREET = ("greet.py\n```python\ndef greet(name):\n    return f'Hello, {name}!'\n```\n\n"
         "test_greet.py\n```python\nfrom greet import greet\n\n\ndef test_greet():\n"
         "    assert greet('Ada') == 'Hello, Ada!'\n```\n")
PROMPT = "# codegen: a module greet.py with greet(name) returning a greeting\n# codegen: and a pytest test for it\n"


async def run_action(editor, action: types.CodeAction) -> None:
    editor.client.messages.clear()
    assert await editor.execute(action.command.command, *action.command.arguments) == {"started": True}
    await shown_messages(editor)


async def test_a_prompt_file_generates_the_project_it_describes(tmp_path, scripted_model, editor_factory):
    (tmp_path / "PROMPT.py").write_text(PROMPT)
    model = scripted_model([ScriptStep(content="Nothing to clarify."), ScriptStep(content=GREET)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    uri = editor.open("PROMPT.py")
    await diagnostics_when(editor, uri, lambda d: len(d) == 2)
    actions = await code_actions(editor, uri, 0)
    assert actions[0].title == "Codegen: generate from this prompt" and actions[0].is_preferred
    assert actions[0].command.arguments[0]["arguments"] == {"promptFile": uri, "root": str(tmp_path.resolve())}
    await run_action(editor, actions[0])
    assert model.requests[0]["messages"][-1]["content"] == (
        "a module greet.py with greet(name) returning a greeting\nand a pytest test for it")
    assert "def greet(name):" in editor.buffer_text("greet.py")
    assert editor.client.messages[0].message.startswith("codegen: generated greet.py, test_greet.py")
    # A file with code besides its markers is no prompt file.
    (tmp_path / "stats.py").write_text(MARKED)
    stats = editor.open("stats.py")
    await diagnostics_when(editor, stats, lambda d: len(d) > 0)
    assert "Codegen: generate from this prompt" not in [a.title for a in await code_actions(editor, stats, 1)]


async def test_a_prompt_files_questions_are_asked_and_answered_in_the_file(tmp_path, scripted_model, editor_factory):
    (tmp_path / "PROMPT.py").write_text(PROMPT)
    model = scripted_model([ScriptStep(content="1. Should greet() strip whitespace from the name?\n"
                                               "2. Which Python version?"), ScriptStep(content=GREET)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    uri = editor.open("PROMPT.py")
    await diagnostics_when(editor, uri, lambda d: len(d) == 2)
    await run_action(editor, (await code_actions(editor, uri, 0))[0])
    asked = editor.buffer_text("PROMPT.py")
    assert asked == PROMPT + ("# codegen: Q: Should greet() strip whitespace from the name? A: \n"
                              "# codegen: Q: Which Python version? A: \n")
    assert "answer after each `A:`" in editor.client.messages[0].message
    assert editor.buffer_text("greet.py") is None and len(model.requests) == 1  # nothing generated yet

    answered = asked.replace("name? A: ", "name? A: yes")
    editor.change(uri, answered)  # the user answers one question, leaves the other to the model
    await diagnostics_when(editor, uri, lambda d: len(d) == 4)
    await run_action(editor, (await code_actions(editor, uri, 0))[0])
    sent = model.requests[1]["messages"][-1]["content"]
    assert "Q: Should greet() strip whitespace from the name?\nA: yes" in sent
    assert "Q: Which Python version?\nA: (no answer: decide sensibly)" in sent
    assert "def greet(name):" in editor.buffer_text("greet.py")


async def test_a_prompt_files_questions_can_be_skipped_from_the_editors_choice(tmp_path, scripted_model, editor_factory):
    (tmp_path / "PROMPT.py").write_text(PROMPT)
    model = scripted_model([ScriptStep(content="1. Which Python version?"), ScriptStep(content=GREET)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    editor.consent_answer = "Skip: generate now"
    uri = editor.open("PROMPT.py")
    await diagnostics_when(editor, uri, lambda d: len(d) == 2)
    await run_action(editor, (await code_actions(editor, uri, 0))[0])
    assert editor.questions == ["The model asks, before generating from PROMPT.py:\n- Which Python version?"]
    assert editor.buffer_text("PROMPT.py") in (None, PROMPT) and (tmp_path / "PROMPT.py").read_text() == PROMPT
    assert "Q: Which Python version?\nA: (no answer: decide sensibly)" in model.requests[1]["messages"][-1]["content"]
    assert "def greet(name):" in editor.buffer_text("greet.py")


async def test_a_marker_left_not_done_says_why_in_its_one_diagnostic_open_or_closed(tmp_path, scripted_model,
                                                                                    editor_factory):
    (tmp_path / "stats.py").write_text(MARKED + "\n\n# codegen: rename mean to average\n")
    (tmp_path / "other.py").write_text("x = 1  # codegen: call it total\n")
    answer = DONE + "\nDONE: 2\nNOT DONE: 3 — renaming `mean` would break its callers.\n"  # 1 (other.py): no word
    model = scripted_model([ScriptStep(content=answer)] + [ScriptStep(content="No change needed.\n\nNO CHANGE: 1\n")] * 2)
    editor = await editor_factory(tmp_path, env=model_env(model), reports_applied_edits=True)
    uri = editor.open("stats.py")
    other = (tmp_path / "other.py").resolve().as_uri()
    await diagnostics_when(editor, uri, lambda d: len(d) == 2)

    await editor.execute("codegen.applyFeedback", {"markers": True})
    # One entry per marker: the one done is gone, the one left says why, in the open document...
    [left] = await diagnostics_when(editor, uri, lambda d: len(d) == 1 and "not done" in d[0].message)
    assert (left.message, left.severity, left.code) == ("rename mean to average — not done: renaming `mean` would "
                                                        "break its callers.", types.DiagnosticSeverity.Warning, "marker")
    assert editor.buffer_text("stats.py").count("\n") == left.range.start.line + 1  # at its line after the change
    # ...and in a file the editor never opened, as it is on disk.
    [closed] = await diagnostics_when(editor, other, lambda d: len(d) == 1)
    assert (closed.message, closed.range.start.character) == ("call it total — not done", 7)
    # The code actions name the diagnostic the editor shows.
    [this] = [a for a in await code_actions(editor, uri, left.range.start.line) if a.title.startswith("Codegen: do this")]
    assert list(this.diagnostics) == [left]

    # Typing elsewhere keeps it; closing the document keeps it listed; editing the marker drops the reason.
    text = editor.buffer_text("stats.py")
    editor.change(uri, "import math\n" + text)
    assert lines(await diagnostics_when(editor, uri, lambda d: lines(d) != [left.range.start.line])) == \
        [left.range.start.line + 1]
    assert editor.client.diagnostics[uri][0].message == left.message
    editor.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await asyncio.sleep(0.5)
    assert [d.message for d in editor.client.diagnostics[uri]] == [left.message]
    uri = editor.open("stats.py")
    editor.change(uri, text.replace("rename mean to average", "rename mean to average_of"))
    [edited] = await diagnostics_when(editor, uri, lambda d: len(d) == 1 and "not done" not in d[0].message)
    assert (edited.message, edited.severity) == ("rename mean to average_of", types.DiagnosticSeverity.Information)

    # A run over one file reports on that file only; a run over the workspace, on every file.
    editor.change(uri, text)
    await editor.execute("codegen.applyFeedback", {"markers": True, "uri": uri, "apply": "none"})
    await diagnostics_when(editor, uri, lambda d: [x.message for x in d] == ["rename mean to average — not done"])
    assert [d.message for d in editor.client.diagnostics[other]] == [closed.message]
    (tmp_path / "other.py").write_text("x = 1\n")
    await editor.execute("codegen.applyFeedback", {"markers": True, "apply": "none"})
    assert await diagnostics_when(editor, other, lambda d: not d) == []
    assert "call it total" not in model.requests[2]["messages"][-1]["content"]
