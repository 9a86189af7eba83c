"""Feedback as a review conversation, over LSP: replies on a thread, marker comments, memory, the test check."""

from __future__ import annotations

import json

from pygls.uris import from_fs_path

from codegen_server.model.scripted_server import ScriptStep
from tests.support.cli import codegen, env_for
from tests.conftest import model_env
from tests.support.answers import MEAN_EMPTY_LIST, STATS
from tests.support.fix_projects import FIX_CART, fix_model, make_python_project
from tests.support.prompts import assert_one_voice
from tests.support.sealed import seal_run_meta

# The reply edits the buffer as the user left it: they renamed `values` to `numbers` meanwhile.
RETURN_NONE = '''Return None instead of 0.0 for an empty list.

```diff
--- a/stats.py
+++ b/stats.py
@@ -1,4 +1,4 @@
 def mean(numbers):
     if not numbers:
-        return 0.0
+        return None
     return sum(numbers) / len(numbers)
```
'''


def range_args(root, first=0, last=1, **extra):
    return {"uri": from_fs_path(str(root / "stats.py")),
            "range": {"start": {"line": first, "character": 0}, "end": {"line": last, "character": 0}}, **extra}


async def test_a_reply_carries_the_thread_and_edits_the_current_buffer(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST), ScriptStep(content=RETURN_NONE)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    uri = editor.open("stats.py")
    first = await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="handle an empty list"))
    assert first["applied"] is True and first["changed"] is True

    typed = editor.buffer_text("stats.py").replace("values", "numbers")
    editor.change(uri, typed)  # the user keeps editing; the buffer is unsaved
    second = await editor.execute("codegen.applyFeedback", range_args(
        tmp_path, 0, 3, comment="return None rather than 0.0", runId=first["runId"]))

    assert second["applied"] is True and second["runId"] != first["runId"]
    assert editor.buffer_text("stats.py") == typed.replace("return 0.0", "return None")
    messages = model.requests[1]["messages"]
    roles = [m["role"] for m in messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert "handle an empty list" in messages[1]["content"]
    assert messages[2]["content"] == MEAN_EMPTY_LIST  # the model's own earlier answer, diff and all
    latest = messages[3]["content"]
    assert "What became of your previous answer: it was applied (stats.py)." in latest
    assert "return None rather than 0.0" in latest
    assert "def mean(numbers):" in latest  # the code as the buffer holds it now, not the disk
    thread = json.loads((tmp_path / ".codegen/runs" / second["runId"] / "conversation.json").read_text())
    assert [turn["comment"] for turn in thread["turns"]] == ["handle an empty list", "return None rather than 0.0"]


async def test_a_declined_change_is_told_to_the_model_in_the_reply(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST), ScriptStep(content="NO CHANGE: then it is fine as it is.")])
    editor = await editor_factory(tmp_path, env=model_env(model), accept_edits=False)
    first = await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="handle an empty list"))
    assert first["applied"] is False and (tmp_path / "stats.py").read_text() == STATS
    second = await editor.execute("codegen.applyFeedback",
                                  range_args(tmp_path, comment="leave it then", runId=first["runId"]))
    assert "What became of your previous answer: the user did not apply it" in model.requests[1]["messages"][-1]["content"]
    assert second["changed"] is False and second["explanation"] == "then it is fine as it is."


async def test_what_the_review_left_out_is_told_to_the_model_in_the_reply(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST), ScriptStep(content="NO CHANGE: then it stays.")])
    editor = await editor_factory(tmp_path, env=model_env(model), leave_out={"stats.py"})
    first = await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="handle an empty list"))
    assert first["files"] == [] and (tmp_path / "stats.py").read_text() == STATS
    assert first["leftOut"] == ["stats.py: the user rejected your change to it in the review"]
    await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="why?", runId=first["runId"]))
    assert ("What became of your previous answer: none of it was applied. stats.py: the user rejected your "
            "change to it in the review.") in model.requests[1]["messages"][-1]["content"]


