"""Every shell example in the README runs here as written, or is listed below with why it is not.

The examples run in order against the scripted model, as a reader would type them: only the paths and
ports they name are moved (into a temporary folder, a free port), and the README's placeholders
(a run id, PORT) take the values the earlier examples printed. A new example that is neither run nor
listed fails this test, so the README cannot grow an example nobody tried.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from codegen_server.model.scripted_server import ScriptStep
from tests.support.answers import CALC_FILES, CALC_PROJECT
from tests.support.cli import env_for

README = Path(__file__).resolve().parent.parent / "README.md"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")

#: Examples not run here, by their first words, and why.
NOT_RUN: dict[tuple[str, ...], str] = {
    ("python3", "-m", "venv"): "creates the .venv this suite itself runs from",
    (".venv/bin/pip", "install"): "installs codegen, which this suite runs from",
    ("scripts/test",): "is this suite",
    ("apt-get", "install"): "installs a Debian package (a benchmark's peer)",
    (".venv/bin/python", "benchmarks/"): "a benchmark: minutes each, run by hand as the README's Benchmarks say",
}


def readme_commands() -> list[list[str]]:
    """Each command of the README's ``sh`` blocks as words, comments dropped, `&&` chains split."""
    commands = []
    for block in SH_BLOCK.findall(README.read_text()):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            while words:
                end = words.index("&&") if "&&" in words else len(words)
                commands.append(words[:end])
                words = words[end + 1:]
    return commands


def not_run_reason(words: list[str]) -> str | None:
    """Why ``words`` is not run here, or None if it must be."""
    for prefix, why in NOT_RUN.items():
        if len(words) >= len(prefix) and all(w.startswith(p) if p.endswith("/") else w == p
                                             for w, p in zip(words, prefix)):
            return why
    return None


@dataclass
class Reader:
    """Runs the README's examples one after another in ``home``, remembering what they printed."""

    home: Path
    model_url: str
    moved: dict[str, str] = field(default_factory=dict)
    last_root: Path | None = None
    replay: subprocess.Popen | None = None
    results: list[str] = field(default_factory=list)

    def env(self, assignments: dict[str, str]) -> dict[str, str]:
        env = env_for(self.model_url)
        env["XDG_STATE_HOME"] = str(self.home / "state")  # the TCP token file goes here, not in ~
        env.update(assignments)
        return env

    def place(self, word: str) -> str:
        """``word`` with the README's paths, ports and placeholders given this run's values."""
        for literal, value in self.moved.items():
            word = word.replace(literal, value)
        return word

    def run(self, words: list[str]) -> None:
        assignments = {}
        while words and ASSIGNMENT.match(words[0]):
            name, value = words[0].split("=", 1)
            assignments[name] = self.place(value)
            words = words[1:]
        program, *args = words
        args = [self.place(a) for a in args]
        if program in ("codegen", ".venv/bin/codegen"):
            self.codegen(args, self.env(assignments))
        elif program == "codegen-server":
            self.daemon(args, self.env(assignments))
        else:
            raise AssertionError(f"the README's example `{shlex.join(words)}` is neither run nor listed in NOT_RUN")

    def codegen(self, args: list[str], env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "codegen_server.cli", *args]
        if args[0] == "replay":
            assert Path(args[1]).is_dir(), f"replay's example names {args[1]}, which no earlier example made"
            self.replay = subprocess.Popen(command, cwd=self.home, env=env, stdout=subprocess.PIPE,
                                           stderr=subprocess.DEVNULL, text=True)
            printed = self.replay.stdout.readline().strip()
            assert re.fullmatch(r"OPENAI_BASE_URL=http://127\.0\.0\.1:\d+/v1", printed), printed
            self.moved["PORT"] = printed.rsplit(":", 1)[1].split("/")[0]
            self.results.append("replay")
            return
        done = subprocess.run(command, cwd=self.home, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, f"`codegen {shlex.join(args)}` exited {done.returncode}:\n{done.stderr}"
        assert args[0] == "generate", args
        root = self.home / args[args.index("--root") + 1]
        for path in CALC_FILES:
            assert (root / path).is_file(), f"`codegen {shlex.join(args)}` did not write {path}"
        if self.last_root is not None:  # the replayed run writes what the recorded one wrote
            for path in CALC_FILES:
                assert (root / path).read_bytes() == (self.last_root / path).read_bytes()
        self.last_root = root
        # The replay example names a run folder; it is the run this example just recorded.
        [run] = (root / ".codegen" / "runs").iterdir()
        self.moved[".codegen/runs/20261123-041500-a1b2c3"] = str(run)
        self.results.append(f"generate into {root.name}")

    def daemon(self, args: list[str], env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "codegen_server.server", *args]
        if "--tcp" in args:
            server = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)
            try:
                line = server.stderr.readline()
                assert re.search(r"listening on 127\.0\.0\.1:\d+; the client's token is in ", line), line
                assert Path(line.rsplit(" in ", 1)[1].strip()).is_file()
            finally:
                server.terminate()
                server.wait(timeout=30)
            self.results.append("daemon over tcp")
            return
        # With nothing on stdin, the daemon says it speaks LSP and exits 1, as its exit status promises.
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 1 and "no LSP message arrived on stdin" in done.stderr, done.stderr
        if "--log-file" in args:
            assert Path(args[args.index("--log-file") + 1]).is_file()
        self.results.append("daemon over stdio")


def test_every_readme_shell_example_runs_as_written_or_says_why_not(tmp_path, scripted_model):
    model = scripted_model(lambda request: ScriptStep(content=CALC_PROJECT))
    reader = Reader(home=tmp_path, model_url=model.base_url,
                    moved={"/tmp/again": str(tmp_path / "again"), "/tmp/codegen.log": str(tmp_path / "codegen.log"),
                           "127.0.0.1:2087": "127.0.0.1:0"})
    try:
        for words in readme_commands():
            if not_run_reason(words) is None:
                reader.run(words)
    finally:
        if reader.replay is not None:
            reader.replay.terminate()
            reader.replay.wait(timeout=30)
    # The README's sequence: the one-liner's generate, the daemon's three starts, then replay and re-run.
    assert reader.results == ["generate into demo", "daemon over stdio", "daemon over tcp", "daemon over stdio",
                              "replay", "generate into again"], reader.results


def test_every_listed_exception_still_names_a_readme_example():
    commands = readme_commands()
    for prefix in NOT_RUN:
        assert any(not_run_reason(words) == NOT_RUN[prefix] for words in commands), (
            f"NOT_RUN lists {prefix}, which no README example starts with any more")
