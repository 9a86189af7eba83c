"""A one-line apply that can be undone, on Django's tree: codegen.applyDiff over LSP next to git.

    python benchmarks/apply_run_bench.py [--django-version 5.2.19] [--runs 10]

Every codegen run that writes (an apply, a feedback comment, a marker run, a fix) first checkpoints
the workspace so that undo can take it back; what that costs is paid on every such request. Here a
`codegen-server` subprocess (a real LSP client over stdio, apply "disk") applies a one-line diff to
django/db/models/query.py, then its reverse, `--runs` times each, on a copy of the Django tree
(benchmarks/.cache, as context_bench.py fetches it). Timed: each request's round trip; the first
apart (the first checkpoint of the workspace), then the median of the rest; and how much `.codegen/`
grew, the same way.

Peer, measured the same way (each edit a round trip of fresh processes, the same diffs, the same
tree in a git repository): Aider's way of making an edit undoable, the edit written and committed
(`git apply`, then `git commit -a`, as Aider's /undo resets such a commit); its growth is `.git/`'s.
The load average is printed alongside.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# This checkout's codegen, not whichever one the venv's editable install points at; the daemon inherits it.
sys.path.insert(0, str(HERE.parent))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))
from context_bench import django_tree  # noqa: E402  (the same tree, fetched the same way)

EDITED = "django/db/models/query.py"
LINE = "    def filter(self, *args, **kwargs):\n"


def diffs(root: Path) -> tuple[str, str]:
    """A one-line change to QuerySet.filter's docstring, and its reverse, as unified diffs."""
    lines = (root / EDITED).read_text().splitlines(keepends=True)
    at = lines.index(LINE)
    context = lines[at:at + 3]
    new = context[:1] + ["        # checked by apply_run_bench\n"] + context[1:]
    header = f"--- a/{EDITED}\n+++ b/{EDITED}\n@@ -{at + 1},3 +{at + 1},4 @@\n"
    forward = header + "".join(" " + line for line in context[:1]) + "+" + new[1] + "".join(
        " " + line for line in context[1:])
    back = (f"--- a/{EDITED}\n+++ b/{EDITED}\n@@ -{at + 1},4 +{at + 1},3 @@\n" + " " + new[0] + "-" + new[1]
            + "".join(" " + line for line in new[2:]))
    return forward, back


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


async def codegen_runs(root: Path, runs: int) -> dict[str, float]:
    forward, back = diffs(root)
    client = LanguageClient("apply-run-bench", "1.0")
    await client.start_io(str(Path(sys.executable).parent / "codegen-server"))
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=from_fs_path(str(root))))
    client.initialized(types.InitializedParams())
    seconds, sizes = [], []
    try:
        for n in range(2 * runs):
            started = time.perf_counter()
            result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="codegen.applyDiff", arguments=[{"diff": back if n % 2 else forward, "apply": "disk"}]))
            seconds.append(time.perf_counter() - started)
            assert result["applied"] and result["runId"], result
            sizes.append(folder_bytes(root / ".codegen"))
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return figures(seconds, [0, *sizes])


def git_runs(root: Path, runs: int) -> dict[str, float]:
    forward, back = diffs(root)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], cwd=root, check=True)
    seconds, sizes = [], [folder_bytes(root / ".git")]
    for n in range(2 * runs):
        started = time.perf_counter()
        subprocess.run([*git, "apply", "-"], cwd=root, input=(back if n % 2 else forward).encode(), check=True)
        subprocess.run([*git, "commit", "-q", "-a", "-m", f"edit {n}"], cwd=root, check=True)
        seconds.append(time.perf_counter() - started)
        sizes.append(folder_bytes(root / ".git"))
    return figures(seconds, sizes)


def figures(seconds: list[float], sizes: list[int]) -> dict[str, float]:
    """The first edit's time and disk growth, and the median of the others'; ``sizes``: before each edit, then after the last."""
    growth = [after - before for before, after in zip(sizes, sizes[1:])]
    return {"first": seconds[0], "rest": statistics.median(seconds[1:]), "first_growth": growth[0],
            "rest_growth": statistics.median(growth[1:])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--django-version", default="5.2.19")
    parser.add_argument("--runs", type=int, default=10, help="applies of the change, each then undone by its reverse")
    args = parser.parse_args()
    source = django_tree(args.django_version)
    load_before = os.getloadavg()
    measured = {}
    with tempfile.TemporaryDirectory(prefix="apply-run-bench-") as scratch:
        for side, measure in (("codegen", lambda root: asyncio.run(codegen_runs(root, args.runs))),
                              ("git apply + commit", lambda root: git_runs(root, args.runs))):
            root = Path(scratch) / side.split()[0]
            shutil.copytree(source, root, ignore=shutil.ignore_patterns(".codegen"))
            measured[side] = measure(root)
    load_after = os.getloadavg()
    files = sum(1 for _ in source.rglob("*") if _.is_file())
    print(f"Django {args.django_version} ({files} files), one-line apply then its reverse, {args.runs} times each; "
          f"load average (1/5/15 min) before: {' / '.join(f'{x:.2f}' for x in load_before)}, after: "
          f"{' / '.join(f'{x:.2f}' for x in load_after)}")
    print(f"{'':22}{'first edit (s)':>16}{'later edits, median (s)':>25}{'disk: first edit (MB)':>23}"
          f"{'later edits, median (MB)':>26}")
    for side, f in measured.items():
        print(f"{side:22}{f['first']:>16.3f}{f['rest']:>25.3f}{f['first_growth'] / 1e6:>23.2f}{f['rest_growth'] / 1e6:>26.3f}")
    print("codegen: codegen.applyDiff over LSP, apply 'disk', each a run with a start checkpoint (undo reverses "
          "it); git: `git apply` and `git commit -a` as processes, timed together.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
