"""`codegen memory` — the standing preferences every prompt in the workspace includes."""

from __future__ import annotations

import argparse
import sys

from .options import add_root_option, help_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "memory", help="list, add or forget the preferences kept in .codegen/memory.md",
        **help_text(["codegen memory", "codegen memory --add 'use pathlib, not os.path'"],
                    "0 listed, added or forgotten, 1 no such entry or the workspace cannot be used, 2 usage"))
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--add", metavar="TEXT", help="remember a preference (default: list the entries)")
    action.add_argument("--forget", metavar="N", type=int, help="remove entry N, as listed (default: list the entries)")
    add_root_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..store import memory
    from ..workflows.host import WorkflowError
    from .common import fail, resolve_root

    try:
        root = resolve_root(args)
        if args.add is not None:
            entries = memory.remember(root, args.add)
        elif args.forget is not None:
            entries = memory.forget(root, args.forget)
        else:
            entries = memory.read_entries(root)
    except (WorkflowError, ValueError, IndexError) as error:
        return fail(error)
    if not entries:
        print(f"nothing remembered yet ({memory.memory_path(root)})", file=sys.stderr)
    for number, entry in enumerate(entries, 1):
        print(f"{number}. {entry}")
    return 0