async def test_a_reviewed_change_is_read_from_the_disk_the_editor_saved_not_a_buffer_report_still_on_its_way(
        tmp_path, scripted_model, editor_factory):
    """The editor saved what it took before it answered `codegen:reviewed`; its didChange for the open buffer
    may come after the answer (this editor sends none), so the disk says what landed."""
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST)])
    editor = await editor_factory(tmp_path, env=model_env(model), leave_out={"other.py"})
    editor.open("stats.py")
    result = await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="handle an empty list"))
    assert result["applied"] is True and [f["path"] for f in result["files"]] == ["stats.py"]
    assert "leftOut" not in result or result["leftOut"] == []
    assert "return 0.0" in (tmp_path / "stats.py").read_text()


async def test_no_change_and_a_question_back_edit_nothing(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([
        ScriptStep(content="NO CHANGE: `spread` already returns 0 for a single value."),
        ScriptStep(content="Which should an empty list give?\nQUESTION: should an empty list return 0 or raise?"),
    ])
    editor = await editor_factory(tmp_path, env=model_env(model))
    no_change = await editor.execute("codegen.applyFeedback", range_args(tmp_path, 4, 5, comment="single value?"))
    assert no_change["changed"] is False and no_change["applied"] is False and no_change["question"] == ""
    assert no_change["explanation"] == "`spread` already returns 0 for a single value."
    asked = await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="handle the empty case"))
    assert asked["changed"] is False and asked["question"] == "should an empty list return 0 or raise?"
    assert asked["explanation"] == "Which should an empty list give?"
    assert not editor.edits_received and (tmp_path / "stats.py").read_text() == STATS
    meta = json.loads((tmp_path / ".codegen/runs" / asked["runId"] / "run.json").read_text())
    assert meta["status"] == "question"


PY_MARKED = '''import logging

log = logging.getLogger(__name__)


def load(path):
    # codegen: return an empty list when the file is missing
    with open(path) as handle:
        return handle.read().splitlines()


def banner():
    return "codegen: this string is not a marker"
'''

TS_MARKED = '''export function first(items: number[]): number {
  // codegen: throw a clear error on an empty list
  return items[0];
}

/* codegen: rename to lastItem */
export function last(items: number[]): number {
  return items[items.length - 1];
}
'''

MARKERS_ANSWER = '''Both changes, in one go.

```diff
--- a/loader.py
+++ b/loader.py
@@ -6,4 +6,6 @@
 def load(path):
     # codegen: return an empty list when the file is missing
+    if not os.path.exists(path):
+        return []
     with open(path) as handle:
         return handle.read().splitlines()
--- a/util.ts
+++ b/util.ts
@@ -1,4 +1,7 @@
 export function first(items: number[]): number {
   // codegen: throw a clear error on an empty list
+  if (items.length === 0) {
+    throw new Error("first() of an empty list");
+  }
   return items[0];
 }
```

DONE: 1, 2
NOT DONE: 3 — renaming `last` would break its callers outside this workspace.
'''


async def test_marker_comments_become_one_change_and_are_removed(tmp_path, scripted_model, editor_factory):
    (tmp_path / "loader.py").write_text(PY_MARKED)
    (tmp_path / "util.ts").write_text(TS_MARKED)
    model = scripted_model([ScriptStep(content=MARKERS_ANSWER)])
    editor = await editor_factory(tmp_path, env=model_env(model))

    collected = (await editor.execute("codegen.collectFeedback", {}))["markers"]
    assert [(m["path"], m["line"], m["text"], m["scope"]) for m in collected] == [
        ("loader.py", 7, "return an empty list when the file is missing", "load"),
        ("util.ts", 2, "throw a clear error on an empty list", "first"),
        ("util.ts", 6, "rename to lastItem", "last"),
    ]
    assert collected[0]["range"] == {"start": {"line": 6, "character": 4}, "end": {"line": 6, "character": 60}}

    result = await editor.execute("codegen.applyFeedback", {"markers": True, "apply": "disk"})
    assert result["applied"] is True and sorted(f["path"] for f in result["files"]) == ["loader.py", "util.ts"]
    loader, util = (tmp_path / "loader.py").read_text(), (tmp_path / "util.ts").read_text()
    assert "if not os.path.exists(path):" in loader and "# codegen:" not in loader
    assert 'return "codegen: this string is not a marker"' in loader  # a string is not a marker
    assert 'throw new Error("first() of an empty list");' in util and "// codegen:" not in util
    assert "/* codegen: rename to lastItem */" in util  # not acted on: it stays, and is reported
    assert [m["text"] for m in result["markers"]["acted"]] == [
        "return an empty list when the file is missing", "throw a clear error on an empty list"]
    [remaining] = result["markers"]["remaining"]
    assert remaining["text"] == "rename to lastItem" and "break its callers" in remaining["note"]
    # Where it is now: three lines were added above it and the marker above it removed (line 6 before).
    assert remaining["line"] == 8 and remaining["range"]["start"]["line"] == 7
    assert "codegen: rename to lastItem" in util.splitlines()[remaining["line"] - 1]
    sent = model.requests[0]["messages"][-1]["content"]
    assert_one_voice(model.requests[0]["messages"][0]["content"], existing_code=True)
    assert "1. loader.py, line 7 (in load): return an empty list when the file is missing" in sent
    assert "3. util.ts, line 6 (in last): rename to lastItem" in sent
    assert "this string is not a marker" in sent  # the marked files are shown whole
    left = (await editor.execute("codegen.collectFeedback", {}))["markers"]
    assert [(m["path"], m["text"], m["scope"]) for m in left] == [("util.ts", "rename to lastItem", "last")]



