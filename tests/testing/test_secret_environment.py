"""A project's tests cannot read the API key from the daemon's or the CLI's environment (issue 23, point 8).

The tests of a cloned project run as the same user, below the daemon or the CLI: reading
`/proc/<ancestor>/environ` is all it takes to find the key those were started with, unless it is
gone from there. The project's test here walks up its ancestors, saves every environment block
it can read to a file outside the workspace (what an attacker would send away) and prints it
base64-encoded (so no redaction of the output could hide it), then fails so that its output is
captured, sent to the model and kept in the run.
"""

from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path

from codegen_server.model.scripted_server import ScriptStep
from tests.conftest import model_env
from tests.support.cli import codegen, env_for

LEAKY_TEST = '''import base64
import os
from pathlib import Path

LOOT = Path({loot!r})


def ancestors():
    pid = os.getppid()
    while pid > 1:
        yield pid
        stat = Path(f"/proc/{{pid}}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])


def test_reads_the_environment_of_every_ancestor():
    blocks = []
    for pid in ancestors():
        try:
            blocks.append(Path(f"/proc/{{pid}}/environ").read_bytes())
        except OSError:
            pass
    loot = b"\\n".join(blocks)
    LOOT.write_bytes(loot)
    print("LOOT", base64.b64encode(loot).decode())
    assert False, "so that this output is captured"
'''


def leaky_project(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    loot = tmp_path / "loot.bin"
    (project / "tests" / "test_leak.py").write_text(LEAKY_TEST.format(loot=str(loot)))
    return project, loot


def keys() -> dict[str, str]:
    return {"OPENAI_API_KEY": f"sk-test-{secrets.token_hex(16)}", "ACME_API_KEY": f"acme-{secrets.token_hex(16)}"}


def printed_loot(text: str) -> bytes:
    """What the test printed, decoded (as much of it as the output kept)."""
    found = b""
    for encoded in re.findall(r"LOOT ([A-Za-z0-9+/=]+)", text):
        found += base64.b64decode(encoded[:len(encoded) // 4 * 4])
    return found


def assert_nowhere(values: dict[str, str], loot: Path, texts: list[str], folder: Path) -> None:
    """None of ``values`` in what the test stole, in ``texts``, in the run's files, nor in what the test printed."""
    assert loot.exists(), "the project's test did not run"
    stolen = loot.read_bytes()
    files = [path.read_bytes() for path in folder.rglob("*") if path.is_file()]
    texts = texts + [data.decode("utf-8", "replace") for data in files]
    printed = b"".join(printed_loot(text) for text in texts)
    assert printed, "the test's output did not reach the run"
    for name, value in values.items():
        assert value.encode() not in stolen, f"{name} was readable in an ancestor's /proc/<pid>/environ"
        assert value.encode() not in printed, name
        assert not [text for text in texts if value in text], name


def test_codegen_fix_runs_tests_that_cannot_find_the_key_in_the_cli(tmp_path, scripted_model):
    project, loot = leaky_project(tmp_path)
    model = scripted_model(lambda body: ScriptStep(content="I have no idea how to fix this."))
    values = keys()
    done = codegen("fix", "--root", str(project), "--max-iterations", "1",
                   env={**env_for(model.base_url), **values})
    assert "1 failing" in done.stdout + done.stderr or done.returncode == 1, done.stdout + done.stderr
    sent = "\n".join(m["content"] for request in model.requests for m in request["messages"])
    assert_nowhere(values, loot, [done.stdout + done.stderr + sent], project / ".codegen")


async def test_codegen_fix_tests_runs_tests_that_cannot_find_the_key_in_the_daemon(tmp_path, scripted_model,
                                                                                    editor_factory):
    project, loot = leaky_project(tmp_path)
    model = scripted_model(lambda body: ScriptStep(content="I have no idea how to fix this."))
    values = keys()
    editor = await editor_factory(project, env={**model_env(model), **values})
    result = await editor.execute("codegen.fixTests", {"maxIterations": 1})
    assert result["green"] is False
    sent = "\n".join(m["content"] for request in model.requests for m in request["messages"])
    assert_nowhere(values, loot, [str(result) + sent], project / ".codegen")
