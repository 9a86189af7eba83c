"""Run one command as an isolated process tree: own session, scrubbed environment,
capped output, and a timeout (or cancellation) that kills every descendant.

Every process the run started is tracked, and all of them are killed when the
run ends, whether it passed, timed out or was cancelled. They are found by:

- the process group and session (``start_new_session=True``): ordinary children;
- ancestry in /proc: descendants that called ``setsid()`` or cleared their
  environment (``setsid env -i sleep 9 &``). This process is a child subreaper
  (Linux ``PR_SET_CHILD_SUBREAPER``), so a descendant whose parent exited is
  re-parented to us instead of to init and keeps a line of descent to us; where
  that is not possible, ancestry is sampled while the run goes on;
- a marker variable in the environment, inherited through every fork unless
  the environment is cleared.

(No cgroup: where codegen runs, a delegated cgroup v2 is rarely writable.)
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..redaction import known_secrets
from ..secret_env import is_secret_name

MARKER_VAR = "CODEGEN_TEST_RUN_MARKER"

# Variables named like an API key (``is_secret_name``) and codegen's own settings stay out of
# test runs. Other credentials (a test database password, say) may be what the tests need, so stay.
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
    """The environment for test runs, minus secrets; also returns the values to redact from their output:
    the removed ones and those ``secret_env.forget_secrets`` already took out of this process (long
    enough to be worth redacting)."""
    source = dict(os.environ if base is None else base)
    env: dict[str, str] = {}
    secrets: list[str] = known_secrets()
    for name, value in source.items():
        if is_secret_name(name) or name.upper().startswith(_SECRET_PREFIXES):
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


@dataclass(frozen=True)
class _Stat:
    pid: int
    ppid: int
    pgid: int
    sid: int
    state: str
    start: int  # clock ticks after boot: with the pid, names one process even after pid reuse


def _read_stat(pid: int | str) -> _Stat | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    return _Stat(pid=int(pid), state=fields[0], ppid=int(fields[1]), pgid=int(fields[2]), sid=int(fields[3]),
                 start=int(fields[19]))


def _all_processes() -> dict[int, _Stat]:
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    found = {}
    for entry in entries:
        if entry.isdigit() and (stat := _read_stat(entry)) is not None:
            found[stat.pid] = stat
    return found


def _clock_ticks() -> int | None:
    """Now, in the unit of /proc/<pid>/stat's start time (clock ticks since boot), a tick early."""
    try:
        with open("/proc/uptime") as f:
            return int(float(f.read().split()[0]) * os.sysconf("SC_CLK_TCK")) - 1
    except (OSError, ValueError):
        return None


_subreaper = False


def _become_subreaper() -> None:
    """Make orphaned descendants our children instead of init's (Linux), once per process."""
    global _subreaper
    if _subreaper or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


#: Roots of the process trees running now, so an orphan is not taken for another run's root.
_running_roots: set[int] = set()


@dataclass
class ProcessTracker:
    """Every process one run started, by pid and start time (so a reused pid is never killed)."""

    root: int
    marker: str
    known: dict[int, int] = field(default_factory=dict)
    since: int | None = None

    def scan(self) -> None:
        """Add what descends from the run now (blocking /proc reads: call it off the event loop)."""
        processes = _all_processes()
        root = processes.get(self.root)
        if root is not None and self.since is None:
            self.since = root.start
        if self.since is None:
            return
        if root is not None and root.start >= self.since:
            self.known[root.pid] = root.start
        own, own_sid = os.getpid(), os.getsid(0)
        others = _running_roots - {self.root}
        children: dict[int, list[int]] = {}
        frontier = []
        for stat in processes.values():
            children.setdefault(stat.ppid, []).append(stat.pid)
            if stat.start < self.since:
                continue
            in_session = stat.sid == self.root or stat.pgid == self.root
            # Re-parented to us (the subreaper) after its parent exited, and not one of ours, nor in
            # the session or group of another run going on now (that run kills it when it ends).
            orphan = (stat.ppid == own and stat.sid != own_sid and stat.pid not in _running_roots
                      and stat.sid not in others and stat.pgid not in others)
            if in_session or orphan or self.known.get(stat.pid) == stat.start:
                frontier.append(stat.pid)
        seen: set[int] = set()
        while frontier:
            pid = frontier.pop()
            if pid in seen or pid == own:
                continue
            seen.add(pid)
            stat = processes[pid]
            if self.known.get(pid, stat.start) != stat.start:
                continue  # a pid reused by a process that is not ours
            self.known[pid] = stat.start
            frontier.extend(children.get(pid, []))

    def alive(self) -> list[int]:
        """Tracked processes still running (not zombies), the root excluded: asyncio reaps it."""
        alive = []
        for pid, start in list(self.known.items()):  # a sampling thread may still be adding
            stat = _read_stat(pid)
            if pid != self.root and stat is not None and stat.start == start and stat.state not in "ZX":
                alive.append(pid)
        return alive

    def reap(self) -> None:
        """Collect the exit status of tracked processes that became our children (so no zombies stay)."""
        own = os.getpid()
        for pid, start in list(self.known.items()):
            stat = _read_stat(pid)
            if pid != self.root and stat is not None and stat.start == start and stat.ppid == own:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass


