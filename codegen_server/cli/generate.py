"""`codegen generate PROMPT | --run RUN_ID` — write the project into the workspace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .options import add_allow_config_edits, add_model_options, help_text

if TYPE_CHECKING:
    from ..workflows.host import Applier, Host


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="generate a project (or changes) from a prompt",
                                   **help_text(['codegen generate --root demo "a command-line todo app in Python '
                                                'with pytest tests"', "codegen generate --run 20261123-101500-a1b2c3"],
                                               "0 written (or --dry-run) and its tests pass, it has none, or "
                                               "they cannot run here (said why), 1 failed, not applied (a file "
                                               "that runs code without --allow-config-edits), or its tests fail, "
                                               "2 usage"))
    parser.add_argument("prompt", nargs="?", help="what to build")
    parser.add_argument("--run", help="generate from this clarified run (default: a new run from PROMPT)")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing (default: write)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (default: the files written)")
    parser.add_argument("--test-cmd", help="the test command run once written (default: detected from the project)")
    parser.add_argument("--fix", action="store_true",
                        help="when the tests fail once written, go on into the fix loop, as `codegen fix` does "
                             "(default: report them)")
    add_allow_config_edits(parser)
    parser.add_argument("--root", default=".", type=Path,
                        help="the workspace, created when missing and its parent exists (default: the current folder)")
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows import generate
    from ..workflows.fix_options import FixOptions
    from .common import USER_ERRORS, fail, print_change, print_tests, run_workflow
    from .fix import print_fix

    if not args.prompt and not args.run:
        print("codegen generate: give a PROMPT or --run RUN_ID", file=sys.stderr)
        return 2
    fix = FixOptions(test_command=args.test_cmd) if args.fix else None
    try:
        result = run_workflow(args, lambda host: generate.generate(
            host, change_applier(host, args), prompt=args.prompt, run_id=args.run, test_command=args.test_cmd,
            fix=fix), create_root=not args.dry_run)  # a new project's folder, as `--root demo` suggests
    except USER_ERRORS as error:
        return fail(error)
    if not (result.applied or result.failures or args.dry_run or args.json) and result.reason:
        print(f"codegen generate: {result.reason}", file=sys.stderr)
    status = print_change(result, args)
    if not args.json and result.tests is not None:
        print_tests(result.tests)
        if result.tests.failed and result.fix is None:
            print("run `codegen fix` (or generate with --fix) to repair them", file=sys.stderr)
    if result.fix is not None:
        if not args.json:
            print_fix(result.fix)
        return status or (0 if result.fix.green else 1)
    # Tests that cannot run here (no pytest in this environment, say) are reported, not a failure:
    # the change was written, and nothing says it is wrong.
    return status or (1 if result.tests is not None and result.tests.failed else 0)


def change_applier(host: Host, args: argparse.Namespace) -> Applier:
    """The disk, atomically (refusing files that run code unless --allow-config-edits), or nothing for a dry run."""
    from ..workflows.host import DiskApplier, PreviewOnly

    return PreviewOnly() if args.dry_run else DiskApplier(host.root, allow_config_edits=args.allow_config_edits)

