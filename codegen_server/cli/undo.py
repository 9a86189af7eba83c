"""`codegen undo [RUN_ID] [--to CHECKPOINT]` — return the workspace to a run's start or an iteration.

Without RUN_ID: the latest run (by start time) that left files changed, as the daemon's codegen.undo.
"""

from __future__ import annotations

import argparse
import sys

from .options import add_root_option, help_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("undo", help="return the workspace to a checkpoint of a run",
                                   **help_text(["codegen undo",
                                                'codegen undo 20261123-101500-a1b2c3 --to "iteration 2"'],
                                               "0 restored, 1 failed (unknown run or checkpoint), 2 usage"))
    parser.add_argument("run_id", nargs="?", default=None,
                        help="the run, as printed by codegen fix (see .codegen/runs/); default: the latest run "
                             "that left files changed")
    parser.add_argument("--to", default="start", help='"start" (default), "iteration N", or a checkpoint id')
    add_root_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows import undo
    from .common import USER_ERRORS, fail, run_workflow

    try:
        result = run_workflow(args, lambda host: undo.undo(host, args.run_id, args.to))
    except USER_ERRORS as error:
        return fail(error)
    print(f"run {result.run_id}: restored {result.restored_to}: {len(result.written)} file(s) written, "
          f"{len(result.removed)} removed (undo this with: codegen undo {result.run_id} --to {result.before_undo})",
          file=sys.stderr)
    for link in result.skipped_links:
        print(f"not restored: {link}, a symlink pointing outside the workspace", file=sys.stderr)
    return 0
