"""A new project written in parallel: the plan, the files asked for at once, the pieces checked to fit."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time

from codegen_server.model.scripted_server import ScriptStep
from codegen_server.workflows.generate_parallel import fit_problems
from codegen_server.workflows.project_plan import PlanStream, parse_plan
from tests.support.cli import codegen, env_for

PLAN = {"files": [
    {"path": "calc/__init__.py", "purpose": "the package", "interfaces": []},
    {"path": "calc/ops.py", "purpose": "arithmetic", "interfaces": ["add(a: int, b: int) -> int",
                                                                    "sub(a: int, b: int) -> int"]},
    {"path": "calc/cli.py", "purpose": "the command line", "interfaces": ["main(argv: list[str]) -> int"]},
    {"path": "tests/test_calc.py", "purpose": "pytest tests", "interfaces": []},
]}
FILES = {
    "calc/__init__.py": '"""A tiny calculator."""\n',
    "calc/ops.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
    # Written apart from ops.py, this one guesses a name the plan did not give: the fit check catches it.
    "calc/cli.py": "import sys\n\nfrom calc.ops import plus\n\n\ndef main(argv):\n"
                   "    print(plus(int(argv[0]), int(argv[1])))\n    return 0\n",
    "tests/test_calc.py": "from calc.cli import main\nfrom calc.ops import add, sub\n\n\ndef test_ops():\n"
                          "    assert add(2, 3) == 5 and sub(2, 3) == -1\n\n\ndef test_cli(capsys):\n"
                          "    assert main(['2', '3']) == 0 and capsys.readouterr().out == '5\\n'\n",
}
FIXED_CLI = "import sys\n\nfrom calc.ops import add\n\n\ndef main(argv):\n    print(add(int(argv[0]), int(argv[1])))\n" \
            "    return 0\n"


def whole(path: str, text: str) -> str:
    return f"{path}\n```python\n{text}```\n"


def test_a_plan_is_read_from_its_json_block_and_a_bad_one_is_none():
    answer = "Here is the plan.\n\n```json\n" + json.dumps(PLAN) + "\n```\n"
    assert [p.path for p in parse_plan(answer)] == list(FILES)
    assert parse_plan(answer).pop(1).interfaces == "add(a: int, b: int) -> int\nsub(a: int, b: int) -> int"
    assert parse_plan("no plan") is None
    assert parse_plan('```json\n{"files": [{"path": "../outside.py"}]}\n```') is None
    assert parse_plan('```json\n{"files": [{"path": "a.py"}, {"path": "a.py"}]}\n```') is None


def streamed(answer: str, cuts: list[int]) -> list[str]:
    """The paths a PlanStream returns for ``answer`` fed in pieces ending at ``cuts``."""
    stream, paths, start = PlanStream(), [], 0
    for end in [*cuts, len(answer)]:
        paths += [p.path for p in stream.feed(answer[start:end])]
        start = end
    return paths


def test_a_streamed_plan_gives_the_whole_answers_entries_however_it_is_cut():
    answer = "Here is the plan.\n\n```json\n" + json.dumps(PLAN, indent=2) + "\n```\n"
    expected = [p.path for p in parse_plan(answer)]
    for size in range(1, 50):
        assert streamed(answer, list(range(size, len(answer), size))) == expected, size
    chance = random.Random(7)
    for _ in range(200):
        assert streamed(answer, sorted(chance.sample(range(1, len(answer)), chance.randint(1, 40)))) == expected
    stream = PlanStream()
    entries = [p for n in range(len(answer)) for p in stream.feed(answer[n])]
    assert entries == parse_plan(answer)  # purposes and interfaces too, not only the paths


def test_a_streamed_plan_stops_where_the_whole_answer_would_be_refused():
    package = 'package.json\n```json\n{"files": ["dist"], "name": "tool"}\n```\n'
    assert streamed(package, [20, 40]) == [] and parse_plan(package) is None
    outside = '```json\n{"files": [{"path": "a.py"}, {"path": "../out.py"}, {"path": "b.py"}]}\n```\n'
    assert streamed(outside, [30, 60]) == ["a.py"] and parse_plan(outside) is None
    twice = '```json\n{"files": [{"path": "a.py"}, {"path": "b.py"}, {"path": "a.py"}, {"path": "c.py"}]}\n```\n'
    assert streamed(twice, [10]) == ["a.py", "b.py"]
    broken = '```json\n{"files": [{"path": "a.py"}, {"path": "b.py" "oops"}, {"path": "c.py"}]}\n```\n'
    assert streamed(broken, [5]) == ["a.py"]
    # An entry longer than any one file's stops the reading (each feed with a brace decodes it again).
    long = ('```json\n{"files": [{"path": "a.py"}, {"path": "b.py", "interfaces": "'
            + "{x} " * (PlanStream.LONGEST_ENTRY // 2) + '"}]}\n```\n')
    assert streamed(long, list(range(1000, len(long), 1000))) == ["a.py"] and len(parse_plan(long)) == 2
    late = "x" * (PlanStream.OPENS_WITHIN + 10) + '\n```json\n{"files": [{"path": "a.py"}]}\n```\n'
    assert streamed(late, [PlanStream.OPENS_WITHIN + 5]) == [] and parse_plan(late) is not None


def test_the_fit_check_names_an_import_its_module_does_not_define():
    assert fit_problems(FILES) == ["calc/cli.py:3: imports plus from calc.ops, which does not define it — calc/ops.py"]
    assert fit_problems({**FILES, "calc/cli.py": FIXED_CLI}) == []
    relative = {"pkg/__init__.py": "from .core import run\n", "pkg/core.py": "def start():\n    pass\n"}
    assert fit_problems(relative) == ["pkg/__init__.py:1: imports run from pkg.core, which does not define it — "
                                      "pkg/core.py"]
    assert fit_problems({"a.py": "from os import nothing_checked\nfrom b import sub\n", "b/sub.py": ""}) == []


JS_FILES = {
    "src/ops.ts": "export function add(a: number, b: number) { return a + b; }\nexport const sub = (a, b) => a - b;\n"
                  "export interface Pair { a: number; b: number }\nexport default add;\n",
    "src/index.ts": "export * from './ops';\nexport { main as run } from './cli.js';\n",
    "src/cli.ts": "import add, { sub, type Pair } from './ops';\nexport function main() { return add(1, 2); }\n",
    "lib/util.js": "function pad(s) { return s; }\nmodule.exports = { pad, trim: (s) => s.trim() };\n",
    "lib/math/index.js": "exports.square = (x) => x * x;\n",
    "lib/app.js": "const { pad, trim } = require('./util');\nconst math = require('./math');\n"
                  "import util from './util.js';\nimport React from 'react';\nimport './app.css';\n",
    "tests/ops.test.ts": "import { add, sub } from '../src/index';\n",
}


def test_the_fit_check_on_javascript_and_typescript_when_the_pieces_fit():
    assert fit_problems(JS_FILES) == []


def test_the_fit_check_names_js_and_ts_imports_that_do_not_resolve_or_are_not_exported():
    broken = {
        **JS_FILES,
        # A name the target never exports, through `export * from` too; a default the module lacks.
        "src/cli.ts": "import { plus, type Pair } from './ops';\nimport run from './index';\n",
        "tests/ops.test.ts": "import { add, multiply } from '../src/index';\n",
        # A file that is not in the project; a destructured require of a name the module does not export.
        "lib/app.js": "const { pad, strip } = require('./util');\nconst fmt = require('./format');\n",
        "src/index.ts": "export * from './ops';\nexport { main as run, helper } from './cli.js';\n",
    }
    assert sorted(fit_problems(broken)) == sorted([
        "src/cli.ts:1: imports plus from ./ops, which does not export it — src/ops.ts",
        "src/cli.ts:2: imports default from ./index, which does not export it — src/index.ts",
        "tests/ops.test.ts:1: imports multiply from ../src/index, which does not export it — src/index.ts",
        "lib/app.js:1: imports strip from ./util, which does not export it — lib/util.js",
        "lib/app.js:2: imports ./format, which is not a file of the project",
        "src/index.ts:2: imports main from ./cli.js, which does not export it — src/cli.ts",
        "src/index.ts:2: imports helper from ./cli.js, which does not export it — src/cli.ts",
    ])
    # A module whose exports cannot be listed is not second-guessed.
    assert fit_problems({"a.js": "const { x } = require('./b');\n", "b.js": "module.exports = make();\n"}) == []


def test_a_new_project_is_planned_written_concurrently_and_fitted(tmp_path, scripted_model):
    arrived: dict[str, float] = {}
    lock = threading.Lock()

    def respond(body: dict) -> ScriptStep:
        text = body["messages"][-1]["content"]
        with lock:
            if "do not fit together" in text:
                arrived["fit"] = time.monotonic()
                assert "imports plus from calc.ops" in text and FILES["calc/cli.py"] in text
                return ScriptStep(content=whole("calc/cli.py", FIXED_CLI))
            for n, (path, content) in enumerate(FILES.items()):
                if f"Write {path} now" in text:
                    arrived[path] = time.monotonic()
                    # Each file's request carries the plan up to its own entry at least.
                    assert all(f"- {p['path']}: {p['purpose']}" in text for p in PLAN["files"][:n + 1])
                    return ScriptStep(content=whole(path, content), chunk_size=8, chunk_delay=0.05)
            arrived["plan"] = time.monotonic()
            return ScriptStep(content="```json\n" + json.dumps(PLAN) + "\n```\n")

    model = scripted_model(respond)
    root = tmp_path / "calc-project"
    done = codegen("generate", "a calculator package with a CLI and tests", "--root", str(root), "--json",
                   env={**env_for(model.base_url), "CODEGEN_MODEL_PARALLEL": "4"}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "generate_plan" not in model.requests[0]["messages"][0]["content"]  # the preprompt's text, not its name
    assert "decide how big the project is" in model.requests[0]["messages"][0]["content"]
    assert len(model.requests) == 6  # the plan, four files, one fit
    # The four file requests were all asked before the first of their answers had ended.
    first_answer_ended = min(model.finished[1:5])
    assert all(arrived[path] < first_answer_ended for path in FILES)
    assert (root / "calc" / "cli.py").read_text() == FIXED_CLI
    assert (root / "calc" / "ops.py").read_text() == FILES["calc/ops.py"]
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root,
                           capture_output=True, text=True, timeout=120)
    assert tests.returncode == 0, tests.stdout


def test_a_small_project_answered_at_once_is_one_call(tmp_path, scripted_model):
    model = scripted_model([ScriptStep(content=whole("hello.py", "print('hello')\n"))])
    root = tmp_path / "hello"
    done = codegen("generate", "print hello", "--root", str(root), "--json", env=env_for(model.base_url), timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(model.requests) == 1 and (root / "hello.py").read_text() == "print('hello')\n"


def run_meta(root) -> dict:
    return json.loads(next((root / ".codegen" / "runs").glob("*/run.json")).read_text())


def test_files_are_asked_for_while_the_plan_still_streams_within_the_concurrency(tmp_path, scripted_model):
    plan_answer = "```json\n" + json.dumps(PLAN, indent=1) + "\n```\n"
    chunk, delay = 8, 0.04
    plan_seconds = len(range(0, len(plan_answer), chunk)) * delay  # its stream sleeps at least this long
    fitting = {**FILES, "calc/cli.py": FIXED_CLI}
    arrived: dict[str, float] = {}
    asked: dict[str, str] = {}
    lock = threading.Lock()

    def respond(body: dict) -> ScriptStep:
        text = body["messages"][-1]["content"]
        with lock:
            for path, content in fitting.items():
                if f"Write {path} now" in text:
                    arrived[path], asked[path] = time.monotonic(), text
                    # Each answer takes long enough that three early files would overlap the plan's stream.
                    return ScriptStep(content=whole(path, content), delay=2.5)
            arrived["plan"] = time.monotonic()
            return ScriptStep(content=plan_answer, chunk_size=chunk, chunk_delay=delay)

    model = scripted_model(respond)
    root = tmp_path / "calc-project"
    done = codegen("generate", "a calculator package with a CLI and tests", "--root", str(root), "--json",
                   env={**env_for(model.base_url), "CODEGEN_MODEL_PARALLEL": "3"}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(model.requests) == 5  # the plan and four files: nothing asked twice, no fit pass
    # The first file was asked for before the plan's answer could have ended, with the plan so far only.
    assert arrived["calc/__init__.py"] < arrived["plan"] + plan_seconds
    assert "The plan is still being written" in asked["calc/__init__.py"]
    assert "tests/test_calc.py" not in asked["calc/__init__.py"]
    assert model.most_at_once <= 3  # the plan's own request counted among the three
    parallel = run_meta(root)["parallel"]
    assert parallel["planned"] == list(FILES) and "calc/__init__.py" in parallel["early"]
    assert {path: (root / path).read_text() for path in fitting} == fitting
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root,
                           capture_output=True, text=True, timeout=120)
    assert tests.returncode == 0, tests.stdout


def test_files_asked_for_early_are_asked_again_when_the_whole_plan_does_not_begin_with_them(tmp_path, scripted_model):
    # The first block names a file twice, so the whole answer's plan is the corrected block after it.
    first = {"files": [{"path": "calc/ops.py", "purpose": "arithmetic", "interfaces": ["plus(a, b)"]},
                       {"path": "calc/old.py", "purpose": "left over"},
                       {"path": "calc/ops.py", "purpose": "arithmetic again"}]}
    plan_answer = ("```json\n" + json.dumps(first) + "\n```\n\nThat names a file twice; the plan is:\n\n```json\n"
                   + json.dumps(PLAN) + "\n```\n")
    fitting = {**FILES, "calc/cli.py": FIXED_CLI}
    asked: list[str] = []
    lock = threading.Lock()

    def respond(body: dict) -> ScriptStep:
        text = body["messages"][-1]["content"]
        with lock:
            for path in ["calc/old.py", *fitting]:
                if f"Write {path} now" in text:
                    asked.append(path)
                    content = fitting.get(path, "LEFT_OVER = 1\n")
                    # The early requests are still answering when the plan ends (and are dropped).
                    return ScriptStep(content=whole(path, content), chunk_size=4, chunk_delay=0.05)
            return ScriptStep(content=plan_answer, chunk_size=16, chunk_delay=0.02)

    model = scripted_model(respond)
    root = tmp_path / "calc-project"
    done = codegen("generate", "a calculator package with a CLI and tests", "--root", str(root), "--json",
                   env={**env_for(model.base_url), "CODEGEN_MODEL_PARALLEL": "4"}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert asked[:2] == ["calc/ops.py", "calc/old.py"] and asked.count("calc/ops.py") == 2
    assert not (root / "calc" / "old.py").exists()
    assert run_meta(root)["parallel"]["early"] == []
    assert {path: (root / path).read_text() for path in fitting} == fitting
