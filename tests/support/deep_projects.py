"""Projects whose slip sits three calls below the test, behind a run-time lookup that static
call-following from the test cannot see through: test -> Runner.invoke -> dispatch -> a command found
in a registry -> the buggy function. The same little command line in Python (pytest) and JavaScript
(node --test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PYTHON_FILES = {
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    "tally/__init__.py": "",
    "tally/registry.py": '''\
"""Commands register themselves by name; the dispatcher looks them up at run time."""

COMMANDS = {}


def command(name):
    def register(function):
        COMMANDS[name] = function
        return function
    return register


def lookup(name):
    try:
        return COMMANDS[name]
    except KeyError:
        raise SystemExit(f"unknown command {name}")
''',
    "tally/arith.py": '''\
def mean(values):
    if not values:
        return 0.0
    return sum(values) / len(values)


def spread(values):
    if len(values) < 2:
        return 0.0
    return max(values) - min(values)


def running_totals(values):
    totals = []
    current = 0
    for value in values[1:]:
        current += value
        totals.append(current)
    return totals
''',
    "tally/commands.py": '''\
from . import arith
from .registry import command


@command("mean")
def mean_command(numbers, out):
    out.write(f"{arith.mean(numbers):.2f}\\n")


@command("spread")
def spread_command(numbers, out):
    out.write(f"{arith.spread(numbers):g}\\n")


@command("totals")
def totals_command(numbers, out):
    out.write(" ".join(str(t) for t in arith.running_totals(numbers)) + "\\n")
''',
    "tally/cli.py": '''\
import io

from . import commands  # noqa: F401  (registers the commands)
from .registry import lookup


def parse(argv):
    name, *rest = argv
    return name, [float(word) if "." in word else int(word) for word in rest]


def dispatch(argv, out):
    name, numbers = parse(argv)
    handler = lookup(name)
    handler(numbers, out)
    return 0


class Result:
    def __init__(self, code, output):
        self.exit_code = code
        self.output = output


class Runner:
    """Runs the command line in-process and captures what it prints, for tests."""

    def invoke(self, argv):
        out = io.StringIO()
        code = dispatch(list(argv), out)
        return Result(code, out.getvalue())
''',
    "tests/test_cli.py": '''\
from tally.cli import Runner


def test_mean():
    assert Runner().invoke(["mean", "1", "2", "3"]).output == "2.00\\n"


def test_spread():
    assert Runner().invoke(["spread", "4", "1", "9"]).output == "8\\n"


def test_totals():
    assert Runner().invoke(["totals", "1", "2", "3"]).output == "1 3 6\\n"
''',
}
#: The same library, the failing test alone in its file and the passing ones in another: only that
#: other file's tests tell the culprit apart from the layers every test runs (runner, dispatch, lookup).
PYTHON_SPLIT_FILES = {
    **{path: text for path, text in PYTHON_FILES.items() if not path.startswith("tests/")},
    "tests/test_totals.py": '''\
from tally.cli import Runner


def test_totals():
    assert Runner().invoke(["totals", "1", "2", "3"]).output == "1 3 6\\n"
''',
    "tests/test_stats.py": '''\
from tally.cli import Runner


def test_mean():
    assert Runner().invoke(["mean", "1", "2", "3"]).output == "2.00\\n"


def test_spread():
    assert Runner().invoke(["spread", "4", "1", "9"]).output == "8\\n"
''',
}
#: The function holding the slip (``values[1:]``), as it stands in the file.
PYTHON_CULPRIT = PYTHON_FILES["tally/arith.py"].split("\n\n\n")[2]
FIX_PYTHON = '''```diff
--- a/tally/arith.py
+++ b/tally/arith.py
@@ -13,7 +13,7 @@
 def running_totals(values):
     totals = []
     current = 0
-    for value in values[1:]:
+    for value in values:
         current += value
         totals.append(current)
     return totals
```
'''

JS_FILES = {
    "package.json": json.dumps({"name": "tally", "version": "1.0.0", "scripts": {"test": "node --test"}}),
    "lib/registry.js": '''\
const commands = new Map();

function command(name, handler) {
  commands.set(name, handler);
}

function lookup(name) {
  const handler = commands.get(name);
  if (!handler) {
    throw new Error(`unknown command ${name}`);
  }
  return handler;
}

module.exports = { command, lookup };
''',
    "lib/arith.js": '''\
function mean(values) {
  if (values.length === 0) {
    return 0;
  }
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function runningTotals(values) {
  const totals = [];
  let current = 0;
  for (const value of values.slice(1)) {
    current += value;
    totals.push(current);
  }
  return totals;
}

module.exports = { mean, runningTotals };
''',
    "lib/commands.js": '''\
const arith = require('./arith');
const { command } = require('./registry');

command('mean', (numbers) => arith.mean(numbers).toFixed(2));
command('totals', (numbers) => arith.runningTotals(numbers).join(' '));
''',
    "lib/cli.js": '''\
require('./commands');
const { lookup } = require('./registry');

function parse(argv) {
  const [name, ...rest] = argv;
  return { name, numbers: rest.map(Number) };
}

function dispatch(argv) {
  const { name, numbers } = parse(argv);
  return lookup(name)(numbers);
}

class Runner {
  invoke(argv) {
    return { output: dispatch(argv) + '\\n' };
  }
}

module.exports = { Runner };
''',
    "test/cli.test.js": '''\
const test = require('node:test');
const assert = require('node:assert');
const { Runner } = require('../lib/cli.js');

test('mean', () => {
  assert.strictEqual(new Runner().invoke(['mean', '1', '2', '3']).output, '2.00\\n');
});

test('totals', () => {
  assert.strictEqual(new Runner().invoke(['totals', '1', '2', '3']).output, '1 3 6\\n');
});
''',
}
JS_CULPRIT = JS_FILES["lib/arith.js"].split("\n\n")[1]

#: The same library, its CLI tests one top-level test with subtests (node:test's options argument
#: among them), and another test file whose passing tests go through the same layers: node cannot run
#: a subtest alone, so only that other file tells the culprit apart from the layers above it.
JS_SUBTEST_FILES = {
    **{path: text for path, text in JS_FILES.items() if not path.startswith("test/")},
    "test/cli.test.js": '''\
const { test } = require('node:test');
const assert = require('node:assert');
const { Runner } = require('../lib/cli.js');

test('cli', async (t) => {
  await t.test('mean', { timeout: 5000 }, () => {
    assert.strictEqual(new Runner().invoke(['mean', '1', '2', '3']).output, '2.00\\n');
  });
  await t.test('totals', { timeout: 5000 }, () => {
    assert.strictEqual(new Runner().invoke(['totals', '1', '2', '3']).output, '1 3 6\\n');
  });
});
''',
    "test/registry.test.js": '''\
const test = require('node:test');
const assert = require('node:assert');
const { Runner } = require('../lib/cli.js');
const { lookup } = require('../lib/registry.js');

test('an unknown command is refused', () => {
  assert.throws(() => lookup('median'), /unknown command median/);
});

test('mean of two', () => {
  assert.strictEqual(new Runner().invoke(['mean', '2', '4']).output, '3.00\\n');
});
''',
}


def write_project(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def python_without_coverage(folder: Path) -> Path:
    """A virtualenv whose interpreter has pytest but no coverage.py (a project's own .venv, say):
    every package of this interpreter's site-packages but coverage.py, linked into a new venv."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = next((folder / "lib").glob("python3*/site-packages"))
    here = Path(next(p for p in sys.path if p.endswith("site-packages") and Path(p, "_pytest").is_dir()))
    for entry in here.iterdir():
        if not entry.name.startswith(("coverage", "a1_coverage")) and not (site / entry.name).exists():
            os.symlink(entry, site / entry.name)
    python = folder / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import pytest; import coverage"], capture_output=True, text=True)
    assert "No module named 'coverage'" in probe.stderr, probe.stderr
    return python
