"""Dynamic fault localization in the fix loop: the failing tests run under coverage, and the code they
ran that the passing tests did not is quoted whole in the first request, however deep it sits.
Over the protocol (the daemon and an editor-like client) and the CLI, with a scripted model."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from codegen_server.context.shown import shown_whole
from codegen_server.workflows.localize import NOTHING_IN_WORKSPACE
from tests.conftest import model_env
from tests.support.cli import codegen, env_for
from tests.support.deep_projects import (
    FIX_PYTHON,
    JS_CULPRIT,
    JS_FILES,
    JS_SUBTEST_FILES,
    PYTHON_CULPRIT,
    PYTHON_FILES,
    PYTHON_SPLIT_FILES,
    python_without_coverage,
    write_project,
)
from tests.support.fix_projects import fix_model


def _request_text(body: dict) -> str:
    return "\n".join(str(m.get("content") or "") for m in body["messages"])


async def test_a_slip_three_calls_below_the_test_is_quoted_whole_in_the_first_request(
        tmp_path, scripted_model, editor_factory):
    write_project(tmp_path, PYTHON_FILES)
    model = scripted_model(fix_model([FIX_PYTHON], diagnosis="running_totals skips the first value."))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})

    diagnose = _request_text(model.requests[0])
    assert shown_whole(PYTHON_CULPRIT, diagnose), diagnose
    assert "Run by the failing tests (suspicion 1.00) `running_totals`" in diagnose
    # ... and first among the culprits, before what the test calls directly.
    culprits = diagnose.split("## Code under test", 1)[1]
    assert culprits.index("`running_totals`") < culprits.index("`Runner`")
    assert result["green"] is True

    [iteration] = result["iterations"]
    localization = iteration["localization"]
    assert (localization["method"], localization["tool"], localization["why"]) == ("coverage", "coverage.py", "")
    assert 0 < localization["seconds"] <= localization["budget"]
    run_dir = tmp_path / ".codegen/runs" / result["runId"]
    ranking = json.loads((run_dir / "localization/01.json").read_text())
    assert ranking["suspects"][0]["path"] == "tally/arith.py" and ranking["suspects"][0]["score"] == 1.0
    recorded = json.loads((run_dir / "iterations.json").read_text())["iterations"][0]["localization"]
    assert recorded["method"] == "coverage"
    # The coverage data went to a temporary folder, not into the workspace.
    assert not list(tmp_path.rglob(".coverage*")) and not list(tmp_path.rglob("_codegen_coverage_contexts*"))


async def test_with_localization_off_the_static_context_does_not_reach_it(tmp_path, scripted_model, editor_factory):
    write_project(tmp_path, PYTHON_FILES)
    model = scripted_model(fix_model([FIX_PYTHON]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "localize": False})

    assert not shown_whole(PYTHON_CULPRIT, _request_text(model.requests[0]))
    assert result["iterations"][0]["localization"]["method"] == "static"
    assert result["iterations"][0]["localization"]["why"] == "coverage localization is turned off"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_a_node_project_gets_the_culprit_through_v8_coverage(tmp_path, scripted_model, editor_factory):
    write_project(tmp_path, JS_FILES)
    model = scripted_model(fix_model([], diagnosis="runningTotals skips the first value."))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "maxIterations": 1})

    diagnose = _request_text(model.requests[0])
    assert shown_whole(JS_CULPRIT, diagnose), diagnose
    assert "Run by the failing tests (suspicion 1.00) `runningTotals`" in diagnose
    localization = result["iterations"][0]["localization"]
    assert (localization["method"], localization["tool"]) == ("coverage", "v8")
    ranking = json.loads((tmp_path / ".codegen/runs" / result["runId"] / "localization/01.json").read_text())
    top = {(s["path"], s["line"]) for s in ranking["suspects"] if s["score"] == 1.0}
    assert ("lib/arith.js", 11) in top and not any(path.startswith("test/") for path, _ in top)


def test_without_coverage_py_in_the_projects_interpreter_the_static_context_is_used_and_recorded(
        tmp_path, scripted_model):
    root = tmp_path / "project"
    write_project(root, PYTHON_FILES)
    python = python_without_coverage(tmp_path / "venv")
    model = scripted_model(fix_model([FIX_PYTHON]))
    done = codegen("fix", "--root", str(root), "--test-cmd", f"{python} -m pytest -p no:cacheprovider", "--json",
                   env=env_for(model.base_url), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    localization = result["iterations"][0]["localization"]
    assert localization["method"] == "static"
    assert localization["why"] == f"coverage.py is not installed for {python}"
    # The loop went on with the static context: the test, and what it calls.
    assert "def test_totals():" in _request_text(model.requests[0]) and result["green"] is True


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_node_subtests_are_contrasted_with_the_other_test_files_passing_tests(
        tmp_path, scripted_model, editor_factory):
    write_project(tmp_path, JS_SUBTEST_FILES)
    model = scripted_model(fix_model([], diagnosis="runningTotals skips the first value."))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {"autoAccept": True, "maxIterations": 1,
                                                       "testCommand": "node --test test/cli.test.js"})

    diagnose = _request_text(model.requests[0])
    # The failing subtest, written with node:test's options argument, is quoted from the index ...
    tests_code = diagnose.split("## The failing tests' code", 1)[1].split("\n## ", 1)[0]
    assert "await t.test('totals', { timeout: 5000 }, () => {" in tests_code, diagnose
    assert "invoke(['totals', '1', '2', '3']).output, '1 3 6\\n');" in tests_code
    assert "Test `totals` (test/cli.test.js:9-11)" in tests_code, tests_code  # the subtest, not its parent
    # ... and the culprit alone is unexplained by passing tests: the other file's tests ran the layers.
    assert shown_whole(JS_CULPRIT, diagnose), diagnose
    assert "Run by the failing tests (suspicion 1.00) `runningTotals`" in diagnose
    assert "(suspicion 1.00) `dispatch`" not in diagnose and "(suspicion 1.00) `lookup`" not in diagnose
    ranking = json.loads((tmp_path / ".codegen/runs" / result["runId"] / "localization/01.json").read_text())
    top = {(s["path"], s["line"]) for s in ranking["suspects"] if s["score"] == 1.0}
    assert top and all(path == "lib/arith.js" and 8 <= line <= 16 for path, line in top), top
    assert ranking["suspects"][0]["passed"] == 0


async def test_a_failing_test_alone_in_its_file_is_contrasted_with_the_other_test_files_passing_tests(
        tmp_path, scripted_model, editor_factory):
    write_project(tmp_path, PYTHON_SPLIT_FILES)
    model = scripted_model(fix_model([FIX_PYTHON], diagnosis="running_totals skips the first value."))
    editor = await editor_factory(tmp_path, env=model_env(model))
    result = await editor.execute("codegen.fixTests", {
        "autoAccept": True, "maxIterations": 1,
        "testCommand": f"{sys.executable} -m pytest -p no:cacheprovider tests/test_totals.py"})

    diagnose = _request_text(model.requests[0])
    # Its file holds no passing test: without the other file, the runner, dispatch and lookup the
    # failing test runs would score as high as the culprit.
    assert shown_whole(PYTHON_CULPRIT, diagnose), diagnose
    assert "Run by the failing tests (suspicion 1.00) `running_totals`" in diagnose
    assert "(suspicion 1.00) `dispatch`" not in diagnose and "(suspicion 1.00) `invoke`" not in diagnose
    ranking = json.loads((tmp_path / ".codegen/runs" / result["runId"] / "localization/01.json").read_text())
    top = {(s["path"], s["line"]) for s in ranking["suspects"] if s["score"] == 1.0}
    # Only the failing test runs the culprit and the command that calls it; every test runs the layers.
    assert {path for path, _ in top} == {"tally/arith.py", "tally/commands.py"}, sorted(top)
    dispatch = [s for s in ranking["suspects"] if s["path"] == "tally/cli.py"]
    assert dispatch and all(s["passed"] == 2 for s in dispatch), dispatch  # test_mean and test_spread ran it


def test_code_under_test_imported_from_outside_the_workspace_falls_back_saying_so(tmp_path, scripted_model):
    # The tests import an installed copy of the package (first on sys.path), not the workspace's:
    # coverage, which measures the workspace only, sees the test files alone.
    root, site = tmp_path / "project", tmp_path / "site"
    write_project(root, PYTHON_FILES)
    shutil.copytree(root / "tally", site / "tally")
    model = scripted_model(fix_model([]))
    done = codegen("fix", "--root", str(root), "--max-iterations", "1", "--json", "--test-cmd",
                   f"{sys.executable} -m pytest -p no:cacheprovider -o pythonpath={site}",
                   env=env_for(model.base_url), timeout=300)
    result = json.loads(done.stdout)
    localization = result["iterations"][0]["localization"]
    assert (localization["method"], localization["tool"]) == ("static", "coverage.py"), localization
    assert localization["why"] == NOTHING_IN_WORKSPACE
    assert localization["seconds"] > 0
    assert "def test_totals():" in _request_text(model.requests[0])
