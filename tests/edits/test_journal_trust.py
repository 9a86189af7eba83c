"""A crash journal a cloned repository carries is never acted on (issue 23, point 1).

Recovery runs at the start of every ``codegen`` command and of the daemon's session, and renames,
deletes and ``rmdir``s what its journal names. So a planted ``.codegen/writer/journal.*.json``
must do nothing: each attack from the issue is planted in a repository, the repository cloned,
and the commands a user runs in it started there. Canaries outside, ``.git/hooks`` and
``.git/config`` stay as they were, the workspace loses nothing, each command still works, and its
stderr (or the daemon's log) names the journal it ignored. A journal this user's codegen sealed
is still checked entry by entry, and a genuine one still recovers.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from codegen_server.edits.journal import Entry, Journal, save
from codegen_server.trust.state import save_json
from tests.support.cli import codegen
from tests.support.hostile import hostile_clone

JOURNAL = "journal.2-committing.json"
EVIL_CONFIG = "[core]\n\tfsmonitor = touch ../outside/fsmonitor-ran\n"
GOOD_PATCH = "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# a project\n+# a project, patched\n"


def journal_file(repo: Path, body: dict, name: str = JOURNAL) -> Path:
    writer = repo / ".codegen" / "writer"
    writer.mkdir(parents=True, exist_ok=True)
    path = writer / name
    path.write_text(json.dumps(body))
    return path


def attack(name: str, outside: Path) -> tuple[dict, dict[str, str]]:
    """(the journal's body, files the repository carries for it) for each attack from the issue."""
    nope = ".README.md.0123abcd.codegen-tmp"  # a temp that does not exist: "the new content is in place"
    attacks = {
        "absolute-path-write": ({"state": "committing", "dirs": [], "entries": [
            {"path": str(outside / "pwned.txt"), "temp": None, "backup": "payload.txt"}]},
            {"payload.txt": "attacker content\n"}),
        "dotdot-write": ({"state": "committing", "dirs": [], "entries": [
            {"path": "../outside/notes/keep.txt", "temp": None, "backup": "payload.txt"}]},
            {"payload.txt": "attacker content\n"}),
        "delete-outside": ({"state": "committing", "dirs": [], "entries": [
            {"path": "../outside/secret.txt", "temp": nope, "backup": None}]}, {}),
        "delete-outside-forward": ({"state": "complete", "dirs": [], "entries": [
            {"path": "README.md", "temp": None, "backup": str(outside / "secret.txt")}]}, {}),
        "rmdir-outside": ({"state": "committing", "entries": [], "dirs": ["../outside/empty"]}, {}),
        "git-hook": ({"state": "committing", "dirs": [], "entries": [
            {"path": ".git/hooks/pre-commit", "temp": None, "backup": "hook.sh"}]},
            {"hook.sh": "#!/bin/sh\ntouch ../outside/hook-ran\n"}),
        "git-config-fsmonitor": ({"state": "committing", "dirs": [], "entries": [
            {"path": ".git/config", "temp": None, "backup": "evil.config"}]}, {"evil.config": EVIL_CONFIG}),
        # Every path clean, as a writer would name them: only the seal tells it is not ours.
        "inside-delete": ({"state": "committing", "dirs": [], "entries": [
            {"path": "README.md", "temp": nope, "backup": None}]}, {}),
    }
    return attacks[name]


ATTACKS = ["absolute-path-write", "dotdot-write", "delete-outside", "delete-outside-forward", "rmdir-outside",
           "git-hook", "git-config-fsmonitor", "inside-delete"]


def planted(tmp_path: Path, name: str) -> tuple[Path, object]:
    def plant(repo: Path, outside: Path) -> None:
        (outside / "empty").mkdir()
        body, files = attack(name, outside)
        for rel, text in files.items():
            (repo / rel).write_text(text)
        journal_file(repo, body)

    return hostile_clone(tmp_path, plant)


def workspace(clone: Path) -> dict[str, str]:
    """The clone's own files (not .git, not .codegen; symlinks as where they point), as they are."""
    files: dict[str, str] = {}
    for folder, dirs, names in os.walk(clone):
        dirs[:] = [d for d in dirs if d not in (".git", ".codegen")]
        for name in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = Path(folder, name)
            files[path.relative_to(clone).as_posix()] = ("-> " + os.readlink(path)) if path.is_symlink() \
                else path.read_text()
    return files


@pytest.mark.parametrize("name", ATTACKS)
def test_a_planted_journal_is_ignored_by_every_command(tmp_path: Path, name: str) -> None:
    clone, outside = planted(tmp_path, name)
    before = workspace(clone)
    journal = clone / ".codegen" / "writer" / JOURNAL

    for args in (["memory"], ["context", "where is the readme"], ["apply", "--dry-run", "-"]):
        done = codegen(*args, "--root", str(clone), stdin=GOOD_PATCH if args[0] == "apply" else None)
        assert done.returncode == 0, (args, done.stderr)
        assert str(journal) in done.stderr and "delete" in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and "interrupted apply" not in done.stderr
        assert outside.changes() == [], (args, outside.changes())
        assert workspace(clone) == before, args
    assert journal.is_file()  # left for the user, who was told to delete it


@pytest.mark.parametrize("name", ["absolute-path-write", "git-config-fsmonitor", "rmdir-outside", "inside-delete"])
async def test_a_planted_journal_is_ignored_when_the_daemon_starts(tmp_path: Path, name: str, editor_factory) -> None:
    clone, outside = planted(tmp_path, name)
    before = workspace(clone)
    log = tmp_path / "daemon.log"
    editor = await editor_factory(clone, server_args=["--log-file", str(log)])  # initialize + initialized
    for _ in range(200):
        if log.exists() and JOURNAL in log.read_text():
            break
        await asyncio.sleep(0.05)
    assert str(clone / ".codegen" / "writer" / JOURNAL) in log.read_text()
    assert "Traceback" not in log.read_text()
    # The daemon still answers, and a real write still goes through.
    result = await editor.execute("codegen.applyDiff", {"diff": GOOD_PATCH, "apply": "disk"})
    assert result["applied"] is True
    assert outside.changes() == []
    assert workspace(clone) == {**before, "README.md": "# a project, patched\n"}


MALFORMED = [{"state": "committing"}, {"state": "committing", "entries": [["README.md"]], "dirs": []}, [1, 2]]


@pytest.mark.parametrize("body", MALFORMED, ids=["no-entries", "short-entry", "list"])
def test_a_malformed_journal_is_named_not_a_traceback(tmp_path: Path, body: object) -> None:
    clone, outside = hostile_clone(tmp_path, lambda repo, out: journal_file(repo, body))  # type: ignore[arg-type]
    done = codegen("memory", "--root", str(clone))
    assert done.returncode == 0 and "Traceback" not in done.stderr and "KeyError" not in done.stderr
    assert str(clone / ".codegen" / "writer" / JOURNAL) in done.stderr
    assert outside.changes() == []


def test_a_malformed_journal_sealed_by_this_user_is_named_not_a_traceback(tmp_path: Path) -> None:
    clone, outside = hostile_clone(tmp_path, lambda repo, out: None)
    seal(clone, {"state": "committing"})
    done = codegen("memory", "--root", str(clone))
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert str(clone / ".codegen" / "writer" / JOURNAL) in done.stderr and "entries" in done.stderr


def seal(root: Path, body: dict, name: str = JOURNAL, *, for_root: Path | None = None) -> Path:
    """Write ``body`` as this user's codegen would seal a journal for ``for_root`` (default: ``root``)."""
    writer = root / ".codegen" / "writer"
    writer.mkdir(parents=True, exist_ok=True)
    save_json(writer / name, body, f"journal:{os.path.realpath(for_root or root)}")
    return writer / name


def bad_entry(name: str, outside: Path) -> dict:
    """Sealed journals whose entries no writer of codegen's would write: each would do harm if acted on."""
    jid = "0123abcd"
    entries = {
        "absolute-path": {"state": "committing", "dirs": [], "entries": [
            {"path": str(outside / "secret.txt"), "temp": f"x/.secret.txt.{jid}.codegen-tmp", "backup": None}]},
        "dotdot-path": {"state": "committing", "dirs": [], "entries": [
            {"path": "../outside/secret.txt", "temp": f"../outside/.secret.txt.{jid}.codegen-tmp", "backup": None}]},
        "git-hook": {"state": "committing", "dirs": [], "entries": [
            {"path": ".git/hooks/pre-commit", "temp": None, "backup": "payload.txt"}]},
        "through-a-symlinked-folder": {"state": "committing", "dirs": [], "entries": [
            {"path": "lnk/secret.txt", "temp": f"lnk/.secret.txt.{jid}.codegen-tmp", "backup": None}]},
        "backup-not-beside-its-path": {"state": "committing", "dirs": [], "entries": [
            {"path": "README.md", "temp": None, "backup": "payload.txt"}]},
        "temp-not-the-writers-name": {"state": "committing", "dirs": [], "entries": [
            {"path": "README.md", "temp": f".README.md.{jid}.codegen-tmp.extra", "backup": None}]},
        "two-writes": {"state": "committing", "dirs": [], "entries": [
            {"path": "payload.txt", "temp": None, "backup": f".payload.txt.{jid}.codegen-bak"},
            {"path": "README.md", "temp": ".README.md.ffffffff.codegen-tmp", "backup": None}]},
        "rmdir-through-a-symlink": {"state": "committing", "entries": [], "dirs": ["lnk/empty"]},
        "extra-field": {"state": "committing", "dirs": [], "entries": [
            {"path": "README.md", "temp": f".README.md.{jid}.codegen-tmp", "backup": None, "x": 1}]},
    }
    return entries[name]


@pytest.mark.parametrize("name", ["absolute-path", "dotdot-path", "git-hook", "through-a-symlinked-folder",
                                  "backup-not-beside-its-path", "temp-not-the-writers-name", "two-writes",
                                  "rmdir-through-a-symlink", "extra-field"])
def test_a_sealed_journal_with_a_bad_entry_is_not_acted_on(tmp_path: Path, name: str) -> None:
    def plant(repo: Path, outside: Path) -> None:
        (outside / "empty").mkdir()
        (repo / "payload.txt").write_text("attacker content\n")
        (repo / ".payload.txt.0123abcd.codegen-bak").write_text("old payload\n")
        os.symlink("../outside", repo / "lnk")

    clone, outside = hostile_clone(tmp_path, plant)
    before = workspace(clone)
    journal = seal(clone, bad_entry(name, outside.folder))
    done = codegen("memory", "--root", str(clone))
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert str(journal) in done.stderr and "not a journal codegen can act on" in done.stderr, done.stderr
    assert outside.changes() == [] and workspace(clone) == before
    assert journal.is_file()


def test_a_journal_sealed_for_another_workspace_is_not_acted_on(tmp_path: Path) -> None:
    clone, outside = hostile_clone(tmp_path, lambda repo, out: None)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    nope = ".README.md.0123abcd.codegen-tmp"
    journal = seal(clone, {"state": "committing", "dirs": [], "entries": [
        {"path": "README.md", "temp": nope, "backup": None}]}, for_root=elsewhere)
    done = codegen("memory", "--root", str(clone))
    assert done.returncode == 0 and str(journal) in done.stderr
    assert (clone / "README.md").read_text() == "# a project\n"


def test_a_genuine_journal_still_recovers(tmp_path: Path) -> None:
    """A writer killed after swapping one file in: the next command puts the old text back."""
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    jid = "0123abcd"
    (root / "src" / "a.py").write_text("new\n")  # the temp was renamed onto the path
    (root / "src" / f".a.py.{jid}.codegen-bak").write_text("old\n")
    (root / "src" / f".b.py.{jid}.codegen-tmp").write_text("half-writ")  # not renamed yet
    (root / "src" / "b.py").write_text("b old\n")
    (root / "fresh").mkdir()  # a folder the write created
    save(root, Journal("committing", [
        Entry("src/a.py", f"src/.a.py.{jid}.codegen-tmp", f"src/.a.py.{jid}.codegen-bak"),
        Entry("src/b.py", f"src/.b.py.{jid}.codegen-tmp", f"src/.b.py.{jid}.codegen-bak"),
    ], ["fresh"]))
    done = codegen("memory", "--root", str(root))
    assert done.returncode == 0 and "interrupted apply" in done.stderr and "ignored" not in done.stderr
    assert (root / "src" / "a.py").read_text() == "old\n" and (root / "src" / "b.py").read_text() == "b old\n"
    assert sorted(p.name for p in (root / "src").iterdir()) == ["a.py", "b.py"]
    assert not (root / "fresh").exists()
    assert [p.name for p in (root / ".codegen" / "writer").glob("*journal*")] == []
