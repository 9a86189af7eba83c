"""The process-tree runner: timeouts and cancellation kill every descendant, output is
capped, secrets stay out."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from codegen_server.testing import TestCommand, run_tests
from codegen_server.testing.process import run_process_tree
from tests.support.processes import is_alive, processes_running


def read_pids(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


async def wait_for_file(path: Path, timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.05)):
        if path.exists() and path.read_text().strip():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def write_script(root: Path, name: str, body: str) -> TestCommand:
    (root / name).write_text(textwrap.dedent(body))
    return TestCommand(kind="custom", cwd=root, argv=(sys.executable, name))


# A grandchild in the group, one that left the group with setsid, and the
# test itself hanging while ignoring SIGTERM, so SIGKILL has to follow.
HANGING = """
    import os, signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    grandchild = subprocess.Popen(["sleep", "300"])
    escapee = subprocess.Popen(["sleep", "301"], start_new_session=True)
    with open("pids.txt", "w") as f:
        f.write(f"{grandchild.pid} {escapee.pid}\\n")
    print("started", flush=True)
    time.sleep(300)
"""


async def test_hung_pytest_test_is_killed_with_its_grandchildren(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_hang.py").write_text(
        "def test_hangs():\n" + textwrap.indent(textwrap.dedent(HANGING), "    ")
    )
    command = TestCommand(
        kind="pytest", cwd=tmp_path, argv=(sys.executable, "-m", "pytest", "-s"), report="junit-xml"
    )

    run = await run_tests(tmp_path, command, timeout=4)

    assert run.timed_out and not run.green
    assert run.failures[-1].test_id == "<timeout>"
    pids = read_pids(tmp_path / "pids.txt")
    assert len(pids) == 2
    assert not [pid for pid in pids if is_alive(pid)]


async def test_fork_happy_process_does_not_escape_the_kill(tmp_path: Path) -> None:
    command = write_script(
        tmp_path,
        "forker.py",
        """
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for i in range(60):
            pid = os.fork()
            if pid == 0:
                if i % 2:
                    os.setsid()  # half of them leave the process group
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                time.sleep(300)
                os._exit(0)
            with open("pids.txt", "a") as f:
                f.write(f"{pid}\\n")
            time.sleep(0.02)
        time.sleep(300)
        """,
    )

    run = await run_tests(tmp_path, command, timeout=2)

    assert run.timed_out
    pids = read_pids(tmp_path / "pids.txt")
    assert len(pids) >= 10
    assert not [pid for pid in pids if is_alive(pid)]


async def test_cancelling_the_task_kills_the_tree(tmp_path: Path) -> None:
    command = write_script(tmp_path, "hang.py", HANGING)
    task = asyncio.create_task(run_tests(tmp_path, command, timeout=120))
    await wait_for_file(tmp_path / "pids.txt")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    pids = read_pids(tmp_path / "pids.txt")
    assert len(pids) == 2
    assert not [pid for pid in pids if is_alive(pid)]


async def test_background_leftovers_are_killed_and_do_not_hold_the_run(tmp_path: Path) -> None:
    command = TestCommand(kind="custom", cwd=tmp_path, shell="sleep 300 & echo $! > pids.txt; echo done")

    run = await run_tests(tmp_path, command, timeout=60)

    assert not run.timed_out and run.exit_code == 0 and run.green
    assert "done" in run.output
    assert not is_alive(read_pids(tmp_path / "pids.txt")[0])


async def test_output_is_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    command = write_script(
        tmp_path,
        "noisy.py",
        """
        print("FIRST LINE")
        for i in range(200_000):
            print(f"line {i:06d} of filler text")
        print("LAST LINE")
        """,
    )

    run = await run_tests(tmp_path, command, output_cap=20_000)

    assert run.truncated and run.exit_code == 0
    assert run.output.startswith("FIRST LINE")
    assert run.output.rstrip().endswith("LAST LINE")
    assert "bytes of output truncated" in run.output
    assert len(run.output) < 21_000


async def test_model_secrets_are_not_in_the_environment_or_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-live-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("CODEGEN_API_KEY", "codegen-secret-value")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-secret-value")
    monkeypatch.setenv("SOME_SERVICE_API_KEY", "service-secret-value")
    monkeypatch.setenv("HARMLESS_SETTING", "kept")
    # Not named like keys, but the model's endpoint and codegen's own settings stay out too.
    settings = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_ORG_ID": "org-test", "CODEGEN_MODEL": "m",
                "ANTHROPIC_AUTH_TOKEN": "ant-token-value", "AZURE_OPENAI_ENDPOINT": "https://azure.invalid"}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    command = TestCommand(kind="custom", cwd=tmp_path, shell=f"env; echo leaked={secret}")

    run = await run_tests(tmp_path, command)

    assert "HARMLESS_SETTING=kept" in run.output
    for name in ("OPENAI_API_KEY", "CODEGEN_API_KEY", "AZURE_OPENAI_API_KEY", "SOME_SERVICE_API_KEY", *settings):
        assert name not in run.output
    assert secret not in run.output
    assert "leaked=***" in run.output


async def test_runs_do_not_block_the_event_loop(tmp_path: Path) -> None:
    # The child exits only once a coroutine on the same loop has answered it: a run that
    # blocked the loop would never let that coroutine run, and the child would time out.
    asked, answer = tmp_path / "asked", tmp_path / "answer"

    async def answerer() -> None:
        while not asked.exists():
            await asyncio.sleep(0.02)
        answer.write_text("go")

    answering = asyncio.create_task(answerer())
    script = f"touch {asked}; i=0; while [ ! -f {answer} ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done; test -f {answer}"
    result = await run_process_tree(tmp_path, shell=script, timeout=60)
    answering.cancel()

    assert result.exit_code == 0, result.output


async def test_nonzero_exit_without_listed_failures_is_not_green(tmp_path: Path) -> None:
    command = TestCommand(kind="custom", cwd=tmp_path, shell="echo 'compile error in main.c' >&2; exit 3")

    run = await run_tests(tmp_path, command)

    assert not run.green and run.exit_code == 3
    assert run.failures[0].test_id == "<run>"
    assert "compile error in main.c" in run.failures[0].output


async def test_processes_that_clear_their_environment_and_leave_the_session_are_killed(tmp_path: Path) -> None:
    """`setsid env -i sleep` escapes the process group and the marker variable: ancestry still finds it."""
    shell = ("setsid env -i sleep 4321 & "
             "setsid sh -c 'env -i sleep 4322 & exit 0' & "  # a double fork: its parent is gone at once
             "sleep 0.3; echo started")
    try:
        result = await run_process_tree(tmp_path, shell=shell, timeout=60)
        assert "started" in result.output and result.exit_code == 0
        # Killed when the run ended: waited for (a kill takes effect a moment later), not a fixed time.
        gone = await until(lambda: not processes_running("sleep 4321") and not processes_running("sleep 4322"))
        assert gone, (processes_running("sleep 4321"), processes_running("sleep 4322"))
    finally:
        for pid in processes_running("sleep 4321") + processes_running("sleep 4322"):
            os.kill(pid, signal.SIGKILL)


async def test_a_run_ending_does_not_kill_what_another_running_run_left_in_the_background(tmp_path: Path) -> None:
    """Two runs at once (a fix loop and a feedback check): the orphans of one are not the other's."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    # The first run leaves a background job whose parent exits at once (an orphan, re-parented to us),
    # after the second run started; the second run ends while that job still sleeps.
    shell = "sleep 0.5; ( (sleep 2; echo survived > flag) & ); sleep 4; cat flag"
    long_run, short_run = await asyncio.gather(
        run_process_tree(first, shell=shell, timeout=60),
        run_process_tree(second, shell="sleep 1", timeout=60))
    assert short_run.exit_code == 0
    assert "survived" in long_run.output, long_run.output


async def until(condition, timeout: float = 30.0) -> bool:
    """Whether ``condition()`` came true within ``timeout`` seconds (polled: an event awaited, not a fixed time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def _zombie_children() -> set[int]:
    """Our children that exited and were never waited for."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == os.getpid():
                found.add(int(entry))
    return found


async def test_the_leftovers_a_run_kills_are_reaped_not_left_as_zombies(tmp_path: Path) -> None:
    """Orphans are re-parented to us (a subreaper): once killed, we must wait for them, or a daemon
    that runs tests all day fills the process table with zombies."""
    before = _zombie_children()
    shell = "setsid sh -c 'sleep 4400 & exit 0' & (sleep 4401 &); sleep 0.2; echo started"
    for _ in range(15):
        result = await run_process_tree(tmp_path, shell=shell, timeout=60)
        assert "started" in result.output
    # Once every leftover has died (killed), a zombie left among them would stay: wait for the reaping.
    assert await until(lambda: not processes_running("sleep 4400") and not processes_running("sleep 4401"))
    reaped = await until(lambda: not _zombie_children() - before)
    assert reaped, _zombie_children() - before
