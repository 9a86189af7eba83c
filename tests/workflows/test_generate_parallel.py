"""A new project written in parallel: the plan, the files asked for at once, the pieces checked to fit."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from codegen_server.model.scripted_server import ScriptStep
from codegen_server.workflows.generate_parallel import fit_problems, parse_plan
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
            for path, content in FILES.items():
                if f"Write {path} now" in text:
                    arrived[path] = time.monotonic()
                    assert "add(a: int, b: int) -> int" in text  # each file's request carries the whole plan
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
