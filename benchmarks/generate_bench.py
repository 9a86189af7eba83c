"""Generation wall time: a 20-file project written in parallel next to one streamed answer.

    python benchmarks/generate_bench.py [--files 20] [--parallel 8,20] [--chars-per-second 400] [--repeat 3]

Both sides are the same `codegen generate` process against the same scripted model, which streams
every answer at the same rate (16-character chunks, a fixed delay between them): the single side with
`CODEGEN_MODEL_PARALLEL=1` gets the whole project as one answer; the parallel side gets the plan, then
one answer per file, `--parallel` at a time (each value a row: 8 is codegen's default). The figure compared is the model's part of the wall time,
from the first request's arrival to the end of the last answer, as the scripted server sees it; the
whole command (start-up, writing, running the generated tests) is printed next to it. Each side runs
`--repeat` times and the median is printed; the generated project's own tests must pass on both sides.
"""

from __future__ import annotations

import argparse
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

CHUNK = 16


def project(count: int) -> dict[str, str]:
    """``count`` files: modules of some realistic length, each with a test, and a package marker."""
    files = {"shapes/__init__.py": '"""Shapes and their measures."""\n'}
    for n in range((count - 1) // 2):
        body = "".join(f'\n\ndef measure_{n}_{k}(width: float, height: float) -> float:\n'
                       f'    """Measure {k} of shape {n}: a weighted area, for the benchmark\'s sake."""\n'
                       f'    if width < 0 or height < 0:\n        raise ValueError("negative size")\n'
                       f'    return width * height * {k + 1}\n' for k in range(8))
        files[f"shapes/shape_{n}.py"] = f'"""Shape {n}."""\n' + body
        files[f"tests/test_shape_{n}.py"] = (f"from shapes.shape_{n} import measure_{n}_0, measure_{n}_7\n\n\n"
                                             f"def test_shape_{n}():\n    assert measure_{n}_0(2, 3) == 6\n"
                                             f"    assert measure_{n}_7(1, 1) == 8\n")
    files["conftest.py"] = "# pytest finds the package from the project root\n"
    return files


def whole(files: dict[str, str]) -> str:
    return "\n".join(f"{path}\n```python\n{text}```\n" for path, text in files.items())


def plan(files: dict[str, str]) -> str:
    # As the generate_plan preprompt asks: the names other files use (a module's functions), none for tests.
    entries = [{"path": path, "purpose": f"{path.rsplit('/', 1)[-1]}",
                "interfaces": [] if path.startswith("tests/") else
                [line[4:].rstrip(":") for line in text.splitlines() if line.startswith("def ")][:2]}
               for path, text in files.items()]
    return "```json\n" + json.dumps({"files": entries}) + "\n```\n"


def responder(files: dict[str, str], delay: float):
    def respond(body: dict) -> ScriptStep:
        text = body["messages"][-1]["content"]
        for path, content in files.items():
            if f"Write {path} now" in text:
                return ScriptStep(content=whole({path: content}), chunk_size=CHUNK, chunk_delay=delay)
        if "decide how big" not in body["messages"][0]["content"]:  # model.parallel 1: no plan asked for
            return ScriptStep(content=whole(files), chunk_size=CHUNK, chunk_delay=delay)
        return ScriptStep(content=plan(files), chunk_size=CHUNK, chunk_delay=delay)
    return respond


def run_side(files: dict[str, str], parallel: int, delay: float, workdir: Path) -> tuple[float, float, bool]:
    """One `codegen generate` against a fresh scripted model: the model's part of its wall time (first request
    to last answer's end), the whole command's, and whether the generated tests pass."""
    root = workdir / f"p{parallel}-{time.monotonic_ns()}"
    arrivals: list[float] = []
    answer = responder(files, delay)

    def respond(body: dict) -> ScriptStep:
        arrivals.append(time.monotonic())
        return answer(body)

    with ScriptedModelServer(respond) as model:
        env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY") and not k.startswith("OPENAI_")}
        env.update(OPENAI_BASE_URL=model.base_url, CODEGEN_MODEL="scripted-model",
                   CODEGEN_MODEL_PARALLEL=str(parallel))
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "codegen_server.cli", "generate", "the shapes project",
                               "--root", str(root), "--json"], env=env, capture_output=True, text=True, timeout=900)
        seconds = time.perf_counter() - start
        model_seconds = max(model.finished) - min(arrivals)
    if done.returncode != 0:
        raise SystemExit(f"codegen generate failed ({parallel=}):\n{done.stderr[-2000:]}")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root,
                           capture_output=True, text=True, timeout=300)
    return model_seconds, seconds, tests.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--parallel", default="8,20", help="comma-separated model.parallel values, a row each")
    parser.add_argument("--chars-per-second", type=float, default=400.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = project(args.files)
    delay = CHUNK / args.chars_per_second
    total = sum(len(whole({p: t})) for p, t in files.items())
    print(f"{len(files)} files, {total:,} characters of answer; the scripted model streams {args.chars_per_second:,.0f} "
          f"characters/s ({CHUNK}-character chunks) on both sides; median of {args.repeat} runs each; load "
          f"{os.getloadavg()[0]:.1f}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        sides = [("one streamed answer (model.parallel 1)", 1)] + [
            (f"planned, {n} at a time (model.parallel {n})", n) for n in map(int, args.parallel.split(","))]
        for label, parallel in sides:
            results[label] = [run_side(files, parallel, delay, Path(tmp)) for _ in range(args.repeat)]
    print("\n| | model's wall time, median | each run | whole command, median | generated project's tests |")
    print("|---|---|---|---|---|")
    medians = []
    for label, runs in results.items():
        medians.append(statistics.median(r[0] for r in runs))
        print(f"| {label} | {medians[-1]:.2f} s | {', '.join(f'{r[0]:.2f}' for r in runs)} s | "
              f"{statistics.median(r[1] for r in runs):.2f} s | {'pass' if all(r[2] for r in runs) else 'FAIL'} |")
    for (label, _), median in zip(sides[1:], medians[1:]):
        print(f"the model's part, {label}: {medians[0] / median:.1f}x faster than one answer (target: at least 4x)")


if __name__ == "__main__":
    main()
