"""Which processes are still alive: for tests that check a run leaves none behind."""

from __future__ import annotations

from pathlib import Path


def is_alive(pid: int) -> bool:
    """A process counts as gone once it is reaped or a zombie (killed, awaiting reaping)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def processes_running(command_line: str) -> list[int]:
    """Live processes whose command line is exactly ``command_line`` (split on spaces)."""
    wanted = command_line.encode().split(b" ")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes().split(b"\0")[:-1] == wanted and is_alive(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found
