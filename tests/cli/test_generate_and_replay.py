"""`codegen clarify`, `codegen generate` and `codegen replay` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

from codegen_server.model.scripted_server import ScriptStep
from tests.support.cli import codegen, env_for
from tests.support.answers import (BROKEN_CALC, CALC_FILES, CALC_PROJECT, CLARIFY_QUESTIONS, FIX_ADD,
                                   NOTHING_TO_CLARIFY)
from tests.support.fix_projects import fix_model
from tests.support.prompts import assert_one_voice


def test_clarify_answer_then_generate(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=CLARIFY_QUESTIONS), ScriptStep(content=NOTHING_TO_CLARIFY),
                            ScriptStep(content=CALC_PROJECT)])
    env = env_for(model.base_url)
    asked = codegen("clarify", "a calculator", "--root", str(tmp_path), "--json", env=env)
    assert asked.returncode == 0, asked.stderr
    first = json.loads(asked.stdout)
    assert len(first["questions"]) == 2 and not first["done"]
    answered = codegen("clarify", "--run", first["runId"], "--answer", "all four", "--answer", "both",
                       "--root", str(tmp_path), "--json", env=env)
    assert json.loads(answered.stdout)["done"] is True
    generated = codegen("generate", "--run", first["runId"], "--root", str(tmp_path), env=env)
    assert generated.returncode == 0, generated.stderr
    assert all((tmp_path / p).is_file() for p in CALC_FILES)
    assert_one_voice(model.requests[-1]["messages"][0]["content"], existing_code=False)  # an empty workspace
    assert model.requests[-1]["messages"][-1]["content"].endswith("The workspace holds no code yet.")


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    done = codegen("generate", "a calculator", "--dry-run", "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 0 and "+++ b/calc/ops.py" in done.stdout
    assert not (tmp_path / "calc").exists()


def test_no_model_is_one_clear_line_and_exit_1(tmp_path):
    done = codegen("generate", "a calculator", "--root", str(tmp_path), env=env_for(None))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith("codegen: No model is configured")
    assert "Traceback" not in done.stderr
    # In the CLI's words: its flag and the environment, never an editor's settings (issue 32).
    assert "`--base-url`" in done.stderr and "OPENAI_API_KEY" in done.stderr
    assert not any(editor in done.stderr for editor in ("codegen.model", "initializationOptions", "VS Code"))


def test_generate_creates_its_root_when_the_parent_exists(tmp_path):
    missing = tmp_path / "no" / "demo"
    done = codegen("generate", "a calculator", "--root", str(missing), env=env_for(None))
    assert done.returncode == 1 and not missing.parent.exists()
    assert f"create it first (mkdir -p {missing})" in done.stderr


def test_replay_reproduces_a_recorded_run(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=CALC_PROJECT)])
    first = tmp_path / "first"
    first.mkdir()
    generated = codegen("generate", "a calculator", "--root", str(first), env=env_for(model.base_url))
    assert generated.returncode == 0, generated.stderr
    # Generate runs the tests it wrote, and says what they said (issue 25).
    assert "tests after the change (" in generated.stderr and ": 3 passed, all pass" in generated.stderr
    [run_dir] = (first / ".codegen" / "runs").iterdir()

    replay = subprocess.Popen([sys.executable, "-m", "codegen_server.cli", "replay", str(run_dir)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env_for(None))
    try:
        line = replay.stdout.readline().strip()
        assert line.startswith("OPENAI_BASE_URL=http://127.0.0.1:")
        second = tmp_path / "second"  # generate creates the folder, as in the README's replay example
        again = codegen("generate", "a calculator", "--root", str(second), env=env_for(line.split("=", 1)[1]))
        assert again.returncode == 0, again.stderr
    finally:
        replay.terminate()
        replay.wait(timeout=10)
    for path in CALC_FILES:
        assert (second / path).read_bytes() == (first / path).read_bytes()


def test_a_refused_run_ends_failed_with_the_reason(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(status=401, error_message="Incorrect API key")])
    done = codegen("generate", "a calculator", "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 1
    [run_dir] = (tmp_path / ".codegen" / "runs").iterdir()
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "failed" and meta["reason"] in done.stderr


def test_generate_reports_failing_tests_and_with_fix_goes_on_to_green(tmp_path, scripted_model):
    fixing = fix_model([FIX_ADD], diagnosis="add() subtracts.")

    def respond(body: dict) -> ScriptStep:
        asked = body["messages"][1]["content"]
        return ScriptStep(content=BROKEN_CALC) if asked.startswith("a calculator") else fixing(body)

    model = scripted_model(respond)
    env = env_for(model.base_url)
    reported = codegen("generate", "a calculator", "--root", str(tmp_path / "reported"), env=env)
    assert reported.returncode == 1, reported.stderr
    assert "1 failing: tests/test_ops.py::test_arithmetic" in reported.stderr
    assert "run `codegen fix` (or generate with --fix)" in reported.stderr and len(model.requests) == 1

    fixed = codegen("generate", "a calculator", "--fix", "--json", "--root", str(tmp_path / "fixed"), env=env)
    assert fixed.returncode == 0, fixed.stderr
    result = json.loads(fixed.stdout)
    assert result["applied"] and result["tests"]["failing"] == ["tests/test_ops.py::test_arithmetic"]
    assert result["fix"]["green"] is True and result["fix"]["iterations"][0]["edited"] == ["calc/ops.py"]
    assert "return a + b" in (tmp_path / "fixed" / "calc" / "ops.py").read_text()
    # The fix loop is a run of its own, with its checkpoints: `codegen undo` returns to what generate wrote.
    assert (tmp_path / "fixed" / ".codegen" / "runs" / result["fix"]["run_id"] / "checkpoints").is_dir()
CART = "def total(prices):\n    \"\"\"The sum of the prices.\"\"\"\n    return sum(prices)\n\n\ndef count(prices):\n    return len(prices)\n"
ADD_MEAN = '''```diff
--- a/shop/cart.py
+++ b/shop/cart.py
@@ -5,3 +5,7 @@
 
 def count(prices):
     return len(prices)
+
+
+def mean(prices):
+    return total(prices) / count(prices)
```
'''


def test_generate_into_existing_code_answers_show_requests_and_reminds_once(tmp_path, scripted_model):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop/cart.py").write_text(CART)
    model = scripted_model([ScriptStep(content="SHOW: shop/cart.py::count\nSHOW: shop/prices.py"),
                            ScriptStep(content="I will add mean() next to count()."), ScriptStep(content=ADD_MEAN)])
    done = codegen("generate", "add mean(prices) to the cart", "--root", str(tmp_path), env=env_for(model.base_url))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "def mean(prices):" in (tmp_path / "shop/cart.py").read_text()
    first, show, remind = model.requests
    assert_one_voice(first["messages"][0]["content"], existing_code=True)
    answer = show["messages"][-1]["content"]
    assert "shop/cart.py::count" in answer and "`shop/prices.py`: no such file in the workspace" in answer
    reminder = remind["messages"][-1]["content"]
    assert "no SHOW line" in reminder and remind["messages"][:-1] == [*show["messages"], {
        "role": "assistant", "content": "I will add mean() next to count()."}]
