"""`codegen --help` and each subcommand's help: defaults, exit status, examples, environment."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from codegen_server.cli import SUBCOMMANDS, build_parser
from codegen_server.model.settings import ENV_VARIABLES


def subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    [subparsers] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(subparsers.choices)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_option_says_its_default_and_the_help_ends_with_examples(name):
    parser = subcommand_parsers()[name]
    for action in parser._actions:
        if action.option_strings and action.nargs != 0 and not isinstance(action, argparse._HelpAction):
            assert action.help and "default" in action.help, f"codegen {name} {action.option_strings[0]}"
    text = parser.format_help().rstrip()
    examples = text.split("\nexamples:\n")[-1].splitlines()
    assert "\nexamples:\n" in text and 1 <= len(examples) <= 2, text
    assert all(line.startswith("  ") and "codegen " + name in line for line in examples), examples


def test_apply_lists_its_exit_codes():
    text = subcommand_parsers()["apply"].format_help()
    status = text.split("exit status:")[1].split("examples:")[0]
    assert "0 applied" in status and "1 refused" in status and "2 usage" in status


def test_codegen_help_names_every_environment_variable():
    done = subprocess.run([sys.executable, "-m", "codegen_server.cli", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    for variable in ENV_VARIABLES:
        assert variable in done.stdout
    assert "CODEGEN_MODEL_TIMEOUT" in done.stdout and "CODEGEN_MODEL_MAX_RETRIES" in done.stdout


def test_codegen_server_help_names_the_environment_and_its_exit_status():
    done = subprocess.run([sys.executable, "-m", "codegen_server.server", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    assert all(variable in done.stdout for variable in ENV_VARIABLES)
    assert "exit status:" in done.stdout and done.stdout.rstrip().splitlines()[-1].startswith("  codegen-server")