async def test_a_marker_left_is_placed_where_the_change_put_it_before_the_editor_reports_it(
        tmp_path, scripted_model, editor_factory):
    """Neovim applies the change to its buffer and reports it only after a short debounce, so when the
    answer is built the daemon's copy of the open buffer can still hold the old lines (seen in tmux: the
    quickfix list put the marker left at its line before the change)."""
    (tmp_path / "loader.py").write_text(PY_MARKED)
    (tmp_path / "util.ts").write_text(TS_MARKED)
    model = scripted_model([ScriptStep(content=MARKERS_ANSWER)])
    editor = await editor_factory(tmp_path, env=model_env(model), client="neovim",
                                  initialization_options={"apply": {"saveAfterApply": False}})
    editor.open("util.ts")  # open, and its edit never reported back: the daemon's copy stays old
    result = await editor.execute("codegen.applyFeedback", {"markers": True})
    assert result["applied"] is True and "/* codegen: rename to lastItem */" in editor.buffer_text("util.ts")
    [remaining] = result["markers"]["remaining"]
    assert (remaining["line"], remaining["range"]["start"]["line"]) == (8, 7)
    assert "codegen: rename to lastItem" in editor.buffer_text("util.ts").splitlines()[remaining["line"] - 1]

async def test_a_remembered_preference_reaches_every_later_request(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    (tmp_path / "stats.py").write_text(STATS)
    feedback_answers = [
        ScriptStep(content="I'll keep that in mind.\nREMEMBER: use pathlib, not os.path\n\nNO CHANGE: nothing to edit."),
        ScriptStep(content=MEAN_EMPTY_LIST),
    ]
    fixing = fix_model([FIX_CART])
    model = scripted_model(lambda body: feedback_answers.pop(0) if feedback_answers else fixing(body))
    editor = await editor_factory(tmp_path, env=model_env(model))
    proposed = await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="we prefer pathlib"))
    assert proposed["proposedMemory"] == ["use pathlib, not os.path"] and proposed["remembered"] == []
    assert "standing preferences" not in model.requests[0]["messages"][0]["content"]

    # The client asked the user, who said yes.
    kept = await editor.execute("codegen.memory", {"add": proposed["proposedMemory"][0]})
    assert kept["entries"] == ["use pathlib, not os.path"]
    assert (tmp_path / ".codegen/memory.md").read_text().endswith("- use pathlib, not os.path\n")

    await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="handle an empty list",
                                                              remember=True))
    await editor.execute("codegen.fixTests", {"autoAccept": True})
    for request in model.requests[1:]:
        system = request["messages"][0]["content"]
        assert "# The user's standing preferences for this workspace" in system
        assert "- use pathlib, not os.path" in system
    assert len(model.requests) == 4  # feedback, then the fix loop's diagnose and plan
    assert "- handle an empty list" in model.requests[2]["messages"][0]["content"]  # remember: true kept it

    forgotten = await editor.execute("codegen.memory", {"forget": 1})
    assert forgotten["entries"] == ["handle an empty list"]


