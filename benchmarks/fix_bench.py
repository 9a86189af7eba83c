"""Repair-loop overhead beyond model time, on a pytest project with 500 tests of which one fails.

    python benchmarks/fix_bench.py [--tests 500] [--repeat 3]

Prints, in one run:
- the verdict after an edit as codegen gets it (the failing test first; the whole suite once it
  passes) next to a baseline: the same runner re-running the whole suite every time, which is what a
  loop that re-runs the user's test command after each edit pays (Aider's --auto-test, devlooper). It is
  our own runner without test selection, not an outside tool;
- the whole `codegen fix` loop's wall time with an instant scripted model (a real subprocess, the
  real openai client over HTTP on 127.0.0.1), split into test time and everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codegen_server.model.scripted_server import ScriptedModelServer, ScriptStep  # noqa: E402
from codegen_server.testing import detect_test_command, run_tests  # noqa: E402

BUGGY = "def scale(x):\n    return x * 3\n"
FIXED_DIFF = """```diff
--- a/calc/scale.py
+++ b/calc/scale.py
@@ -1,2 +1,2 @@
 def scale(x):
-    return x * 3
+    return x * 2
```
"""


def make_project(root: Path, tests: int) -> None:
    (root / "calc").mkdir()
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (root / "conftest.py").write_text("")
    (root / "calc/__init__.py").write_text("")
    (root / "calc/scale.py").write_text(BUGGY)
    (root / "calc/ops.py").write_text("def add(a, b):\n    return a + b\n")
    per_file = 50
    for start in range(0, tests - 1, per_file):
        body = ["from calc.ops import add\n"]
        for n in range(start, min(start + per_file, tests - 1)):
            body.append(f"\ndef test_add_{n}():\n    assert add({n}, 1) == {n + 1}\n")
        (root / f"tests/test_ops_{start // per_file:02d}.py").write_text("".join(body))
    (root / "tests/test_scale.py").write_text("from calc.scale import scale\n\n\ndef test_scale():\n"
                                              "    assert scale(2) == 4\n")


async def verdict_times(root: Path, repeat: int) -> tuple[list[float], list[float], int]:
    command = detect_test_command(root)
    first = await run_tests(root, command)
    failing = first.failing_ids
    (root / "calc/scale.py").write_text(BUGGY.replace("* 3", "* 2"))
    ours, full = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        focused = await run_tests(root, command, only=failing)
        if focused.green:  # codegen's policy: failing tests first, then the whole suite
            await run_tests(root, command)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        await run_tests(root, command)
        full.append(time.perf_counter() - started)
    # And the red case: the edit did not fix it, so the verdict is the failing test alone.
    (root / "calc/scale.py").write_text(BUGGY)
    red_ours = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run_tests(root, command, only=failing)
        red_ours.append(time.perf_counter() - started)
    return ours, full, first.passed + first.failed, red_ours


def whole_loop(root: Path) -> tuple[float, dict]:
    def respond(body: dict) -> ScriptStep:
        last = body["messages"][-1]["content"]
        return ScriptStep(content=FIXED_DIFF if "Now fix it" in last else "scale() triples; it should double.")

    with ScriptedModelServer(respond) as model:
        env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
        env.update(OPENAI_BASE_URL=model.base_url, CODEGEN_MODEL="instant")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "codegen_server.cli", "fix", "--root", str(root), "--json"],
                              env=env, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"codegen fix failed:\n{done.stdout}\n{done.stderr}")
    return wall, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "verdicts"
        root.mkdir()
        make_project(root, args.tests)
        ours, full, counted, red = asyncio.run(verdict_times(root, args.repeat))

        loop_root = Path(scratch) / "loop"
        loop_root.mkdir()
        make_project(loop_root, args.tests)
        wall, result = whole_loop(loop_root)
        test_seconds = sum(json.loads(p.read_text())["duration"]
                           for p in (loop_root / ".codegen/runs" / result["run_id"] / "tests").glob("*.json"))

    med = statistics.median
    print(f"project: {counted} tests, 1 failing (pytest, {os.cpu_count()} cores); median of {args.repeat}")
    print()
    print(f"{'verdict after an edit':<52}{'seconds':>10}")
    print(f"{'  codegen, edit fixes it (failing first, then all)':<52}{med(ours):>10.2f}")
    print(f"{'  codegen, edit does not fix it (failing test only)':<52}{med(red):>10.2f}")
    print(f"{'  baseline: whole suite re-run every time (our runner)':<52}{med(full):>10.2f}")
    print()
    it = result["iterations"][0]
    print(f"{'whole `codegen fix` loop, instant model':<52}{'seconds':>10}")
    print(f"{'  wall time (process start to exit)':<52}{wall:>10.2f}")
    print(f"{'  of which test runs':<52}{test_seconds:>10.2f}")
    print(f"{'  loop overhead (wall - tests)':<52}{wall - test_seconds:>10.2f}")
    print(f"{'  model answer → next verdict (iteration 1)':<52}{it['verdict_seconds']:>10.2f}")
    print(f"  result: green={result['green']} after {len(result['iterations'])} iteration(s)")


if __name__ == "__main__":
    main()
