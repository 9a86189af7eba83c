"""Every subcommand's help gives its exit status, and the README's CLI table lists every option it takes."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from codegen_server.cli import build_parser

README = Path(__file__).resolve().parents[2] / "README.md"
#: Options every command that calls the model takes; the README gives them once, under the table.
MODEL_OPTIONS = {"--model", "--base-url", "--timeout", "--quiet"}


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_every_command_gives_its_exit_status_and_the_readme_lists_its_options() -> None:
    readme = README.read_text()
    missing = []
    for name, command in subcommands().items():
        assert "exit status:" in command.format_help(), f"`codegen {name} --help` says no exit status"
        rows = "\n".join(re.findall(rf"^\| `codegen {name}\b.*$", readme, re.M))
        assert rows, f"the README's CLI table has no row for `codegen {name}`"
        for action in command._actions:
            missing += [f"{name} {option}" for option in action.option_strings
                        if option.startswith("--") and option != "--help" and option not in MODEL_OPTIONS
                        and option not in rows]
    assert not missing, f"options the README's CLI table does not list: {missing}"
    for option in MODEL_OPTIONS:
        assert f"`{option}" in readme
