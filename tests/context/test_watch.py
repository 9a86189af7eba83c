"""After the first walk, a watched workspace re-reads only the files a watcher reported."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from codegen_server.context.engine import ContextEngine
from codegen_server.context.inotify_watch import InotifyWatcher
from codegen_server.context.walk import iter_sources, walk_sources
from codegen_server.context.native_watch import native_watcher
from codegen_server.context.watch import source_file_at
from codegen_server.context.watchfiles_watch import WatchfilesWatcher

#: Both native watchers: inotify (Linux) and watchfiles (elsewhere; it runs on Linux too).
WATCHERS = [pytest.param(InotifyWatcher, id="inotify",
                         marks=pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")),
            pytest.param(WatchfilesWatcher, id="watchfiles")]


def names(engine: ContextEngine) -> set[str]:
    return {d.name for record in engine.index.records().values() for d in record.tags.definitions}


def test_source_file_at_lists_a_file_exactly_when_the_walk_does(tmp_path: Path) -> None:
    files = {
        ".gitignore": "build_out/\n*.gen.py\n!keep.gen.py\n", "a.py": "", "keep.gen.py": "", "x.gen.py": "",
        "pkg/.gitignore": "local.py\nsub/\n", "pkg/mod.py": "", "pkg/local.py": "", "pkg/sub/deep.py": "",
        "pkg/other/deep.py": "", "build_out/out.py": "", "node_modules/lib/index.js": "", "web/app.min.js": "",
        "web/app.js": "", "notes.txt": "", "big.py": "x = 1\n" * 200_000,
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    walked = {f.path: f for f in walk_sources(tmp_path)}
    assert {"a.py", "keep.gen.py", "pkg/mod.py", "pkg/other/deep.py", "web/app.js"} <= set(walked)
    for path in files:
        assert source_file_at(tmp_path, path) == walked.get(path), path


def test_with_a_watcher_only_the_reported_paths_are_read_again(tmp_path: Path) -> None:
    (tmp_path / "core.py").write_text("def parse(x):\n    return x\n")
    engine = ContextEngine(tmp_path)
    engine.changes.attach()
    engine.refresh()  # the first index walks the tree
    assert names(engine) == {"parse"}

    (tmp_path / "unreported.py").write_text("def hidden():\n    pass\n")
    (tmp_path / "created.py").write_text("def render(x):\n    return x\n")
    engine.changes.mark(["created.py"])
    stats = engine.refresh()
    assert names(engine) == {"parse", "render"} and stats.parsed == 1  # no walk: unreported.py is not seen

    (tmp_path / "created.py").write_text("def render_all(x):\n    return x\n")
    engine.changes.mark(["created.py"])
    engine.refresh()
    assert names(engine) == {"parse", "render_all"}

    (tmp_path / "created.py").unlink()
    engine.changes.mark(["created.py"])
    stats = engine.refresh()
    assert names(engine) == {"parse"} and stats.removed == 1

    # A folder (or a .gitignore) cannot be read from its path alone: that change walks the tree again.
    (tmp_path / "pkg").mkdir()
    engine.changes.mark(["pkg"])
    engine.refresh()
    assert names(engine) == {"parse", "hidden"}

    engine.changes.detach()
    (tmp_path / "late.py").write_text("def late():\n    pass\n")
    engine.refresh()  # nobody watches any more: the walk is back
    assert "late" in names(engine)


def refreshed_until(engine: ContextEngine, expected: set[str], timeout: float = 20.0) -> set[str]:
    deadline = time.monotonic() + timeout
    while True:
        engine.refresh()
        if names(engine) == expected or time.monotonic() > deadline:
            return names(engine)
        time.sleep(0.02)


def reported_until(engine: ContextEngine, path: str, timeout: float = 20.0) -> set[str]:
    """What the watcher reported, taken until ``path`` is among it (events come in order)."""
    deadline = time.monotonic() + timeout
    reported: set[str] = set()
    while path not in reported and time.monotonic() < deadline:
        reported |= engine.changes.take() or set()
        time.sleep(0.02)
    return reported


def test_linux_watches_with_inotify(tmp_path: Path) -> None:
    expected = InotifyWatcher if sys.platform.startswith("linux") else WatchfilesWatcher
    assert type(native_watcher(tmp_path, ContextEngine(tmp_path).changes)) is expected


@pytest.mark.parametrize("watcher_class", WATCHERS)
def test_the_native_watcher_reports_creates_changes_and_deletes(tmp_path: Path, watcher_class) -> None:
    (tmp_path / "core.py").write_text("def parse(x):\n    return x\n")
    engine = ContextEngine(tmp_path)
    watcher = watcher_class(tmp_path, engine.changes)
    assert watcher.start()
    try:
        assert engine.changes.watching
        engine.refresh()
        (tmp_path / "pkg").mkdir()
        (tmp_path / "pkg" / "views.py").write_text("def render(x):\n    return x\n")
        assert refreshed_until(engine, {"parse", "render"}) == {"parse", "render"}
        (tmp_path / "pkg" / "views.py").write_text("def render_page(x):\n    return x\n")
        assert refreshed_until(engine, {"parse", "render_page"}) == {"parse", "render_page"}
        (tmp_path / "core.py").unlink()
        assert refreshed_until(engine, {"render_page"}) == {"render_page"}
        (tmp_path / ".codegen").mkdir(exist_ok=True)
        (tmp_path / ".codegen" / "junk.py").write_text("def junk():\n    pass\n")
        # Tool folders are not reported: a file written after the junk is (the event awaited, not a
        # fixed time), and nothing else with it.
        (tmp_path / "after.py").write_text("def after():\n    pass\n")
        reported = reported_until(engine, "after.py")
        assert reported == {"after.py"}, reported
    finally:
        watcher.stop()
    assert not engine.changes.watching


@pytest.mark.parametrize("watcher_class", WATCHERS)
def test_a_refresh_right_after_a_write_sees_it_with_the_native_watcher(tmp_path: Path, watcher_class) -> None:
    """No waiting in between: the very next refresh sees each change (inotify: the events are queued
    before the write returns; watchfiles: a barrier file)."""
    (tmp_path / "core.py").write_text("def parse(x):\n    return x\n")
    engine = ContextEngine(tmp_path)
    watcher = watcher_class(tmp_path, engine.changes)
    assert watcher.start()
    try:
        engine.refresh()
        for round in range(20):
            (tmp_path / "core.py").write_text(f"def parse_{round}(x):\n    return x\n")
            (tmp_path / f"new_{round}.py").write_text(f"def made_{round}():\n    pass\n")
            reported = engine.changes.take()  # what the refresh would read: the watcher's report, not a walk
            assert reported is not None and {"core.py", f"new_{round}.py"} <= reported, round
            engine.changes.mark(sorted(reported))
            engine.refresh()
            assert names(engine) >= {f"parse_{round}", f"made_{round}"}, round
            assert f"parse_{round - 1}" not in names(engine)
        barriers = tmp_path / ".codegen" / "watch"
        if watcher_class is InotifyWatcher:
            assert not barriers.exists()  # nothing written to the workspace to catch up
        else:
            assert not list(barriers.iterdir())  # barriers are removed
    finally:
        watcher.stop()


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


@linux_only
def test_inotify_watches_folders_made_moved_or_no_longer_ignored_later(tmp_path: Path) -> None:
    (tmp_path / "core.py").write_text("def parse(x):\n    return x\n")
    (tmp_path / ".gitignore").write_text("generated/\n")
    (tmp_path / "generated").mkdir()
    engine = ContextEngine(tmp_path)
    watcher = InotifyWatcher(tmp_path, engine.changes)
    assert watcher.start()
    try:
        engine.refresh()
        assert watcher.watches == 1  # the root: generated/ is ignored, .codegen/ (the cache) is skipped

        (tmp_path / "pkg" / "sub").mkdir(parents=True)  # made between two requests, as `mkdir -p` does
        (tmp_path / "pkg" / "sub" / "views.py").write_text("def render(x):\n    return x\n")
        engine.refresh()
        assert names(engine) == {"parse", "render"} and watcher.watches == 3
        (tmp_path / "pkg" / "sub" / "views.py").write_text("def render_page(x):\n    return x\n")
        assert engine.changes.take() == {"pkg/sub/views.py"}  # the new folder is watched

        (tmp_path / "pkg").rename(tmp_path / "lib")
        assert engine.changes.take() == {"pkg", "lib"}
        (tmp_path / "lib" / "sub" / "views.py").write_text("def render_all(x):\n    return x\n")
        assert engine.changes.take() == {"lib/sub/views.py"}  # under its new name
        assert watcher.watches == 3

        (tmp_path / ".gitignore").write_text("")
        assert engine.changes.take() == {".gitignore"}
        (tmp_path / "generated" / "schema.py").write_text("def schema():\n    pass\n")
        assert engine.changes.take() == {"generated/schema.py"}  # watched once no longer ignored
    finally:
        watcher.stop()
    assert not engine.changes.watching


@linux_only
def test_inotify_past_its_cap_falls_back_to_walking_with_one_warning(tmp_path: Path, caplog) -> None:
    (tmp_path / "core.py").write_text("def parse(x):\n    return x\n")
    engine = ContextEngine(tmp_path)
    watcher = InotifyWatcher(tmp_path, engine.changes, limit=3)
    assert watcher.start()
    engine.refresh()
    for n in range(3):  # the root and three folders: one more than the cap
        (tmp_path / f"part{n}").mkdir()
    (tmp_path / "part2" / "late.py").write_text("def late():\n    pass\n")
    assert engine.changes.take() is None  # fallen back: only a walk can tell
    assert not engine.changes.watching and watcher.watches == 0
    [warning] = [r.getMessage() for r in caplog.records if "not watching" in r.getMessage()]
    assert "more than 3 folders" in warning and "walks the tree on each request instead" in warning
    engine.refresh()
    assert names(engine) == {"parse", "late"}
    (tmp_path / "part1" / "later.py").write_text("def later():\n    pass\n")
    engine.refresh()
    assert names(engine) == {"parse", "late", "later"}
    watcher.stop()


def test_the_walk_made_when_a_watcher_starts_spares_the_next_request_one(tmp_path: Path, monkeypatch) -> None:
    import codegen_server.context.index as index_module

    (tmp_path / "core.py").write_text("def parse(x):\n    return x\n")
    engine = ContextEngine(tmp_path)
    engine.refresh()  # the first request: its walk began before the watcher attached
    engine.changes.attach()
    (tmp_path / "unreported.py").write_text("def early(x):\n    return x\n")  # before the watch: no event
    engine.watch_started()  # off the request path
    (tmp_path / "reported.py").write_text("def late(x):\n    return x\n")
    engine.changes.mark(["reported.py"])
    walks = []
    monkeypatch.setattr(index_module, "iter_sources", lambda root: walks.append(root) or iter_sources(root))
    engine.refresh()  # the second request
    assert names(engine) == {"parse", "early", "late"} and walks == []
    engine.refresh()
    assert walks == []  # and the ones after it


def test_events_lost_after_the_watcher_started_still_ask_for_a_walk(tmp_path: Path) -> None:
    (tmp_path / "core.py").write_text("def parse(x):\n    return x\n")
    engine = ContextEngine(tmp_path)
    engine.refresh()
    engine.changes.attach()
    engine.watch_started()
    engine.changes.lost_events()  # an overflow: the walk made at the start no longer tells everything
    assert engine.changes.take_with_walk() == (None, None)
    engine.changes.detach()
    engine.watch_started()  # no watcher: nothing to settle
    assert engine.changes.take_with_walk() == (None, None)
