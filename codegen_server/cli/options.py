"""What the subcommands' parsers share: help layout and the common options.

Light on purpose: ``codegen --help`` builds every subcommand's parser, so nothing here (or in
a subcommand module's top level) may load the workflows, the model client or the context engine.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

__all__ = ["add_allow_config_edits", "add_model_options", "add_root_option", "help_text"]


def help_text(examples: list[str], exit_status: str = "") -> dict:
    """``add_parser`` keywords for a subcommand's help: its exit status, then one or two examples, last."""
    epilog = textwrap.fill(f"exit status: {exit_status}", 79, subsequent_indent="  ") + "\n\n" if exit_status else ""
    epilog += "examples:\n" + "".join(f"  {example}\n" for example in examples)
    return {"formatter_class": argparse.RawDescriptionHelpFormatter, "epilog": epilog}


def add_root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=".", type=Path, help="the workspace (default: the current folder)")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model name (default: $CODEGEN_MODEL or gpt-4o)")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL or OpenAI)")
    parser.add_argument("--timeout", type=float,
                        help="seconds to wait for the model (default: $CODEGEN_MODEL_TIMEOUT or 120)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print no progress (default: progress on stderr)")


def add_allow_config_edits(parser: argparse.ArgumentParser) -> None:
    """``--allow-config-edits``: a command that writes to disk (nobody previews it) refuses, without it, a
    change to a file that makes an editor, a shell or git run code (``edits.sensitive``)."""
    parser.add_argument("--allow-config-edits", action="store_true",
                        help="write changes to files that make an editor, a shell or git run code (.vscode/"
                             "settings.json, .envrc, .gitattributes, git hooks...) (default: refused, nothing written)")
