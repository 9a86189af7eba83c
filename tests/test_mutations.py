"""The safety checks are each pinned by a test: disable one, and the suite must fail.

Each case copies the package and the tests into a scratch folder, breaks one check there (the
all-or-nothing refusal of a multi-file patch, the path checks, the stale-file check), and runs the
tests that guard it against the broken copy. A guard test that still passes would let that check
rot unnoticed, so this test fails then. The working tree is never modified.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: (name, file, text to break, broken text, the tests that must catch it)
MUTATIONS = [
    ("all-or-nothing guard", "codegen_server/workflows/apply.py",
     "    if plan.failures and not salvage:\n", "    if False:\n",
     ["tests/edits/test_edits_refusals.py", "tests/server/test_apply_diff_over_lsp.py", "-k", "multi_file"]),
    ("'..' path check", "codegen_server/edits/paths.py",
     '    if ".." in parts:\n', "    if False:\n",
     ["tests/edits/test_edits_refusals.py", "-k", "outside_root"]),
    ("absolute path check", "codegen_server/edits/paths.py",
     '    if path.startswith("/") or _WINDOWS_DRIVE.match(raw.strip()):\n', "    if False:\n",
     ["tests/edits/test_edits_refusals.py", "tests/edits/test_edits_integrity.py", "-k", "outside_root or absolute"]),
    ("symlink escape check", "codegen_server/edits/paths.py",
     "    if target != root_real and not target.startswith(root_real.rstrip(os.sep) + os.sep):\n",
     "    if False:\n",
     ["tests/edits/test_edits_refusals.py", "-k", "symlink_escape"]),
    (".git/.codegen check", "codegen_server/edits/paths.py",
     '_PROTECTED = {".git": ".git/", ".codegen": ".codegen/"}', "_PROTECTED = {}",
     ["tests/edits/test_edits_integrity.py", "tests/edits/test_edits_refusals.py", "-k", "codegen or git"]),
    ("stale-file check", "codegen_server/edits/write.py",
     "            if on_disk != ch.old_text:\n", "            if False:\n",
     ["tests/edits/test_edits_write.py", "-k", "stale or planned or changed"]),
]


@pytest.mark.parametrize("name, path, old, new, guards", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_disabling_a_safety_check_fails_its_tests(tmp_path: Path, name: str, path: str, old: str, new: str,
                                                  guards: list[str]) -> None:
    copy = tmp_path / "repo"
    for folder in ("codegen_server", "tests", "preprompts"):
        shutil.copytree(REPO / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    target = copy / path
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the check to break is no longer in {path}: update this mutation"
    target.write_text(text.replace(old, new), encoding="utf-8")

    # The copy comes first on the path, for the tests and for every daemon or CLI they start.
    env = {**os.environ, "PYTHONPATH": str(copy), "CODEGEN_CRASH_TRIALS": "2"}
    env.pop("CI", None)  # a guard test that skips in the copy must not read as a failure
    where = subprocess.run([sys.executable, "-c", "import codegen_server; print(codegen_server.__file__)"],
                           cwd=copy, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(copy), f"the broken copy is not the one imported: {where}"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *guards],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    summary = (done.stdout.strip().splitlines() or [done.stderr[-500:]])[-1]
    assert done.returncode == 1, f"with the {name} disabled the guard tests still pass: {summary}"
    assert "failed" in summary, summary
