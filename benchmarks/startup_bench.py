"""Start-up benchmark: how long a user waits for codegen's commands, next to their peers, in one run.

    python benchmarks/startup_bench.py [--runs 21]

Wall time from spawn to exit (median and fastest of --runs), each command as the user runs it
(the console scripts next to this interpreter):
  `codegen --help`, `codegen context --help`, and `codegen apply` of a one-hunk patch (exit 0)
  next to `git apply` of the same patch; `codegen-server` from spawn to its `initialize`
  answer over stdio. `python -c pass` is the interpreter's own floor.
Targets (issue 14): 120 ms for each command, 150 ms for `initialize`. The machine's load
(/proc/loadavg) is printed with the figures: on a shared 2-core machine they move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
TARGETS_MS = {"codegen --help": 120.0, "codegen context --help": 120.0, "codegen apply (one hunk)": 120.0,
              "codegen-server initialize": 150.0}
BEFORE = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"
PATCH = ("--- a/calc.py\n+++ b/calc.py\n@@ -1,5 +1,5 @@\n def add(a, b):\n-    return a - b\n+    return a + b\n \n \n"
         " def sub(a, b):\n")


@dataclass
class Timing:
    name: str
    median_ms: float
    fastest_ms: float
    #: Median CPU time (user + system) of the process: less sensitive to other load than wall time.
    cpu_ms: float
    runs: int


def _children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def time_command(name: str, argv: list[str], cwd: Path, runs: int, reset: Path | None = None) -> Timing:
    """Wall time of ``argv`` from spawn to exit; ``reset`` restores the patched file before each run."""
    samples, cpu = [], []
    for _ in range(runs):
        if reset is not None:
            reset.write_text(BEFORE)
        cpu_before = _children_cpu_ms()
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append(_children_cpu_ms() - cpu_before)
        if done.returncode != 0:
            raise SystemExit(f"{name}: exit {done.returncode}: {done.stderr.decode(errors='replace')}")
    return Timing(name, statistics.median(samples), min(samples), statistics.median(cpu), runs)


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_message(stream) -> dict:  # noqa: ANN001
    length = None
    while True:
        line = stream.readline()
        if not line:
            raise SystemExit("codegen-server closed its output before answering")
        if line in (b"\r\n", b"\n"):
            break
        key, _, value = line.decode().partition(":")
        if key.strip().lower() == "content-length":
            length = int(value)
    return json.loads(stream.read(length))


PYGLS_PEER = "from pygls.lsp.server import LanguageServer\nLanguageServer('peer', '1').start_io()\n"


def time_initialize(name: str, argv: list[str], root: Path, runs: int) -> tuple[Timing, Timing]:
    """Spawn a language server over stdio: time to its `initialize` answer, and to its first answer after
    `initialized` (a `shutdown`), when it is loaded and serving; then let it exit."""
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                  "params": {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}}}
    answered, ready, cpu = [], [], []
    for _ in range(runs):
        cpu_before = _children_cpu_ms()
        started = time.perf_counter()
        server = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        server.stdin.write(_frame(initialize))
        server.stdin.flush()
        while (answer := _read_message(server.stdout)).get("id") != 1:
            pass
        answered.append((time.perf_counter() - started) * 1000)
        assert "capabilities" in answer.get("result", {}), answer
        server.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        server.stdin.write(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        server.stdin.flush()
        while _read_message(server.stdout).get("id") != 2:
            pass
        ready.append((time.perf_counter() - started) * 1000)
        server.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
        server.stdin.close()
        server.wait(timeout=60)
        cpu.append(_children_cpu_ms() - cpu_before)
    # Its CPU time covers the whole life (start, initialize, shutdown, exit), not only the answer.
    return (Timing(f"{name} initialize", statistics.median(answered), min(answered), statistics.median(cpu), runs),
            Timing(f"{name} ready", statistics.median(ready), min(ready), statistics.median(cpu), runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21, help="runs per command (default: 21)")
    args = parser.parse_args()
    git = shutil.which("git")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        target = root / "calc.py"
        (root / "fix.diff").write_text(PATCH)
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        rows = [
            time_command("python -c pass (floor)", [sys.executable, "-c", "pass"], root, args.runs),
            time_command("codegen --help", [str(BIN / "codegen"), "--help"], root, args.runs),
            time_command("codegen context --help", [str(BIN / "codegen"), "context", "--help"], root, args.runs),
            time_command("codegen apply (one hunk)", [str(BIN / "codegen"), "apply", "fix.diff"], root, args.runs,
                         reset=target),
        ]
        if git:
            subprocess.run([git, "init", "-q"], cwd=root, check=True)
            rows.append(time_command("git apply (peer)", [git, "apply", "fix.diff"], root, args.runs, reset=target))
        rows += time_initialize("codegen-server", [str(BIN / "codegen-server")], root, args.runs)
        peer = root / "pygls_peer.py"
        peer.write_text(PYGLS_PEER)
        rows += time_initialize("bare pygls server (peer)", [sys.executable, str(peer)], root, args.runs)
        load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average (1/5/15 min) before: {' '.join(load_before)}, after: {' '.join(load_after)} "
          f"on {os.cpu_count()} cores")
    print(f"{'command':<38} {'median ms':>10} {'fastest ms':>11} {'cpu ms':>8} {'target ms':>10}")
    for row in rows:
        target_ms = TARGETS_MS.get(row.name)
        print(f"{row.name:<38} {row.median_ms:>10.1f} {row.fastest_ms:>11.1f} {row.cpu_ms:>8.1f} "
              f"{'' if target_ms is None else f'{target_ms:.0f}':>10}")
    print("(wall: spawn to exit, to the initialize answer, or to the first answer after it (ready); cpu: user +"
          " system of the process, for a server its whole life)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
