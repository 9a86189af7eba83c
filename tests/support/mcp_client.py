"""`codegen-mcp` as an agent host runs it: a subprocess over stdio, driven by the `mcp` SDK's own client."""

from __future__ import annotations

import os
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client


@asynccontextmanager
async def mcp_session(root: Path, env: dict[str, str], *, as_host_root: bool = False) -> AsyncIterator[ClientSession]:
    """An initialized MCP session with `codegen-mcp --root ROOT` (``python -m codegen_server.mcp``).

    ``as_host_root``: no --root; the client lists ROOT as its root and starts the server in ROOT's parent.
    """
    args = ["-m", "codegen_server.mcp"] + ([] if as_host_root else ["--root", str(root)])
    params = StdioServerParameters(command=sys.executable, args=args, env=env,
                                   cwd=str(root.parent) if as_host_root else None)

    async def list_roots(context) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri=root.as_uri(), name="workspace")])

    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=sys.stderr if os.environ.get("CODEGEN_TEST_MCP_STDERR") else errlog) \
                as (read, write):
            async with ClientSession(read, write, list_roots_callback=list_roots if as_host_root else None) as session:
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
