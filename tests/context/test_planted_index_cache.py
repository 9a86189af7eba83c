"""An index cache a cloned repository carries is never read as codegen's own (issue 23, point 1).

``.codegen/index/tags.marshal`` is read with ``marshal``, which is not safe on hostile input, and
a short row in it used to fail every request with a traceback; as a link to ``/dev/zero`` or a
FIFO it exhausted memory or hung the daemon. Each is planted in a repository (a FIFO cannot be
committed, so it is made in the clone, as another program could), the clone opened by an editor
that does not watch files: the daemon still answers `codegen.context` with the workspace's real
code, its log names the cache it ignored once, it keeps answering, and it replaces the cache with
its own, sealed one. Nothing outside changes.
"""

from __future__ import annotations

import asyncio
import marshal
import os
import resource
import time
from pathlib import Path

import pytest

from codegen_server.context import store
from codegen_server.context.index import WorkspaceIndex, _query_digest
from codegen_server.trust.seal import open_bytes
from codegen_server.trust.state import save_bytes
from tests.support.hostile import hostile_clone

REAL = "def settle_invoice(order):\n    return sum(order)\n"
CACHE = Path(".codegen") / "index" / "tags.marshal"
#: What a daemon may map at most in these tests: far above its ~1 GB of address space, far below
#: what reading /dev/zero would take if a guard were gone.
ADDRESS_SPACE = 6 * 1024**3


def planted_row(path: str) -> tuple:
    """A well-formed row, as codegen would write it, for a file the attacker names."""
    return (path, "python", 1, 1, [("planted_by_attacker", "function", 0, 1, "def planted_by_attacker():", -1)],
            {}, [])


def plant_cache(repo: Path, outside: Path, kind: str) -> None:
    (repo / "billing.py").write_text(REAL)
    cache = repo / CACHE
    if kind == "folder-link":  # the whole index folder points outside: the cache must not be written there
        (repo / ".codegen").mkdir()
        (repo / ".codegen" / "index").symlink_to(os.path.relpath(outside / "notes", repo / ".codegen"))
        return
    cache.parent.mkdir(parents=True)
    if kind == "unsealed":
        rows = [planted_row("billing.py"), planted_row("ghost.py")]
        cache.write_bytes(marshal.dumps((store.FORMAT_VERSION, _query_digest(), rows)))
    elif kind == "dev-zero":
        cache.symlink_to("/dev/zero")


def after_clone(clone: Path, kind: str) -> None:
    """What cannot come through git: a FIFO, and a cache sealed with this user's key (a bug or an
    older codegen wrote it so) whose row is short."""
    cache = clone / CACHE
    if kind == "fifo":
        cache.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(cache)
    elif kind == "short-row":
        cache.parent.mkdir(parents=True, exist_ok=True)
        rows = [("billing.py", "python", 1)]
        save_bytes(cache, marshal.dumps((store.FORMAT_VERSION, _query_digest(), rows)), store.PURPOSE)


def warnings_about(log: Path, needle: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if "WARNING" in line and needle in line]


async def context_text(editor, task: str) -> str:
    return (await editor.execute("codegen.context", {"task": task, "budget": 600}))["text"]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("kind", ["unsealed", "dev-zero", "fifo", "short-row", "folder-link"])
async def test_a_planted_index_cache_is_ignored_and_context_still_works(tmp_path: Path, editor_factory,
                                                                        kind: str) -> None:
    clone, outside = hostile_clone(tmp_path, lambda repo, out: plant_cache(repo, out, kind))
    after_clone(clone, kind)
    log = tmp_path / "daemon.log"
    editor = await editor_factory(clone, client="neovim", server_args=["--log-file", str(log)])
    # The cache is read at the first request: bounded from here on, so a lost guard fails this
    # test with a MemoryError instead of taking the machine's memory.
    resource.prlimit(editor.client._server.pid, resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    text = await context_text(editor, "settle_invoice planted_by_attacker")
    assert "def settle_invoice(order):" in text
    assert "planted_by_attacker" not in text
    named = ".codegen/index" if kind == "folder-link" else str(CACHE)
    [warning] = warnings_about(log, f"ignored {clone}/{named}")
    assert "Traceback" not in log.read_text()

    (clone / "shipping.py").write_text("def ship_order(order):\n    return order\n")
    assert "def ship_order(order):" in await context_text(editor, "ship_order")  # still answering
    assert warnings_about(log, f"ignored {clone}/{named}") == [warning]  # one warning, not one per request
    assert outside.changes() == []
    if kind != "folder-link":  # the planted file was replaced by codegen's own sealed cache
        deadline = time.monotonic() + 20  # written in the background, between requests
        while set(store.load(clone, _query_digest())) != {"billing.py", "shipping.py"}:
            assert time.monotonic() < deadline, "the index cache was not written"
            await asyncio.sleep(0.1)
        assert store.cache_exists(clone)
    else:
        assert (clone / ".codegen" / "index").is_symlink() and not (outside.folder / "notes" / "tags.marshal").exists()


def test_a_sealed_cache_round_trips_and_an_unsealed_copy_of_it_does_not(tmp_path: Path, caplog) -> None:
    """The seal is what makes a cache codegen's: the same bytes without it are refused."""
    (tmp_path / "billing.py").write_text(REAL)
    WorkspaceIndex(tmp_path).refresh()
    loaded = store.load(tmp_path, _query_digest())
    assert [d.name for d in loaded["billing.py"].tags.definitions] == ["settle_invoice"]

    payload = open_bytes((tmp_path / CACHE).read_bytes(), store.PURPOSE)
    (tmp_path / CACHE).write_bytes(payload)  # the very records, as an older codegen wrote them: no seal
    assert store.load(tmp_path, _query_digest()) == {}
    assert any("was not written by codegen" in r.getMessage() for r in caplog.records)


GOOD_ROW = ("billing.py", "python", 1, 1, [("settle_invoice", "function", 0, 1, "def settle_invoice(order):", -1)],
            {}, [])


@pytest.mark.parametrize("rows", [
    [("billing.py", "python", 1)],  # short
    [GOOD_ROW[:6] + ("not a list",)],  # a field of the wrong type
    [(7,) + GOOD_ROW[1:]],  # a path that is not a string
    [GOOD_ROW[:4] + ([("settle_invoice", "function")],) + GOOD_ROW[5:]],  # a short definition
    ["billing.py"],  # not a row at all
], ids=["short-row", "wrong-type", "int-path", "short-definition", "not-a-row"])
def test_a_sealed_cache_with_a_malformed_row_reads_as_no_cache(tmp_path: Path, caplog, rows) -> None:
    """Sealed by this user (a bug, another version), yet not what this codegen writes: one warning,
    then a fresh index, never a traceback."""
    (tmp_path / "billing.py").write_text(REAL)
    (tmp_path / CACHE).parent.mkdir(parents=True)
    save_bytes(tmp_path / CACHE, marshal.dumps((store.FORMAT_VERSION, _query_digest(), [GOOD_ROW, *rows])),
               store.PURPOSE)
    assert store.load(tmp_path, _query_digest()) == {}
    assert [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()] == [
        f"ignored {tmp_path / CACHE}: a record in it is malformed. {store.REMEDY}"]
    stats = WorkspaceIndex(tmp_path).refresh()
    assert (stats.parsed, stats.files) == (1, 1)
