"""A repository an attacker prepared, cloned as a user would, and canaries outside it.

``hostile_clone(tmp_path, plant)`` makes a git repository, lets ``plant(repo)`` put files,
symlinks and ``.codegen/`` state in it, commits everything (``.gitignore`` rules or not, with
``git add -f``), and clones it: what a user who clones and opens it gets. ``Outside`` is a folder
beside the clone holding canary files; ``Outside.unchanged()`` says whether anything in it, in the
clone's ``.git/hooks`` or ``.git/config``, was written, removed or added.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "attacker", "GIT_AUTHOR_EMAIL": "a@example.invalid",
           "GIT_COMMITTER_NAME": "attacker", "GIT_COMMITTER_EMAIL": "a@example.invalid",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def _tree_state(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (not following links): path -> kind and content hash."""
    state: dict[str, str] = {}
    if not folder.exists():
        return state
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                state[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                state[rel] = "dir"
            else:
                info = path.lstat()
                state[rel] = f"file:{oct(info.st_mode)}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
    return state


@dataclass
class Outside:
    """Canary files outside the workspace, and the clone's git internals, as they were."""

    folder: Path
    clone: Path
    before: dict[str, dict[str, str]] = field(default_factory=dict)

    def watched(self) -> dict[str, Path]:
        return {"outside": self.folder, "hooks": self.clone / ".git" / "hooks"}

    def snapshot(self) -> None:
        self.before = {name: _tree_state(path) for name, path in self.watched().items()}
        self.before["config"] = {"config": (self.clone / ".git" / "config").read_text()}

    def changes(self) -> list[str]:
        """What changed since ``snapshot``, one line per difference (empty: nothing)."""
        now = {name: _tree_state(path) for name, path in self.watched().items()}
        now["config"] = {"config": (self.clone / ".git" / "config").read_text()}
        lines = []
        for name, entries in now.items():
            old = self.before.get(name, {})
            for rel in sorted(set(old) | set(entries)):
                if old.get(rel) != entries.get(rel):
                    lines.append(f"{name}/{rel}: {old.get(rel, 'absent')} -> {entries.get(rel, 'absent')}")
        return lines

    def unchanged(self) -> bool:
        return not self.changes()


def hostile_clone(tmp_path: Path, plant: Callable[[Path, Path], None]) -> tuple[Path, Outside]:
    """Clone a repository ``plant(repo, outside)`` prepared; returns the clone and the canaries.

    ``outside`` is a folder beside the clone with canary files (``secret.txt``, ``notes/keep.txt``)
    that ``plant`` may point symlinks or planted paths at.
    """
    outside_dir = tmp_path / "outside"
    (outside_dir / "notes").mkdir(parents=True)
    (outside_dir / "secret.txt").write_text("TOP-SECRET canary\n")
    (outside_dir / "notes" / "keep.txt").write_text("keep me\n")
    origin = tmp_path / "origin"
    origin.mkdir()
    _git("init", "-q", "-b", "main", cwd=origin)
    (origin / "README.md").write_text("# a project\n")
    plant(origin, outside_dir)
    _git("add", "-A", "-f", ".", cwd=origin)
    _git("commit", "-q", "-m", "innocent", cwd=origin)
    clone = tmp_path / "clone"
    _git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    outside = Outside(outside_dir, clone)
    outside.snapshot()
    return clone, outside
