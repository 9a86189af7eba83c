"""kill -9 in the middle of a 200-file apply, and a crash after each step of a smaller one in turn: after
recovery every file is entirely old or entirely new,
nothing is missing, and no temp file, backup or journal remains (issue 12, point 7).

The applier is a forked copy of this process, killed with SIGKILL at a random moment of its write.
CI runs a bounded number of trials (a few seconds); ``CODEGEN_CRASH_TRIALS=500`` runs more.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codegen_server.edits import FileChange, recover, write_changes
from codegen_server.edits.journal import pending
from tests.support.files import leftovers, workspace_files

FILES = 200
TRIALS = int(os.environ.get("CODEGEN_CRASH_TRIALS", "12"))

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to kill an applier mid-write")


def old_text(n: int) -> str:
    return "".join(f"old {n} line {k}\n" for k in range(40))


def new_text(n: int) -> str:
    return "".join(f"NEW {n} line {k}\n" for k in range(60))


def make_workspace(root: Path) -> list[FileChange]:
    """200 changes of every kind: modified, created (in new folders), deleted, renamed."""
    changes: list[FileChange] = []
    for n in range(FILES):
        kind = ("modify", "modify", "create", "delete", "rename")[n % 5]
        path = f"pkg{n % 7}/mod{n}.py" if kind != "create" else f"fresh{n % 3}/sub/new{n}.py"
        if kind != "create":
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(old_text(n))
        if kind == "modify":
            changes.append(FileChange(path, "modify", old_text(n), new_text(n)))
        elif kind == "create":
            changes.append(FileChange(path, "create", None, new_text(n)))
        elif kind == "delete":
            changes.append(FileChange(path, "delete", old_text(n), None))
        else:
            changes.append(FileChange(path, "rename", old_text(n), new_text(n), new_path=f"moved/mod{n}.py"))
    return changes


def expected_states(changes: list[FileChange]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    before: dict[str, bytes] = {}
    after: dict[str, bytes] = {}
    for ch in changes:
        if ch.old_text is not None:
            before[ch.path] = ch.old_text.encode()
        if ch.new_text is not None:
            after[ch.new_path or ch.path] = ch.new_text.encode()
    return before, after


def run_applier(root: Path, changes: list[FileChange], kill_after: float | None) -> float:
    """Fork an applier; SIGKILL it ``kill_after`` seconds after it starts writing (None: let it finish).

    Returns how long its write ran. The child says when it starts writing, so fork and
    scheduling delays do not move the kill out of the write.
    """
    ready, tell = os.pipe()
    pid = os.fork()
    if pid == 0:  # the applier: write, then leave without running any of pytest's cleanup
        try:
            os.close(ready)
            os.write(tell, b"go")
            write_changes(root, changes)
        finally:
            os._exit(0)
    os.close(tell)
    os.read(ready, 2)
    os.close(ready)
    start = time.perf_counter()
    if kill_after is not None:
        time.sleep(kill_after)
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return time.perf_counter() - start


def test_killed_apply_is_all_old_or_all_new_after_recovery(tmp_path: Path) -> None:
    calibrate = tmp_path / "calibrate"
    calibrate.mkdir()
    duration = run_applier(calibrate, make_workspace(calibrate), None)
    assert leftovers(calibrate) == []

    rng = random.Random(12)
    outcomes = {"old": 0, "new": 0}
    interrupted = 0
    trial = 0
    # At least TRIALS kills, and more (up to a bound) until some landed inside the write.
    while trial < TRIALS or (interrupted == 0 and trial < 5 * TRIALS):
        trial += 1
        root = tmp_path / f"t{trial}"
        root.mkdir()
        changes = make_workspace(root)
        before, after = expected_states(changes)
        assert workspace_files(root) == before
        run_applier(root, changes, rng.uniform(0, duration * 1.1))
        if pending(root):
            interrupted += 1
        recover(root)
        state = workspace_files(root)
        assert state in (before, after), f"trial {trial}: mixed state after recovery"
        outcomes["old" if state == before else "new"] += 1
        assert leftovers(root) == [], f"trial {trial}: leftovers"
        # Folders the apply created are gone again when it was rolled back.
        if state == before:
            assert not (root / "fresh0").exists() and not (root / "moved").exists()
    # The test means something only if some kills landed inside the write.
    assert interrupted > 0, outcomes


def killed_mid_write(tmp_path: Path, seed: int) -> tuple[Path, dict[str, bytes], dict[str, bytes]]:
    """A workspace whose apply was killed inside its write: (root, the files before, the files after)."""
    calibrate = tmp_path / "calibrate"
    calibrate.mkdir()
    duration = run_applier(calibrate, make_workspace(calibrate), None)
    rng = random.Random(seed)
    for trial in range(50):  # until one kill lands mid-write
        root = tmp_path / f"t{trial}"
        root.mkdir()
        changes = make_workspace(root)
        before, after = expected_states(changes)
        run_applier(root, changes, rng.uniform(0.1, 0.9) * duration)
        if pending(root):
            return root, before, after
    pytest.fail("no kill landed inside the write in 50 tries")


def test_the_next_codegen_command_recovers_a_killed_apply(tmp_path: Path) -> None:
    root, before, after = killed_mid_write(tmp_path, 3)
    assert workspace_files(root) not in (before, after) or leftovers(root)
    proc = subprocess.run([sys.executable, "-m", "codegen_server.cli", "apply", "--root", str(root), "--dry-run", "-"],
                          input="nothing to apply\n", capture_output=True, text=True, timeout=60)
    assert "interrupted apply" in proc.stderr
    assert workspace_files(root) in (before, after) and leftovers(root) == []


async def test_the_daemon_recovers_a_killed_apply_when_the_session_starts(tmp_path: Path, editor_factory) -> None:
    root, before, after = killed_mid_write(tmp_path, 5)
    await editor_factory(root)  # initialize + initialized: no command is sent
    deadline = time.monotonic() + 60  # a loaded machine starts the daemon slowly; most runs take well under 1 s
    while pending(root) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert workspace_files(root) in (before, after) and leftovers(root) == []


def crash_at_step(root: Path, changes: list[FileChange], step: int) -> bool:
    """Fork an applier that dies at its ``step``-th step — a journal save, a temp file written, a rename —
    with `os._exit`, as a kill would leave it; True if it got that far (else the write finished)."""
    from codegen_server.edits import journal as journal_mod
    from codegen_server.edits import write as write_mod

    pid = os.fork()
    if pid == 0:
        try:
            done = 0

            def then_maybe_die(real):
                def wrapper(*args, **kwargs):
                    nonlocal done
                    result = real(*args, **kwargs)
                    done += 1
                    if done == step:
                        os._exit(9)
                    return result
                return wrapper

            os.replace = then_maybe_die(os.replace)
            journal_mod.save = then_maybe_die(journal_mod.save)
            write_mod._write_temp = then_maybe_die(write_mod._write_temp)
            write_changes(root, changes)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status) == 9


def test_a_crash_at_every_step_of_the_write_recovers_to_all_old_or_all_new(tmp_path: Path) -> None:
    """Deterministic: the write is stopped after each of its steps in turn. Recovery gives the old files
    for every stop before the apply is recorded complete, and the new files from then on."""
    outcomes: list[str] = []
    step = 0
    while True:
        step += 1
        root = tmp_path / f"s{step}"
        root.mkdir()
        changes = make_workspace(root)[:10]  # two of each kind
        before, after = expected_states(changes)
        before.update({path: data for path, data in workspace_files(root).items() if path not in before})
        after.update({path: data for path, data in before.items() if path not in after
                      and not any(path in (c.path, c.new_path) for c in changes)})
        if not crash_at_step(root, changes, step):
            assert workspace_files(root) == after and leftovers(root) == []
            break
        recover(root)
        state = workspace_files(root)
        assert state in (before, after), f"step {step}: mixed state after recovery"
        assert leftovers(root) == [], f"step {step}: leftovers"
        outcomes.append("old" if state == before else "new")
    # Every step was tried, the old state up to the point of no return and the new one after it.
    assert outcomes and outcomes == sorted(outcomes, key=["old", "new"].index), outcomes
    assert "old" in outcomes and "new" in outcomes and step > 20, outcomes
