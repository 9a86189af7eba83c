"""Fixtures shared by the whole suite: a scripted OpenAI-compatible model and editor sessions."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import pytest

from codegen_server.model.scripted_server import Responder, ScriptedModelServer, ScriptStep
from tests.support.ci import under_ci
from tests.support.editor import EditorSession, start_editor

# codegen's per-user key (the seal on its state) lives in the user's state folder: the suite, and
# every daemon, CLI and editor it starts, use a folder of their own instead of the developer's.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="codegen-test-state-")


def pytest_configure(config: pytest.Config) -> None:
    """The projects' own test runs (started by the daemons, CLIs and editors the suite drives, with
    this venv's Python) load none of the plugins this suite needs: a user's project has no
    hypothesis or pytest-lsp, and importing them cost each run about 1.4 s of its 1.6 s. Set in the
    processes that run tests only: xdist's controller starts its workers with the plugins."""
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"


@pytest.fixture
def scripted_model() -> Callable[[Sequence[ScriptStep] | Responder], ScriptedModelServer]:
    """Start a scripted model server on 127.0.0.1: ``server = scripted_model([ScriptStep(...), ...])``."""
    servers: list[ScriptedModelServer] = []

    def start(script: Sequence[ScriptStep] | Responder) -> ScriptedModelServer:
        server = ScriptedModelServer(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def model_env(server: ScriptedModelServer, **extra: str) -> dict[str, str]:
    """The environment that points codegen at ``server``, with fast retries."""
    return {"OPENAI_BASE_URL": server.base_url, "CODEGEN_MODEL": "scripted-model", **extra}


@pytest.fixture
async def editor_factory():
    """``await editor_factory(root, env=..., client="neovim", accept_edits=False)``; shut down after the test."""
    sessions: list[EditorSession] = []

    async def start(root: Path, **kwargs) -> EditorSession:
        session = await start_editor(root, **kwargs)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        try:
            await session.client.shutdown_session()
        except Exception:
            await session.client.stop()


def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test is a failure: CI installs every tool the suite needs, so a
    skip there means a feature went untested (a missing runner, an install that failed)."""
    if call.excinfo is None or not call.excinfo.errisinstance(pytest.skip.Exception):
        return None
    if not under_ci():
        return None
    reason = str(call.excinfo.value)
    return pytest.TestReport.from_item_and_call(item, pytest.CallInfo.from_call(
        lambda: pytest.fail(f"skipped under CI=true, which must run every test: {reason}", pytrace=False),
        call.when))
