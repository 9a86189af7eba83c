"""Run one command as an isolated process tree: own session, scrubbed environment,
capped output, and a timeout (or cancellation) that kills every descendant.

Descendants are found two ways: the process group (``start_new_session=True``)
catches ordinary children and grandchildren; a marker variable in the
environment catches the ones that called ``setsid()`` or double-forked out of
the group, because the environment is inherited through every fork.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MARKER_VAR = "CODEGEN_TEST_RUN_MARKER"

# Variable names that carry the model's (or any other service's) API key. Other
# credentials (a test database password, say) may be what the tests need, so stay.
_SECRET_NAME = re.compile(r"API_?KEY", re.IGNORECASE)
_SECRET_PREFIXES = ("OPENAI_", "AZURE_OPENAI_", "ANTHROPIC_", "CODEGEN_")

# Non-interactive, colourless, unbuffered: what a CI job would set.
_RUN_ENV = {
    "CI": "1",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
    "PYTHONUNBUFFERED": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}


@dataclass
class ProcessResult:
    """What the process tree did."""

    exit_code: int | None
    output: str
    timed_out: bool
    truncated: bool
    duration: float


def scrubbed_environment(base: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The environment for test runs, minus secrets; also returns the removed values
    (long enough to be worth redacting from output)."""
    source = dict(os.environ if base is None else base)
    env: dict[str, str] = {}
    secrets: list[str] = []
    for name, value in source.items():
        if _SECRET_NAME.search(name) or name.upper().startswith(_SECRET_PREFIXES):
            if len(value) >= 8:
                secrets.append(value)
            continue
        env[name] = value
    env.update(_RUN_ENV)
    return env, secrets


class _CappedBuffer:
    """Keeps the first and last ``cap // 2`` bytes of a stream and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.head_cap = cap // 2
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def write(self, chunk: bytes) -> None:
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail += chunk
        excess = len(self.tail) - self.tail_cap
        if excess > 0:
            del self.tail[:excess]
            self.dropped += excess

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def text(self) -> str:
        head = self.head.decode("utf-8", errors="replace")
        tail = self.tail.decode("utf-8", errors="replace")
        if not self.dropped:
            return head + tail
        return f"{head}\n[... {self.dropped} bytes of output truncated ...]\n{tail}"


def _marked_pids(marker: str) -> list[int]:
    """Live processes of ours whose environment carries ``marker`` (Linux /proc)."""
    needle = f"{MARKER_VAR}={marker}".encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:  # gone, or not ours
            continue
    return found


def _signal_tree(pgid: int, marker: str, sig: int) -> bool:
    """Send ``sig`` to the process group and to every marked escapee; True if anything was signalled."""
    hit = False
    try:
        os.killpg(pgid, sig)
        hit = True
    except (ProcessLookupError, PermissionError):
        pass
    for pid in _marked_pids(marker):
        try:
            os.kill(pid, sig)
            hit = True
        except (ProcessLookupError, PermissionError):
            pass
    return hit


async def _kill_tree(proc: asyncio.subprocess.Process, marker: str, grace: float) -> None:
    """SIGTERM the tree, give it ``grace`` seconds, then SIGKILL whatever is left."""
    if proc.returncode is None:
        _signal_tree(proc.pid, marker, signal.SIGTERM)
        await _exited(proc, grace)
    await _reap_leftovers(proc.pid, marker)
    await _exited(proc, None)


async def _exited(proc: asyncio.subprocess.Process, timeout: float | None) -> bool:
    """Wait until the process itself has exited; True if it did within ``timeout``.

    ``Process.wait()`` is not used because on some Python versions it also waits
    for the output pipes to close, which a stray grandchild can hold open.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.005
    while proc.returncode is None:
        if deadline is not None and time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.02)
    return True


async def _reap_leftovers(pgid: int, marker: str) -> None:
    """SIGKILL the group and escapees until none remain (a forking process may add more)."""
    for _ in range(50):
        if not _signal_tree(pgid, marker, signal.SIGKILL):
            return
        if not _marked_pids(marker):
            return
        await asyncio.sleep(0.01)


async def run_process_tree(
    cwd: Path,
    *,
    argv: Sequence[str] | None = None,
    shell: str | None = None,
    env: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
    timeout: float = 300,
    output_cap: int = 2_000_000,
    kill_grace: float = 2.0,
) -> ProcessResult:
    """Run ``argv`` (or ``shell`` via /bin/sh) in ``cwd`` with stdout and stderr merged.

    On timeout, and when the awaiting task is cancelled, the whole tree is killed
    (SIGTERM, then SIGKILL after ``kill_grace``) before returning or re-raising.
    Processes the command leaves behind after it exits are killed too, so a
    stray background child cannot hold the output pipe open. ``secrets`` are
    replaced by ``***`` in the captured output.
    """
    marker = uuid.uuid4().hex
    run_env = dict(env if env is not None else scrubbed_environment()[0])
    run_env[MARKER_VAR] = marker
    common = dict(
        cwd=str(cwd),
        env=run_env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    started = time.monotonic()
    if shell is not None:
        proc = await asyncio.create_subprocess_exec("/bin/sh", "-c", shell, **common)
    elif argv:
        proc = await asyncio.create_subprocess_exec(*argv, **common)
    else:
        raise ValueError("run_process_tree needs argv or shell")

    buffer = _CappedBuffer(output_cap)

    async def pump() -> None:
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            buffer.write(chunk)

    reader = asyncio.create_task(pump())
    timed_out = False
    try:
        if await _exited(proc, timeout):
            await _reap_leftovers(proc.pid, marker)
        else:
            timed_out = True
            await _kill_tree(proc, marker, kill_grace)
        try:
            await asyncio.wait_for(asyncio.shield(reader), 5.0)
        except asyncio.TimeoutError:
            # An unmarked escapee still holds the pipe; what we have is enough.
            reader.cancel()
    except asyncio.CancelledError:
        reader.cancel()
        await asyncio.shield(_kill_tree(proc, marker, kill_grace))
        raise

    output = buffer.text()
    for secret in secrets:
        output = output.replace(secret, "***")
    return ProcessResult(
        exit_code=proc.returncode,
        output=output,
        timed_out=timed_out,
        truncated=buffer.truncated,
        duration=time.monotonic() - started,
    )
