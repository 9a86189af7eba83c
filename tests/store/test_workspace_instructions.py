"""Memory and preprompt overrides in a cloned repository: read as regular files inside the workspace only.

A `.codegen/memory.md` or `.codegen/preprompts/<name>` that is a symlink (to a secret outside, to
/dev/zero, to /dev/stdin), a FIFO or an oversized file is ignored with one warning naming it: nothing
of it reaches the model or any run file, the shipped preprompt is used, and the command (or the
daemon) goes on (issue 23)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import pytest

from codegen_server.model.scripted_server import ScriptStep
from codegen_server.preprompts import default_dir
from tests.conftest import model_env
from tests.support.answers import NEW_MODULE, NOTHING_TO_CLARIFY
from tests.support.cli import codegen, env_for
from tests.support.hostile import hostile_clone

SECRET = "TOP-SECRET"  # what hostile_clone's outside/secret.txt holds


def _link(name: str, target: str) -> Callable[[Path, Path], None]:
    def plant(repo: Path, outside: Path) -> None:
        (repo / ".codegen" / "preprompts").mkdir(parents=True)
        os.symlink(target, repo / ".codegen" / name)
    return plant


def _oversized(repo: Path, outside: Path) -> None:
    (repo / ".codegen").mkdir()
    (repo / ".codegen" / "memory.md").write_text(f"- {SECRET} preference\n" * 20_000)  # ~500 KiB


#: How the repository is planted, and the file the command must name (a FIFO is made after cloning:
#: git cannot carry one).
CASES = {
    "memory-to-secret": (_link("memory.md", "../../outside/secret.txt"), "memory.md"),
    "preprompt-to-secret": (_link("preprompts/generate", "../../../outside/secret.txt"), "preprompts/generate"),
    "philosophy-to-secret": (_link("preprompts/philosophy", "../../../outside/secret.txt"), "preprompts/philosophy"),
    "memory-to-dev-zero": (_link("memory.md", "/dev/zero"), "memory.md"),
    "memory-oversized": (_oversized, "memory.md"),
    "memory-fifo": (lambda repo, outside: None, "memory.md"),
}


def _clone(tmp_path: Path, case: str):
    plant, named = CASES[case]
    clone, outside = hostile_clone(tmp_path, plant)
    if case == "memory-fifo":
        (clone / ".codegen").mkdir(exist_ok=True)
        os.mkfifo(clone / ".codegen" / "memory.md")
    return clone, outside, clone / ".codegen" / named


def _run_files(clone: Path) -> str:
    runs = clone / ".codegen" / "runs"
    return "".join(p.read_text(errors="replace") for p in runs.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.parametrize("case", list(CASES))
def test_generate_sends_nothing_of_a_file_it_must_not_read(tmp_path, scripted_model, case):
    clone, outside, named = _clone(tmp_path, case)
    model = scripted_model([ScriptStep(content=NEW_MODULE)])
    done = codegen("generate", "a calculator", "--root", str(clone), env=env_for(model.base_url), timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"ignored {named}" in done.stderr, done.stderr  # the command says which file it ignored
    sent = json.dumps(model.requests)
    assert SECRET not in sent and SECRET not in _run_files(clone)
    system = model.requests[0]["messages"][0]["content"]
    assert "standing preferences" not in system  # no memory section at all
    for shipped in ("philosophy", "generate"):  # the shipped preprompts are in force
        assert (default_dir() / shipped).read_text(encoding="utf-8").strip() in system
    assert outside.changes() == []


@pytest.mark.parametrize("case", ["memory-to-secret", "memory-to-dev-zero", "memory-fifo"])
def test_codegen_memory_lists_nothing_and_replaces_nothing(tmp_path, case):
    clone, outside, named = _clone(tmp_path, case)
    listed = codegen("memory", "--root", str(clone), env=env_for(None), timeout=60)
    assert listed.returncode == 0 and SECRET not in listed.stdout + listed.stderr, listed.stderr
    assert f"ignored {named}" in listed.stderr and "nothing remembered yet" in listed.stderr
    for change in (["--add", "use tabs"], ["--forget", "1"]):
        refused = codegen("memory", *change, "--root", str(clone), env=env_for(None), timeout=60)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
        assert str(named) in refused.stderr and "Nothing was written" in refused.stderr, refused.stderr
    assert os.path.islink(named) or named.is_fifo()  # left as it was: not replaced, not written through
    assert outside.changes() == []


async def test_the_daemon_ignores_them_and_keeps_answering(tmp_path, scripted_model, editor_factory):
    def plant(repo: Path, outside: Path) -> None:
        (repo / ".codegen" / "preprompts").mkdir(parents=True)
        os.symlink("/dev/stdin", repo / ".codegen" / "memory.md")
        os.symlink("../../../outside/secret.txt", repo / ".codegen" / "preprompts" / "clarify")

    clone, outside = hostile_clone(tmp_path, plant)
    log = tmp_path / "daemon.log"
    model = scripted_model([ScriptStep(content=NOTHING_TO_CLARIFY), ScriptStep(content=NEW_MODULE)])
    editor = await editor_factory(clone, env=model_env(model), server_args=["--log-file", str(log)])

    clarified = await editor.execute("codegen.clarify", {"prompt": "a calculator"})
    assert clarified["done"] is True
    generated = await editor.execute("codegen.generateProject", {"runId": clarified["runId"], "apply": "disk"})
    assert generated["applied"] is True
    memory = await editor.execute("codegen.memory", {})
    assert memory["entries"] == []

    sent = json.dumps(model.requests)
    assert len(model.requests) == 2 and SECRET not in sent and SECRET not in _run_files(clone)
    assert "find out what is unclear" in model.requests[0]["messages"][0]["content"]  # the shipped clarify
    said = log.read_text()
    assert f"ignored {clone / '.codegen' / 'memory.md'}" in said
    assert f"ignored {clone / '.codegen' / 'preprompts' / 'clarify'}" in said
    assert outside.changes() == []
