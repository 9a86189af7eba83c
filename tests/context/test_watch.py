"""After the first walk, a watched workspace re-reads only the files a watcher reported."""

from __future__ import annotations

import time
from pathlib import Path

from codegen_server.context.engine import ContextEngine
from codegen_server.context.walk import walk_sources
from codegen_server.context.watch import NativeWatcher, source_file_at


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


def test_the_native_watcher_reports_creates_changes_and_deletes(tmp_path: Path) -> None:
    (tmp_path / "core.py").write_text("def parse(x):\n    return x\n")
    engine = ContextEngine(tmp_path)
    watcher = NativeWatcher(tmp_path, engine.changes)
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
        time.sleep(0.3)
        assert engine.changes.take() == set()  # tool folders are not reported
    finally:
        watcher.stop()
    assert not engine.changes.watching


def test_a_refresh_right_after_a_write_sees_it_with_the_native_watcher(tmp_path: Path) -> None:
    """No waiting in between: the watcher's barrier makes the very next refresh see each change."""
    (tmp_path / "core.py").write_text("def parse(x):\n    return x\n")
    engine = ContextEngine(tmp_path)
    watcher = NativeWatcher(tmp_path, engine.changes)
    assert watcher.start()
    try:
        engine.refresh()
        for round in range(20):
            (tmp_path / "core.py").write_text(f"def parse_{round}(x):\n    return x\n")
            (tmp_path / f"new_{round}.py").write_text(f"def made_{round}():\n    pass\n")
            engine.refresh()
            assert names(engine) >= {f"parse_{round}", f"made_{round}"}, round
            assert f"parse_{round - 1}" not in names(engine)
        assert not list((tmp_path / ".codegen" / "watch").iterdir())  # barriers are removed
    finally:
        watcher.stop()
