"""`codegen fix` and `codegen undo` from a terminal, on a real project with a real bug."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from codegen_server.model.scripted_server import ScriptStep
from tests.support.cli import codegen, env_for
from tests.support.processes import processes_running
from tests.support.fix_projects import FIX_CART, TOUCH_DOCSTRING, fix_model, make_python_project, snapshot


def test_fix_prints_each_iteration_and_exits_0_when_green(tmp_path, scripted_model):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART]))
    done = codegen("fix", "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "iteration 1: 1 → 0 failing; edited shop/cart.py" in done.stdout
    assert "all tests pass" in done.stdout and "Model tokens used:" in done.stdout

    run_id = done.stdout.split("codegen undo ")[1].split(")")[0]
    undone = codegen("undo", run_id, "--root", str(tmp_path), env=env_for(None))
    assert undone.returncode == 0 and "restored start" in undone.stderr
    assert snapshot(tmp_path) == start


def test_fix_exits_1_when_it_cannot_make_it_green(tmp_path, scripted_model):
    make_python_project(tmp_path)
    model = scripted_model(fix_model([TOUCH_DOCSTRING]))
    done = codegen("fix", "--root", str(tmp_path), "--max-iterations", "3", env=env_for(model.base_url))
    assert done.returncode == 1 and "the model made no progress" in done.stdout


def test_commands_are_not_run_without_the_flag(tmp_path, scripted_model):
    make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART + "\nRUN: touch marker.txt\n"]))
    # --allow-install is consent to installs only, not to the model's shell commands.
    done = codegen("fix", "--root", str(tmp_path), "--allow-install", env=env_for(model.base_url))
    assert done.returncode == 0 and "not allowed" in done.stdout and not (tmp_path / "marker.txt").exists()


def test_a_test_command_can_be_given(tmp_path, scripted_model):
    make_python_project(tmp_path)
    model = scripted_model([ScriptStep(content="unused")])
    done = codegen("fix", "--root", str(tmp_path), "--test-cmd", "python -m pytest tests -k count",
                   env=env_for(model.base_url))
    assert done.returncode == 0 and "Stopped after 0 iterations: all tests pass" in done.stdout
    assert not model.requests


def test_a_test_tool_that_is_not_installed_is_reported_before_any_model_call(tmp_path, scripted_model):
    make_python_project(tmp_path)
    model = scripted_model([ScriptStep(content="unused")])
    done = codegen("fix", "--root", str(tmp_path), "--test-cmd", "nosuchtool -x", env=env_for(model.base_url))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert ("codegen: Cannot run the tests: `nosuchtool` (from `nosuchtool -x`) is not installed or not on PATH. "
            "Install it, or set the test command (`--test-cmd`") in done.stderr
    assert not model.requests and not (tmp_path / ".codegen" / "runs").exists()


def _python_without_pytest() -> str | None:
    for python in ("/usr/bin/python3", shutil.which("python3")):
        if python and Path(python).is_file() and subprocess.run(
                [python, "-c", "import pytest"], capture_output=True).returncode != 0:
            return python
    return None


@pytest.mark.skipif(_python_without_pytest() is None, reason="every Python here has pytest")
def test_a_project_environment_without_pytest_is_reported_before_any_model_call(tmp_path, scripted_model):
    """The project's own .venv is the interpreter to use; without pytest in it, say so and how to get it."""
    make_python_project(tmp_path)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(_python_without_pytest())
    model = scripted_model([ScriptStep(content="unused")])
    done = codegen("fix", "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "this Python project's tests need pytest, and it is not installed" in done.stderr
    assert f"{tmp_path.resolve()}/.venv/bin/python has no pytest module" in done.stderr
    assert "install it into the project's environment (`.venv/bin/python -m pip install pytest`)" in done.stderr
    assert not model.requests


def test_processes_the_tests_leave_behind_are_gone_after_the_run(tmp_path, scripted_model):
    """A test command that starts `setsid env -i sleep` in the background: killed, and no asyncio noise."""

    make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART]))
    done = codegen("fix", "--root", str(tmp_path), "--test-cmd",
                   "setsid env -i sleep 4324 & python -m pytest -q -p no:cacheprovider",
                   env=env_for(model.base_url))
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Event loop is closed" not in done.stderr and "Traceback" not in done.stderr
        assert not processes_running("sleep 4324")
    finally:
        for pid in processes_running("sleep 4324"):
            os.kill(pid, signal.SIGKILL)


def test_undo_without_a_run_id_takes_the_latest_run_that_wrote(tmp_path, scripted_model):
    start = make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART]))
    assert codegen("fix", "--root", str(tmp_path), env=env_for(model.base_url)).returncode == 0
    after_fix = snapshot(tmp_path)
    notes = scripted_model([ScriptStep(content="Here it is.\n\nNOTES.md\n```markdown\n# Notes\n```\n")])
    made = codegen("generate", "a notes file", "--root", str(tmp_path), env=env_for(notes.base_url))
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "NOTES.md").is_file()

    first = codegen("undo", "--root", str(tmp_path), env=env_for(None))  # the generate: the latest that wrote
    assert first.returncode == 0, first.stderr
    assert snapshot(tmp_path) == after_fix
    second = codegen("undo", "--root", str(tmp_path), env=env_for(None))  # then the fix
    assert second.returncode == 0 and "restored start" in second.stderr
    assert snapshot(tmp_path) == start
    nothing = codegen("undo", "--root", str(tmp_path), env=env_for(None))
    assert nothing.returncode == 1 and "nothing to undo" in nothing.stderr
