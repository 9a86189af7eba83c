"""codegen.applyFeedback: a comment on a range, through the daemon, previewed in the editor."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path

from codegen_server.model.scripted_server import ScriptStep
from tests.support.cli import codegen, env_for
from tests.conftest import model_env
from tests.support.answers import MEAN_EMPTY_LIST, STATS

WRONG_CONTEXT = MEAN_EMPTY_LIST.replace(" def mean(values):", " def average(values):")


def comment_args(root, comment="mean() should handle an empty list"):
    return {"uri": from_fs_path(str(root / "stats.py")), "comment": comment,
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}}


async def test_feedback_becomes_a_previewed_change(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.applyFeedback", comment_args(tmp_path))

    assert result["applied"] is True and result["files"] == [{"path": "stats.py", "action": "modify"}]
    assert result["explanation"].startswith("`mean` divides by zero")
    assert editor.edits_received and "if not values:" in (tmp_path / "stats.py").read_text()
    sent = model.requests[0]["messages"][-1]["content"]
    assert "mean() should handle an empty list" in sent and "stats.py, lines 1-2" in sent
    assert "return sum(values) / len(values)" in sent  # the enclosing function's body


async def test_a_hunk_that_misses_goes_back_to_the_model_once(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=WRONG_CONTEXT), ScriptStep(content=MEAN_EMPTY_LIST)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.applyFeedback", {**comment_args(tmp_path), "apply": "disk"})
    assert result["applied"] is True
    retry = model.requests[1]["messages"][-1]["content"]
    assert "could not be applied" in retry and "def average(values):" in retry


async def test_a_range_outside_the_file_is_a_clear_error(tmp_path, scripted_model, editor_factory):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST)])
    editor = await editor_factory(tmp_path, env=model_env(model))
    args = comment_args(tmp_path)
    args["range"] = {"start": {"line": 40, "character": 0}, "end": {"line": 45, "character": 0}}
    with pytest.raises(JsonRpcException) as caught:
        await editor.execute("codegen.applyFeedback", args)
    assert "41-46" in str(caught.value) and "stats.py" in str(caught.value)
    assert not model.requests


def test_feedback_from_the_terminal(tmp_path, scripted_model):
    (tmp_path / "stats.py").write_text(STATS)
    model = scripted_model([ScriptStep(content=MEAN_EMPTY_LIST)])
    done = codegen("feedback", "stats.py", "handle an empty list", "--lines", "1-2", "--root", str(tmp_path),
                   env=env_for(model.base_url))
    assert done.returncode == 0, done.stderr
    assert "divides by zero" in done.stdout and "modify  stats.py" in done.stdout
    assert "if not values:" in (tmp_path / "stats.py").read_text()