BREAKING = '''Make mean() return an int.

```diff
--- a/stats.py
+++ b/stats.py
@@ -1,2 +1,2 @@
 def mean(values):
-    return sum(values) / len(values)
+    return sum(values) // len(values)
```
'''

STATS_TESTS = '''from stats import mean, spread


def test_mean_of_halves():
    assert mean([1, 2]) == 1.5


def test_spread():
    assert spread([1, 4]) == 3
'''

UNRELATED_TEST = '''def test_unrelated():
    assert True
'''


async def test_verify_reports_a_test_the_change_broke(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_stats.py").write_text(STATS_TESTS)
    (tmp_path / "tests/test_other.py").write_text(UNRELATED_TEST)
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    model = scripted_model([ScriptStep(content=BREAKING)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="make it an int",
                                                                      verify=True))
    assert result["applied"] is True
    tests = result["tests"]
    assert tests["failed"] == 1 and tests["passed"] == 1  # only the file that imports stats ran
    assert tests["selected"] == ["tests/test_stats.py"]
    assert [t.split("::")[-1] for t in tests["failing"]] == ["test_mean_of_halves"]
    assert "1 test(s) now fail" in result["reason"] and "codegen.fixTests" in result["reason"]


def test_markers_and_memory_from_the_terminal(tmp_path, scripted_model):
    (tmp_path / "loader.py").write_text(PY_MARKED)
    (tmp_path / "util.ts").write_text(TS_MARKED)
    model = scripted_model([ScriptStep(content=MARKERS_ANSWER)])
    env = env_for(model.base_url)
    done = codegen("feedback", "--markers", "--root", str(tmp_path), env=env)
    assert done.returncode == 0, done.stderr
    # Where the marker is after the change (line 6 before it; three lines added above, one removed).
    assert "marker left in place: util.ts:8: rename to lastItem" in done.stderr
    assert "# codegen:" not in (tmp_path / "loader.py").read_text()

    assert codegen("memory", "--add", "type hints everywhere", "--root", str(tmp_path), env=env).returncode == 0
    assert codegen("memory", "--add", "no print in library code", "--root", str(tmp_path), env=env).returncode == 0
    listed = codegen("memory", "--root", str(tmp_path), env=env)
    assert listed.stdout == "1. type hints everywhere\n2. no print in library code\n"
    codegen("memory", "--forget", "1", "--root", str(tmp_path), env=env)
    assert codegen("memory", "--root", str(tmp_path), env=env).stdout == "1. no print in library code\n"
    wrong = codegen("memory", "--forget", "5", "--root", str(tmp_path), env=env)
    assert wrong.returncode == 1 and "there is no memory entry 5" in wrong.stderr


def test_an_answer_that_neither_edits_nor_asks_gets_one_reminder(tmp_path, scripted_model):
    (tmp_path / "stats.py").write_text(STATS)
    prose = "An empty list should give None, I think."
    model = scripted_model([ScriptStep(content=prose), ScriptStep(content=prose)])
    done = codegen("feedback", "stats.py", "handle an empty list", "--lines", "1-2", "--no-verify",
                   "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(model.requests) == 2  # one reminder, not a second
    first, reminded = model.requests
    assert_one_voice(first["messages"][0]["content"], existing_code=True)
    assert reminded["messages"][:-1] == [*first["messages"], {"role": "assistant", "content": prose}]
    assert "no SHOW line" in reminded["messages"][-1]["content"]
    assert (tmp_path / "stats.py").read_text() == STATS


def test_a_question_back_from_the_terminal(tmp_path, scripted_model):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content="QUESTION: 0 or None for an empty list?")])
    # The order a user types: the file, its lines, then the comment (issue 25: `unrecognized arguments`).
    done = codegen("feedback", "stats.py", "--lines", "1-2", "handle an empty list", "--no-verify",
                   "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 3, done.stderr
    assert "handle an empty list" in json.dumps(model.requests[0])
    assert "The model asks: 0 or None for an empty list?" in done.stdout and "--run " in done.stdout
    assert (tmp_path / "stats.py").read_text() == STATS


async def test_usage_a_server_did_not_report_is_marked_estimated(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST, usage=False)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.applyFeedback", range_args(tmp_path, comment="handle an empty list"))
    assert result["usage"]["estimated"] is True and result["usage"]["promptTokens"] > 100


CRLF_MARKED = "def helper():\r\n    # codegen: make the constant 2\r\n    return VALUE\r\n"
CONSTANT_ANSWER = '''The constant lives in constants.py.

```diff
--- a/constants.py
+++ b/constants.py
@@ -1 +1 @@
-VALUE = 1
+VALUE = 2
```

DONE: 1
'''


def test_a_marker_acted_on_in_an_unchanged_crlf_file_is_removed_keeping_its_line_endings(tmp_path, scripted_model):
    # The change is in another file; the marked file is read from disk to drop the marker.
    (tmp_path / "helper.py").write_bytes(CRLF_MARKED.encode())
    (tmp_path / "constants.py").write_text("VALUE = 1\n")
    model = scripted_model([ScriptStep(content=CONSTANT_ANSWER)])
    done = codegen("feedback", "--markers", "--no-verify", "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "constants.py").read_text() == "VALUE = 2\n"
    assert (tmp_path / "helper.py").read_bytes() == b"def helper():\r\n    return VALUE\r\n"


def _long_marked_module() -> str:
    """A module too long to be quoted whole or sent whole in a follow-up, with a marker at its top."""
    helpers = "".join(f"\n\ndef helper_{n}(value):\n    \"\"\"Helper number {n}.\"\"\"\n    return value * {n} + {n % 7}\n"
                      for n in range(700))
    return "def target():\n    # codegen: return 2 instead\n    return 1\n" + helpers


def test_a_marker_whose_file_change_was_refused_stays_in_place(tmp_path, scripted_model):
    # The model rewrites the long file whole twice without having seen it: that change is refused,
    # so the marker it claims DONE was not carried out and must not be removed, although its
    # change to another file is applied.
    big = _long_marked_module()
    (tmp_path / "big.py").write_text(big)
    (tmp_path / "other.py").write_text("VALUE = 1\n")
    other = "```diff\n--- a/other.py\n+++ b/other.py\n@@ -1 +1 @@\n-VALUE = 1\n+VALUE = 2\n```\n"
    rewrite = ("big.py\n```python\n" + big.replace("    return 1\n", "    return 2\n", 1) + "```\n\n"
               + other + "\nDONE: 1\n")
    model = scripted_model([ScriptStep(content=rewrite), ScriptStep(content=rewrite)])
    done = codegen("feedback", "--markers", "--no-verify", "--root", str(tmp_path), env=env_for(model.base_url))
    assert len(model.requests) == 2 and "You replaced big.py whole" in model.requests[1]["messages"][-1]["content"]
    assert (tmp_path / "big.py").read_text() == big, done.stderr
    assert (tmp_path / "other.py").read_text() == "VALUE = 2\n"
    assert "marker left in place: big.py:2: return 2 instead" in done.stderr


def test_a_failed_reply_leaves_the_run_it_replies_to_as_it_was(tmp_path, scripted_model):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content="NO CHANGE: it already handles that."),
                            ScriptStep(status=401, error_message="Incorrect API key")])
    env = env_for(model.base_url)
    first = codegen("feedback", "stats.py", "handle an empty list", "--lines", "1-2", "--no-verify", "--json",
                    "--root", str(tmp_path), env=env)
    earlier = tmp_path / ".codegen" / "runs" / json.loads(first.stdout)["runId"] / "run.json"
    meta = json.loads(earlier.read_text())
    meta["status"] = "running"  # as a daemon killed during that turn left it
    seal_run_meta(earlier.parent, {k: v for k, v in meta.items() if k != "seal"})  # sealed, as codegen writes it
    meta = json.loads(earlier.read_text())
    reply = codegen("feedback", "stats.py", "are you sure?", "--lines", "1-2", "--no-verify",
                    "--run", meta["id"], "--root", str(tmp_path), env=env)
    assert reply.returncode == 1 and "API key" in reply.stderr
    assert json.loads(earlier.read_text()) == meta  # only the reply's own run ends failed
