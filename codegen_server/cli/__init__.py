"""`codegen`: every workflow from a terminal, on the same engine as the daemon.

Each subcommand is a module with ``add_parser(subparsers)`` that sets ``func=run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__
from ..logs import trust_notices_to_stderr

SUBCOMMANDS = ["clarify", "generate", "apply", "feedback", "fix", "undo", "context", "replay", "memory"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codegen", description="Write, review and repair code with an LLM.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_epilog())
    parser.add_argument("--version", action="version", version=f"codegen {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="on an unexpected error, print its traceback (before COMMAND; default: one line)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=IntermixedParser)
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        module.add_parser(subparsers)
    return parser


class IntermixedParser(argparse.ArgumentParser):
    """A subcommand's parser that takes its options and positionals in any order:
    `codegen feedback FILE --lines 6-10 COMMENT` as well as `codegen feedback --lines 6-10 FILE COMMENT`
    (plain argparse stops filling optional positionals at the first option)."""

    _intermixing = False

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        if self._intermixing:  # parse_known_intermixed_args calls back here for each of its two passes
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def _epilog() -> str:
    """Every environment variable codegen reads, then examples: the end of `codegen --help`."""
    from ..model.settings import ENV_VARIABLES

    width = max(map(len, ENV_VARIABLES))
    variables = "".join(f"  {name:<{width}}  {meaning}\n" for name, meaning in ENV_VARIABLES.items())
    return (f"environment (editor settings override them in the daemon):\n{variables}\n"
            "`codegen COMMAND --help` shows a command's options, exit status and examples.\n\n"
            "examples:\n"
            '  codegen generate --root demo "a command-line todo app in Python with pytest tests"\n'
            "  codegen fix --root demo\n")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    trust_notices_to_stderr()
    try:
        _recover(getattr(args, "root", None))
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("codegen: interrupted; nothing more was written.", file=sys.stderr)
        return 130
    except Exception as error:  # the last line of defense: one line, never a traceback unless asked
        return _report(error, args.debug)


def _report(error: Exception, debug: bool) -> int:
    """An error no command caught, in one line: a user error or a file-system one as it is, anything else
    as a bug; its traceback only with ``--debug``."""
    import traceback

    from ..redaction import redact
    from .common import USER_ERRORS

    if isinstance(error, USER_ERRORS):
        line = f"codegen: {error}"
    elif isinstance(error, OSError):  # a folder removed under us, a full disk: the user can act on it
        where = f": {error.filename}" if error.filename else ""
        line = f"codegen: {error.strerror or error}{where}; nothing more was done."
    else:
        line = (f"codegen: internal error: {type(error).__name__}: {error}. Nothing more was done; "
                "`codegen --debug ...` shows the details (please report them).")
    print(redact(line), file=sys.stderr)
    if debug:
        print(redact("".join(traceback.format_exception(error))), file=sys.stderr)
    return 1


def _recover(root: object) -> None:
    """Finish or roll back a multi-file apply that crashed in the workspace, before anything reads it."""
    from pathlib import Path

    from ..edits import recover

    if isinstance(root, (str, Path)) and Path(root).expanduser().is_dir():
        try:
            if recover(Path(root).expanduser()):
                print("codegen: completed or rolled back an interrupted apply in this workspace.", file=sys.stderr)
        except OSError as error:
            print(f"codegen: could not recover an interrupted apply: {error}", file=sys.stderr)
