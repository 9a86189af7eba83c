"""The daemon's own file watcher never follows a symlink out of the workspace and caps its watches
(issue 23, point 5).

watchfiles' inotify backend followed symlinks: a cloned repository with ``vendor -> /usr``
registered ~17,000 inotify watches, and a link to ``/`` would use up the user's whole budget.
The watches a daemon holds are counted where the kernel lists them, whatever registered them:
``/proc/<pid>/fdinfo/<fd>`` has one ``inotify wd:`` line per watch, with the watched folder's
device and inode. Each must be a real folder inside the clone. Past the cap the daemon watches
nothing, says so once, and walks the tree on each request instead.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path

import pytest

from codegen_server.context.inotify_watch import watch_limit
from codegen_server.context.walk import SKIPPED_DIRS
from tests.support.hostile import hostile_clone

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify watches are Linux's")

#: Folders in the tree outside that the links point at.
OUTSIDE_FOLDERS = 300


def inotify_watches(pid: int) -> list[tuple[int, int]]:
    """(st_dev, st_ino) of every folder the process's inotify instances watch."""
    watches = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:inotify":
                continue
            info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:
            continue  # closed meanwhile
        for line in info.splitlines():
            if line.startswith("inotify wd:"):
                ino = int(re.search(r"\bino:([0-9a-f]+)", line).group(1), 16)
                sdev = int(re.search(r"\bsdev:([0-9a-f]+)", line).group(1), 16)
                # The kernel prints its own dev_t (major << 20 | minor); stat's is encoded differently.
                watches.append((os.makedev(sdev >> 20, sdev & 0xFFFFF), ino))
    return watches


def real_folders(root: Path) -> set[tuple[int, int]]:
    """(st_dev, st_ino) of the root and every real folder under it that the index walks."""
    found = set()
    for folder, subfolders, _ in os.walk(root, followlinks=False):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_DIRS]
        info = os.stat(folder)
        found.add((info.st_dev, info.st_ino))
    return found


async def watcher_started(log: Path, timeout: float = 60.0) -> str:
    """The daemon's log once its watcher said whether it watches (INFO) or falls back (a warning)."""
    deadline = time.monotonic() + timeout
    while True:
        content = log.read_text() if log.exists() else ""
        if "folders of" in content or "not watching" in content or time.monotonic() > deadline:
            return content
        await asyncio.sleep(0.05)


def plant_links(repo: Path, outside: Path) -> None:
    (repo / "billing.py").write_text("def settle_invoice(order):\n    return sum(order)\n")
    for name in ("api", "api/v1", "models"):
        (repo / name).mkdir()
        (repo / name / "__init__.py").write_text("")
    tree = outside / "tree"
    for n in range(OUTSIDE_FOLDERS):
        (tree / f"group{n // 10}" / f"leaf{n}").mkdir(parents=True)
    (repo / "vendor").symlink_to(os.path.relpath(tree, repo))
    (repo / "deps").symlink_to(os.path.relpath(tree, repo))
    (repo / "api" / "lib").symlink_to(os.path.relpath(tree, repo / "api"))


def plant_links_and_root(repo: Path, outside: Path) -> None:
    plant_links(repo, outside)
    (repo / "everything").symlink_to("/")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("plant", [plant_links, plant_links_and_root], ids=["links-to-a-tree", "and-a-link-to-root"])
async def test_the_watcher_registers_no_watch_outside_the_workspace(tmp_path: Path, editor_factory, plant) -> None:
    clone, outside = hostile_clone(tmp_path, plant)
    log = tmp_path / "daemon.log"
    editor = await editor_factory(clone, client="neovim", server_args=["--log-level", "INFO", "--log-file", str(log)])
    assert "watching 4 folders" in await watcher_started(log)

    watched = inotify_watches(editor.client._server.pid)
    assert watched and set(watched) == real_folders(clone)  # the root, api, api/v1, models: nothing else
    assert len(watched) == 4

    # And it reports changes: a write just before a request is in its answer.
    text = (await editor.execute("codegen.context", {"task": "settle_invoice", "budget": 500}))["text"]
    assert "def settle_invoice(order):" in text
    (clone / "api" / "v1" / "routes.py").write_text("def list_orders(request):\n    return []\n")
    text = (await editor.execute("codegen.context", {"task": "list_orders", "budget": 500}))["text"]
    assert "def list_orders(request):" in text
    assert "not watching" not in log.read_text()
    assert outside.changes() == []


@pytest.mark.timeout(180)
async def test_a_tree_over_the_cap_is_walked_instead_with_one_warning(tmp_path: Path, editor_factory) -> None:
    limit = watch_limit()
    for n in range(limit + 1):  # with their parents and the root: well past the cap
        (tmp_path / f"part{n // 100}" / f"p{n}").mkdir(parents=True, exist_ok=True)
    (tmp_path / "billing.py").write_text("def settle_invoice(order):\n    return sum(order)\n")
    log = tmp_path.parent / f"{tmp_path.name}-daemon.log"
    editor = await editor_factory(tmp_path, client="neovim",
                                  server_args=["--log-level", "INFO", "--log-file", str(log)])
    content = await watcher_started(log)
    assert content.count("not watching") == 1
    assert f"it has more than {limit} folders to watch" in content
    assert "walks the tree on each request instead" in content
    assert inotify_watches(editor.client._server.pid) == []  # what was watched before the cap is let go

    run = lambda task: editor.execute("codegen.context", {"task": task, "budget": 500})  # noqa: E731
    assert "def settle_invoice(order):" in (await run("settle_invoice"))["text"]
    (tmp_path / "part3" / "p301" / "late.py").write_text("def arrived_late():\n    pass\n")
    assert "def arrived_late():" in (await run("arrived_late"))["text"]  # the walk sees it
    assert log.read_text().count("not watching") == 1
