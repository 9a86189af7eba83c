""".gitignore files a cloned repository carries are read as git reads them, within caps (issue 23, point 3).

The index (and its watcher) read every .gitignore on the way down. A ``.gitignore -> /dev/zero``
used to exhaust memory, a FIFO to hang the walk, and a symlink to a file outside applied rules
from outside the workspace (git does not follow a symlinked .gitignore). Each is planted in a
repository and the clone opened: `codegen context` and the daemon answer with the real code
(rules from outside applied to nothing), the file is named once in a warning, nothing hangs
(pytest-timeout) and memory stays bounded (the processes run under an address-space limit, so a
lost guard fails with a MemoryError rather than taking the machine's memory).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from codegen_server.context.walk import walk_sources
from codegen_server.trust.ignore_files import IGNORE_FILE_LIMIT, MAX_PATTERNS, read_ignore_lines
from tests.support.cli import env_for
from tests.support.hostile import hostile_clone

ADDRESS_SPACE = 6 * 1024**3
APP = "def settle_invoice(order):\n    return sum(order)\n"
NESTED = "def ship_order(order):\n    return order\n"


def plant(repo: Path, outside: Path, kind: str) -> None:
    (repo / "billing.py").write_text(APP)
    (repo / "pkg").mkdir()
    (repo / "pkg" / "shipping.py").write_text(NESTED)
    (outside / "rules").write_text("*.py\n")  # what the link would apply: hide every Python file
    if kind == "outside-rules":
        (repo / ".gitignore").symlink_to(os.path.relpath(outside / "rules", repo))
    elif kind == "dev-zero":
        (repo / ".gitignore").symlink_to("/dev/zero")
    elif kind == "huge":  # over the size cap, and it would hide the Python files if read
        (repo / "pkg" / ".gitignore").write_text("*.py\n" + "x" * IGNORE_FILE_LIMIT + "\n")
    elif kind == "many-patterns":
        (repo / "pkg" / ".gitignore").write_text("*.py\n" + "".join(f"p{i}\n" for i in range(MAX_PATTERNS)))


def planted(tmp_path: Path, kind: str):
    clone, outside = hostile_clone(tmp_path, lambda repo, out: plant(repo, out, kind))
    if kind == "fifo":  # git cannot carry one; another program can leave it
        os.mkfifo(clone / "pkg" / ".gitignore")
    return clone, outside


def ignore_file(clone: Path, kind: str) -> Path:
    return clone / (".gitignore" if kind in ("outside-rules", "dev-zero") else "pkg/.gitignore")


KINDS = ["outside-rules", "dev-zero", "fifo", "huge", "many-patterns"]


#: `codegen ARGS` with its address space bounded from its first instruction.
BOUNDED_CODEGEN = ("import resource, runpy, sys; "
                   f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE})); "
                   "sys.argv[0] = 'codegen'; runpy.run_module('codegen_server.cli', run_name='__main__')")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", KINDS)
def test_codegen_context_ignores_a_planted_ignore_file(tmp_path: Path, kind: str) -> None:
    clone, outside = planted(tmp_path, kind)
    done = subprocess.run([sys.executable, "-c", BOUNDED_CODEGEN, "context", "settle_invoice ship_order",
                           "--root", str(clone)], env=env_for(None), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=50)
    assert done.returncode == 0, done.stderr
    assert "def settle_invoice(order):" in done.stdout and "def ship_order(order):" in done.stdout
    assert done.stderr.count(f"ignored {ignore_file(clone, kind)}") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert outside.changes() == []


@pytest.mark.timeout(90)
@pytest.mark.parametrize("kind", KINDS)
async def test_the_daemon_and_its_watcher_ignore_a_planted_ignore_file(tmp_path: Path, editor_factory,
                                                                       kind: str) -> None:
    clone, outside = planted(tmp_path, kind)
    log = tmp_path / "daemon.log"
    editor = await editor_factory(clone, client="neovim", server_args=["--log-file", str(log)])
    resource.prlimit(editor.client._server.pid, resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    run = lambda task: editor.execute("codegen.context", {"task": task, "budget": 600})  # noqa: E731
    text = (await run("settle_invoice ship_order"))["text"]
    assert "def settle_invoice(order):" in text and "def ship_order(order):" in text

    (clone / "pkg" / "shipping.py").write_text("def ship_parcel(order):\n    return order\n")
    assert "def ship_parcel(order):" in (await run("ship_parcel"))["text"]  # the watcher works there too
    lines = log.read_text().splitlines()
    assert len([line for line in lines if f"ignored {ignore_file(clone, kind)}" in line]) == 1
    assert not any("Traceback" in line for line in lines)
    assert outside.changes() == []


def test_read_ignore_lines_reads_a_regular_file_and_nothing_else(tmp_path: Path, caplog) -> None:
    (tmp_path / "plain").write_text("*.log\n# a comment\n\nbuild/\n")
    assert read_ignore_lines(tmp_path / "plain") == ["*.log", "# a comment", "", "build/"]
    assert read_ignore_lines(tmp_path / "absent") is None
    (tmp_path / "link").symlink_to(tmp_path / "plain")
    (tmp_path / "folder").mkdir()
    for refused in ("link", "folder"):
        assert read_ignore_lines(tmp_path / refused) is None
        assert any(f"ignored {tmp_path / refused}" in r.getMessage() for r in caplog.records), refused
    # A symlinked .gitignore's rules are applied to nothing (git does not follow it either).
    (tmp_path / "rules").write_text("hidden.py\n")
    (tmp_path / ".gitignore").symlink_to(tmp_path / "rules")
    (tmp_path / "hidden.py").write_text("")
    (tmp_path / "run.py").write_text("")
    assert [f.path for f in walk_sources(tmp_path)] == ["hidden.py", "run.py"]
