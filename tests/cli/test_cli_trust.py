"""What the `codegen` CLI tells a user about state it will not use, and about its own failures.

- a warning about ignored workspace state (a crash journal a clone carries) is a plain
  `codegen: warning: ...` line on stderr, not a log record;
- codegen's own key readable by others fails a command with one line saying what to do;
- an error no command expected is one line and exit status 1; its traceback only with --debug.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.cli import codegen, env_for
from tests.support.hostile import hostile_clone

_LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")


def plant_journal(repo: Path, outside: Path) -> None:
    writer = repo / ".codegen" / "writer"
    writer.mkdir(parents=True)
    (writer / "journal.2-committing.json").write_text(json.dumps({"state": "committing", "dirs": [], "entries": [
        {"path": "../outside/secret.txt", "temp": ".nope.codegen-tmp", "backup": None}]}))


def test_a_warning_about_ignored_state_is_a_plain_line(tmp_path):
    clone, outside = hostile_clone(tmp_path, plant_journal)
    for args in (["memory"], ["context", "anything"], ["apply", "--dry-run", "-"]):
        done = codegen(*args, "--root", str(clone), env=env_for(None), stdin="")
        lines = done.stderr.splitlines()
        warnings = [line for line in lines if "journal.2-committing.json" in line]
        assert len(warnings) == 1 and warnings[0].startswith("codegen: warning: ignored "), done.stderr
        assert not [line for line in lines if _LOG_RECORD.match(line) or "codegen.trust" in line], done.stderr
    assert outside.changes() == []


def test_a_key_others_can_read_is_one_clear_line(tmp_path):
    state = tmp_path / "state"
    (state / "codegen").mkdir(parents=True)
    key = state / "codegen" / "key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)
    env = {**env_for("http://127.0.0.1:9/v1"), "XDG_STATE_HOME": str(state)}
    for args in (["clarify", "a calculator"], ["fix", "--test-cmd", "false"]):
        done = codegen(*args, "--root", str(tmp_path), env=env)
        assert done.returncode == 1, done.stderr
        [line] = [line for line in done.stderr.splitlines() if str(key) in line]
        assert line.startswith("codegen: ") and "chmod 600" in line, done.stderr
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def _in_a_removed_folder(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`codegen ARGS` started in a folder that was removed after the shell entered it."""
    gone = tmp_path / "gone"
    gone.mkdir()
    script = ("import os, sys, runpy; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); "
              "sys.argv = ['codegen', *sys.argv[2:]]; runpy.run_module('codegen_server.cli', run_name='__main__')")
    env = {**env_for(None), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-c", script, str(gone), *args], env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_an_unexpected_error_is_one_line_and_its_traceback_only_with_debug(tmp_path):
    done = _in_a_removed_folder(tmp_path, "context", "anything")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("codegen: ") and "No such file or directory" in line
    debug = _in_a_removed_folder(tmp_path, "--debug", "context", "anything")
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.splitlines()[0] == line
