"""Measuring both sides of a benchmark the same way: a process tree's peak RSS, one tokenizer.

A process's own `ru_maxrss` leaves out its children (codegen's parse workers, say), and peers
report their own figures their own way; here the parent samples every process of the child's
tree from /proc (Linux) and sums their RSS, for codegen and its peers alike. Map sizes are
counted with one tokenizer for every side: tiktoken's cl100k_base, as codegen counts its own.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

#: How often the tree is sampled: a peak shorter than this can be missed (said next to the figure).
SAMPLE_SECONDS = 0.02
RSS_CONDITION = (f"peak RSS: the whole process tree (workers included), summed from /proc every "
                 f"{SAMPLE_SECONDS * 1000:.0f} ms, on both sides")
TOKENS_CONDITION = "map tokens: tiktoken cl100k_base on both sides"


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    #: The largest sum of the tree's RSS seen, in MB (0.0 where /proc cannot be read).
    peak_tree_rss_mb: float
    timed_out: bool = False


def _parents() -> dict[int, int]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            found[int(entry)] = int(fields[1])
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss_mb(root_pid: int) -> float:
    """The summed RSS of ``root_pid`` and all its descendants now, in MB."""
    parents = _parents()
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return sum(_rss_kb(pid) for pid in tree) / 1024


def run_measured(argv: list[str], *, env: dict[str, str] | None = None, timeout: float | None = None) -> Measured:
    """Run ``argv`` to its end, sampling its process tree's RSS; the peak comes with its output."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            peak[0] = max(peak[0], tree_rss_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        timed_out = True
    finally:
        done.set()
        sampler.join()
    return Measured(process.returncode, stdout, stderr, peak[0], timed_out)


def cl100k_tokens(text: str) -> int:
    """``text``'s size in cl100k_base tokens, counted offline as codegen counts its own maps."""
    from codegen_server.context.tokens import count_tokens

    return count_tokens(text, "cl100k_base")
