"""`codegen`: every workflow from a terminal, on the same engine as the daemon.

Each subcommand is a module with ``add_parser(subparsers)`` that sets ``func=run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__

SUBCOMMANDS = ["clarify", "generate", "apply", "feedback", "fix", "undo", "context", "replay"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codegen", description="Write, review and repair code with an LLM.")
    parser.add_argument("--version", action="version", version=f"codegen {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("codegen: interrupted; nothing more was written.", file=sys.stderr)
        return 130
