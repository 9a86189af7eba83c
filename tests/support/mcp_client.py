"""`codegen-mcp` as an agent host runs it: a subprocess over stdio, driven by the `mcp` SDK's own client."""

from __future__ import annotations

import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


@asynccontextmanager
async def mcp_session(root: Path, env: dict[str, str]) -> AsyncIterator[ClientSession]:
    """An initialized MCP session with `codegen-mcp --root ROOT` (``python -m codegen_server.mcp``)."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "codegen_server.mcp", "--root", str(root)],
                                   env=env)
    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=sys.stderr if os.environ.get("CODEGEN_TEST_MCP_STDERR") else errlog) \
                as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


def server_pids() -> list[int]:
    """This test process's `codegen-mcp` children."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"codegen_server.mcp" in cmdline:
            pids.append(int(entry.name))
    return pids


def waiting_on_a_lock(pid: int) -> bool:
    """Whether a thread of ``pid`` sleeps in the kernel waiting for a file lock (flock)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if "lock" in (task / "wchan").read_text():
                return True
        except OSError:
            continue
    return False
