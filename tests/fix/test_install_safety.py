"""Model-proposed installs cannot smuggle options, URLs or paths into the package manager.

The package managers here are the real ones, started through a wrapper on the
project's own interpreter (a project virtualenv's ``bin/python``) or on PATH
(``npm``) that logs every argument vector and then runs the real program.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from codegen_server.testing.types import TestCommand
from codegen_server.workflows.fix_actions import UnsafeInstall, check_requirement, install_command
from tests.support.cli import codegen, env_for
from tests.support.recording import calls, recording_wrapper
from tests.conftest import model_env
from tests.support.fix_projects import (
    FIX_CART,
    FIX_ONE_BREAK_TWO,
    FIX_PRICE_JS,
    fix_model,
    make_node_project,
    make_python_project,
)

HOSTILE_PIP = [
    "--index-url=http://127.0.0.1:9/simple",
    "--extra-index-url http://127.0.0.1:9/simple",
    "-r /etc/hostname",
    "git+https://127.0.0.1:9/evil/pkg.git",
    "./evil",
    "https://127.0.0.1:9/evil-1.0.tar.gz",
    "evil @ https://127.0.0.1:9/evil-1.0.whl",
    "evil-1.0.tar.gz",
]
#: Repairs what FIX_ONE_BREAK_TWO broke: the second iteration's plan.
UNBREAK = '''```diff
--- a/shop/cart.py
+++ b/shop/cart.py
@@ -1,7 +1,7 @@
 def total(prices):
     """The sum of the prices."""
-    return sum(prices) if prices else 1
+    return sum(prices)
 
 
 def count(prices):
-    return len(prices) + 1
+    return len(prices)
```
'''
HOSTILE_NPM = [
    "--registry=http://127.0.0.1:9/",
    "file:./evil",
    "git+https://127.0.0.1:9/evil.git",
    "github:evil/evil",
    "evil/evil",
    "./evil",
    "left-pad@npm:evil",
    "evil-1.0.0.tgz",
    "https://127.0.0.1:9/evil.tgz",
]


def install_lines(values: list[str]) -> str:
    return "".join(f"INSTALL: {value}\n" for value in values)


@pytest.mark.parametrize("value", HOSTILE_PIP)
def test_hostile_pip_values_are_refused(value):
    with pytest.raises(UnsafeInstall) as caught:
        install_command(value, TestCommand(kind="pytest", cwd=Path("."), argv=("python", "-m", "pytest")))
    assert value in str(caught.value) and "not installed" in str(caught.value)


@pytest.mark.parametrize("value", HOSTILE_NPM)
def test_hostile_npm_values_are_refused(value):
    assert check_requirement(value, "npm")


@pytest.mark.parametrize("kind, value", [
    ("cargo", "--git=https://127.0.0.1:9/evil"), ("cargo", "../evil"), ("cargo", "serde --features derive"),
    ("go", "-u"), ("go", "./evil"), ("go", "example.com/a/../../evil"), ("go", "https://127.0.0.1:9/evil"),
])
def test_hostile_cargo_and_go_values_are_refused(kind, value):
    assert check_requirement(value, kind)


@pytest.mark.parametrize("kind, value, argv", [
    ("pytest", "requests[socks]>=2,<3; python_version >= '3.8'",
     ["python", "-m", "pip", "install", "--", "requests[socks]>=2,<3; python_version >= '3.8'"]),
    ("npm", "@types/node@^20", ["npm", "install", "--no-audit", "--no-fund", "--", "@types/node@^20"]),
    ("cargo", "serde@1.0", ["cargo", "add", "--", "serde@1.0"]),
    ("go", "golang.org/x/tools@latest", ["go", "get", "--", "golang.org/x/tools@latest"]),
])
def test_plain_requirements_follow_a_double_dash(kind, value, argv):
    tests = TestCommand(kind=kind, cwd=Path("."), argv=("python", "-m", "pytest") if kind == "pytest" else ())
    assert install_command(value, tests) == argv


def test_a_fix_run_refuses_every_hostile_pip_install_and_still_installs_a_plain_one(tmp_path, scripted_model):
    make_python_project(tmp_path)
    log = tmp_path.parent / "pip-calls.jsonl"
    recording_wrapper(tmp_path / "venv/bin/python", sys.executable, log)
    # Iteration 1 asks for the installs (and trades one failure for two); iteration 2 fixes the code.
    first_plan = FIX_ONE_BREAK_TWO + "\n" + install_lines(HOSTILE_PIP + ["requests>=2"])
    model = scripted_model(fix_model([first_plan, UNBREAK]))
    done = codegen("fix", "--root", str(tmp_path), "--allow-install", "--json", env=env_for(model.base_url))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)

    pip_calls = [argv for argv in calls(log) if argv[:2] == ["-m", "pip"]]
    # The package manager ran once, for the plain requirement, after "--"; never with a model-supplied option.
    assert pip_calls == [["-m", "pip", "install", "--", "requests>=2"]]
    actions = result["iterations"][0]["actions"]
    for value in HOSTILE_PIP:
        assert any(a.startswith(f"install {value}: refused — ") for a in actions), (value, actions)
    assert f"install requests>=2 by running `{tmp_path}/venv/bin/python -m pip install -- 'requests>=2'`: exit 0" in actions
    assert not (tmp_path / "evil").exists()

    # The model is told what was refused and why.
    second_diagnose = model.requests[2]["messages"][-1]["content"]
    assert ("Action: install --index-url=http://127.0.0.1:9/simple: refused — '--index-url=http://127.0.0.1:9/simple' "
            "was not installed: it is a command-line option") in second_diagnose
    assert "'evil @ https://127.0.0.1:9/evil-1.0.whl' was not installed: it names a URL" in second_diagnose


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_a_fix_run_never_starts_npm_with_a_hostile_install(tmp_path, scripted_model):
    project = tmp_path / "project"
    project.mkdir()
    make_node_project(project)
    # A glob in the test script makes the tests run through `npm test` (so through the recording npm).
    (project / "package.json").write_text(json.dumps({"name": "price", "version": "1.0.0",
                                                      "scripts": {"test": "node --test test/*.test.js"}}))
    bin_dir = tmp_path / "bin"
    log = tmp_path / "npm-calls.jsonl"
    recording_wrapper(bin_dir / "npm", shutil.which("npm"), log)
    model = scripted_model(fix_model([FIX_PRICE_JS + "\n" + install_lines(HOSTILE_NPM)],
                                     diagnosis="total() drops the first price."))
    env = {**env_for(model.base_url), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = codegen("fix", "--root", str(project), "--allow-install", "--json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    actions = json.loads(done.stdout)["iterations"][0]["actions"]
    assert len(actions) == len(HOSTILE_NPM) and all(": refused — " in a for a in actions)
    # npm ran the tests, and never an install.
    assert ["test"] in calls(log) and all(argv[:1] != ["install"] for argv in calls(log)), calls(log)
    assert not (project / "node_modules").exists()


async def test_the_consent_prompt_shows_the_exact_command(tmp_path, scripted_model, editor_factory):
    make_python_project(tmp_path)
    model = scripted_model(fix_model([FIX_CART + "\nINSTALL: requests>=2\nINSTALL: --index-url=http://127.0.0.1:9/\n"]))
    editor = await editor_factory(tmp_path, env=model_env(model))
    editor.consent_answer = "Deny"
    result = await editor.execute("codegen.fixTests", {"autoAccept": True})
    [question] = editor.questions  # the refused value is never offered for consent
    assert f"{sys.executable} -m pip install -- 'requests>=2'" in question
    actions = result["iterations"][0]["actions"]
    assert actions[0].startswith("install --index-url=http://127.0.0.1:9/: refused")
    assert actions[1].endswith(": not allowed")
