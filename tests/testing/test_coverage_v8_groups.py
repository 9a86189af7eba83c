"""V8 coverage for `node --test`: the other test files' passing tests are one spectrum group per file, and
a run cut at its deadline keeps the files that finished (in-process, a tiny project, no daemon)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codegen_server.context.spectrum import Execution, ochiai
from codegen_server.testing.coverage_run import run_under_coverage
from codegen_server.testing.types import TestCommand, TestFailure, TestRun
from tests.support.deep_projects import JS_SUBTEST_FILES, write_project

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

FILES = {
    **JS_SUBTEST_FILES,
    # Passing tests that run `mean` only: the lines of arith.js they run are told apart from runningTotals'.
    "test/mean.test.js": '''\
const test = require('node:test');
const assert = require('node:assert');
const { mean } = require('../lib/arith.js');

test('mean of nothing', () => { assert.strictEqual(mean([]), 0); });
test('mean of two', () => { assert.strictEqual(mean([1, 3]), 2); });
''',
    # A file that never finishes: the deadline cuts the run while it waits.
    "test/zz-slow.test.js": '''\
const test = require('node:test');
const { mean } = require('../lib/arith.js');

test('waits', async () => { mean([1]); await new Promise((resolve) => setTimeout(resolve, 600000)); });
''',
}


async def test_other_files_are_a_group_each_and_a_run_cut_at_its_deadline_keeps_the_finished_ones(tmp_path: Path):
    write_project(tmp_path, FILES)
    command = TestCommand("node-test", tmp_path, argv=("node", "--test", "test/cli.test.js"))
    verdict = TestRun(command.display(), 1, passed=1, failed=1,
                      failures=[TestFailure("test/cli.test.js > cli > totals", "failed", "", file="test/cli.test.js")])
    found = await run_under_coverage(tmp_path, command, verdict, timeout=15)

    groups = {group.test_id: group for group in found.tests}
    assert set(groups) == {"the failing tests", "the passing tests of mean.test.js",
                           "the passing tests of registry.test.js"}, set(groups)  # zz-slow was cut: no group
    assert (groups["the passing tests of mean.test.js"].weight, groups["the passing tests of registry.test.js"].weight) == (2, 2)
    arith = groups["the passing tests of mean.test.js"].lines["lib/arith.js"]
    assert {2, 5} <= arith and not arith & set(range(8, 16)), arith  # mean's body, none of runningTotals'
    assert "lib/cli.js" not in groups["the passing tests of mean.test.js"].lines
    top = ochiai(Execution(g.failed, g.lines, g.weight) for g in found.tests)[0]
    assert (top.path, top.score, top.passed) == ("lib/arith.js", 1.0, 0) and 8 <= top.line <= 15, top
