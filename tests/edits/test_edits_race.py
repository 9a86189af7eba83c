"""Concurrent applies on one file lose nothing: every non-conflicting change is present, every
conflicting one is refused — across `codegen apply` processes and within one daemon (issue 12, point 8)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.files import leftovers

WRITERS = 8


def shared_file() -> str:
    """Eight well-separated settings (their diffs' context never overlaps) and one contested line."""
    out = ["contested = 0", ""]
    for k in range(WRITERS):
        out += [f"# section {k}", f"def section_{k}():", f"    value_{k} = {k}", f"    return value_{k}", "", ""]
    return "\n".join(out) + "\n"


def change(k: int) -> str:
    return (f"--- a/shared.py\n+++ b/shared.py\n@@ ... @@\n # section {k}\n def section_{k}():\n"
            f"-    value_{k} = {k}\n+    value_{k} = {k} * 100\n     return value_{k}\n")


def contest(v: int) -> str:
    return f"--- a/shared.py\n+++ b/shared.py\n@@ -1,2 +1,2 @@\n-contested = 0\n+contested = {v}\n \n"


def check_outcome(root: Path, applied_contest: list[int], writers: int = WRITERS) -> None:
    text = (root / "shared.py").read_text()
    for k in range(writers):
        assert f"    value_{k} = {k} * 100\n" in text, f"change {k} lost"
    assert len(applied_contest) == 1, f"conflicting changes applied: {applied_contest}"
    assert text.startswith(f"contested = {applied_contest[0]}\n")
    expected = shared_file().replace("contested = 0", f"contested = {applied_contest[0]}")
    for k in range(writers):
        expected = expected.replace(f"    value_{k} = {k}\n", f"    value_{k} = {k} * 100\n")
    assert text == expected
    assert leftovers(root) == []


def start_cli_applies(root: Path, patches: list[str]) -> list[subprocess.Popen]:
    """`codegen apply -` processes, each holding its patch in a still-open stdin: they all start
    importing now, and read (then apply) only once their pipes are closed."""
    procs = [subprocess.Popen([sys.executable, "-m", "codegen_server.cli", "apply", "-", "--root", str(root), "--json"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in patches]
    for proc, patch in zip(procs, patches):
        proc.stdin.write(patch)
        proc.stdin.flush()
    return procs


def wait_until_reading(procs: list[subprocess.Popen], timeout: float = 120) -> None:
    """Return once every process waits on its stdin (it has imported everything)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if all("pipe" in Path(f"/proc/{p.pid}/wchan").read_text() for p in procs):
                return
        except OSError:  # no /proc: fall back on time
            time.sleep(5)
            return
        time.sleep(0.05)


def release(procs: list[subprocess.Popen]) -> None:
    """End all the pipes at once, when every process waits on its own: the applies then race."""
    wait_until_reading(procs)
    for proc in procs:
        proc.stdin.close()


def outcomes(procs: list[subprocess.Popen]) -> list[tuple[int, dict]]:
    return [(proc.wait(timeout=120), json.loads(proc.stdout.read())) for proc in procs]


def test_parallel_codegen_apply_processes_lose_no_update(tmp_path: Path) -> None:
    (tmp_path / "shared.py").write_text(shared_file())
    writers = 4  # each process imports the whole CLI: four racing writers and two contenders
    procs = start_cli_applies(tmp_path, [change(k) for k in range(writers)] + [contest(1), contest(2)])
    release(procs)
    results = outcomes(procs)
    for code, out in results[:writers]:
        assert code == 0 and out["applied"] is True, out
    contested = [v for v, (code, out) in zip((1, 2), results[writers:]) if code == 0 and out["applied"]]
    refused = [out for code, out in results[writers:] if code == 1]
    assert len(refused) == 1 and refused[0]["applied"] is False
    assert refused[0]["failures"][0]["reason"] == "context and removed lines not found in the file"
    check_outcome(tmp_path, contested, writers)


@pytest.mark.parametrize("mode", ["disk", "client"])
async def test_concurrent_apply_diff_requests_in_one_daemon_lose_no_update(tmp_path, editor_factory, mode: str):
    (tmp_path / "shared.py").write_text(shared_file())
    editor = await editor_factory(tmp_path)
    patches = [change(k) for k in range(WRITERS)] + [contest(1), contest(2)]
    results = await asyncio.gather(*(editor.execute("codegen.applyDiff", {"diff": p, "apply": mode}) for p in patches))
    assert all(r["applied"] is True and r["failures"] == [] for r in results[:WRITERS]), results
    contested = [v for v, r in zip((1, 2), results[WRITERS:]) if r["applied"]]
    [refused] = [r for r in results[WRITERS:] if not r["applied"]]
    assert refused["reason"] == "some hunks did not apply; nothing was written"
    assert refused["failures"][0]["reason"] == "context and removed lines not found in the file"
    check_outcome(tmp_path, contested)


async def test_daemon_and_cli_writing_at_once_lose_no_update(tmp_path, editor_factory):
    (tmp_path / "shared.py").write_text(shared_file())
    editor = await editor_factory(tmp_path)
    half = WRITERS - 2  # CLI processes are slow to start: two of them, the rest over LSP
    procs = start_cli_applies(tmp_path, [change(k) for k in range(half, WRITERS)] + [contest(2)])
    await asyncio.to_thread(wait_until_reading, procs)
    # Release the processes and send the daemon its requests in the same moment.
    for proc in procs:
        proc.stdin.close()
    lsp = [editor.execute("codegen.applyDiff", {"diff": change(k), "apply": "disk"}) for k in range(half)]
    *results, lsp_c = await asyncio.gather(*lsp, editor.execute("codegen.applyDiff", {"diff": contest(1), "apply": "disk"}))
    assert all(r["applied"] for r in results), results
    cli = await asyncio.to_thread(outcomes, procs)
    assert all(code == 0 for code, _ in cli[:-1]), cli
    contested = ([1] if lsp_c["applied"] else []) + ([2] if cli[-1][0] == 0 else [])
    check_outcome(tmp_path, contested)


def test_a_writer_waits_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    """Deterministic: the lock is held here while a `codegen apply` process starts; it blocks on the lock
    (the kernel says so), writes nothing meanwhile, and applies once the lock is let go."""
    from codegen_server.edits.lock import workspace_lock

    if not Path(f"/proc/{os.getpid()}/wchan").exists():
        pytest.skip("needs /proc/<pid>/wchan to see where a process waits")
    (tmp_path / "shared.py").write_text(shared_file())
    with workspace_lock(tmp_path):
        [proc] = start_cli_applies(tmp_path, [change(0)])
        proc.stdin.close()
        deadline = time.monotonic() + 120
        while "lock" not in Path(f"/proc/{proc.pid}/wchan").read_text() and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, f"the writer did not wait for the lock: {proc.communicate()}"
        assert "lock" in Path(f"/proc/{proc.pid}/wchan").read_text()
        assert (tmp_path / "shared.py").read_text() == shared_file()
    [(code, out)] = outcomes([proc])
    assert code == 0 and out["applied"] is True, out
    assert "    value_0 = 0 * 100\n" in (tmp_path / "shared.py").read_text()