def _signal_tree(pgid: int, marker: str, sig: int, tracker: ProcessTracker | None = None) -> bool:
    """Send ``sig`` to the process group, every tracked process and every marked escapee; True if any got it."""
    hit = False
    try:
        os.killpg(pgid, sig)
        hit = True
    except (ProcessLookupError, PermissionError):
        pass
    pids = set(_marked_pids(marker))
    if tracker is not None:
        tracker.scan()
        pids.update(tracker.alive())
    for pid in pids:
        try:
            os.kill(pid, sig)
            hit = True
        except (ProcessLookupError, PermissionError):
            pass
    return hit


async def _kill_tree(proc: asyncio.subprocess.Process, marker: str, grace: float,
                     tracker: ProcessTracker | None = None) -> None:
    """SIGTERM the tree, give it ``grace`` seconds, then SIGKILL whatever is left."""
    if proc.returncode is None:
        await asyncio.to_thread(_signal_tree, proc.pid, marker, signal.SIGTERM, tracker)
        await _exited(proc, grace)
    await _reap_leftovers(proc.pid, marker, tracker)
    await _exited(proc, None)


async def _track(tracker: ProcessTracker, every: float = 0.05) -> None:
    """Sample the run's descendants until cancelled, where orphans are not re-parented to us.

    As a subreaper we see every orphan at the end anyway, so no sampling is needed
    (a scan of /proc costs several milliseconds: sampling it all run long is not free).
    """
    if _subreaper:
        return
    while True:
        await asyncio.to_thread(tracker.scan)
        await asyncio.sleep(every)


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


async def _reap_leftovers(pgid: int, marker: str, tracker: ProcessTracker | None = None) -> None:
    """SIGKILL the group, the tracked processes and escapees until none remain (a forking process may add more)."""
    def sweep() -> bool:
        hit = _signal_tree(pgid, marker, signal.SIGKILL, tracker)
        if tracker is not None:
            tracker.reap()
        return hit and bool(_marked_pids(marker) or (tracker and tracker.alive()))

    deadline = time.monotonic() + 5.0  # a killed process can take a moment to die on a loaded machine
    while time.monotonic() < deadline:
        if not await asyncio.to_thread(sweep):
            break
        await asyncio.sleep(0.01)
    if tracker is not None:
        # The sweep stops once none is alive, and the last killed may have died after its reap:
        # wait for those that became our children (orphans), or they stay zombies for good.
        await asyncio.to_thread(tracker.reap)


async def _stop(task: asyncio.Task) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


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
    _become_subreaper()
    since = await asyncio.to_thread(_clock_ticks)  # only what starts from now on can be the run's
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
    tracker = ProcessTracker(proc.pid, marker, since=since)
    _running_roots.add(proc.pid)
    tracking = asyncio.create_task(_track(tracker))
    timed_out = False
    try:
        if await _exited(proc, timeout):
            await _stop(tracking)
            await _reap_leftovers(proc.pid, marker, tracker)
        else:
            timed_out = True
            await _stop(tracking)
            await _kill_tree(proc, marker, kill_grace, tracker)
        try:
            await asyncio.wait_for(asyncio.shield(reader), 5.0)
        except asyncio.TimeoutError:
            # Something we could not track still holds the pipe; what we have is enough.
            reader.cancel()
    except asyncio.CancelledError:
        reader.cancel()
        tracking.cancel()
        await asyncio.shield(_kill_tree(proc, marker, kill_grace, tracker))
        raise
    finally:
        _running_roots.discard(proc.pid)

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
