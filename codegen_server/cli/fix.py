"""`codegen fix` — repair the workspace until its tests pass; exit 0 only when green."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

from ..workflows.fix_options import FixOptions
from .options import add_allow_config_edits, add_model_options, add_root_option, help_text

if TYPE_CHECKING:
    from ..workflows import fix
    from ..workflows.host import Host


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fix", help="fix the code until the tests pass",
                                   **help_text(["codegen fix", 'codegen fix --test-cmd "pytest -x tests/unit" '
                                                "--max-iterations 4 --allow-install"],
                                               "0 all tests pass, 1 not green (stopped, or failed), 2 usage"))
    parser.add_argument("--max-iterations", type=int, default=FixOptions.max_iterations,
                        help=f"stop after this many edits (default: {FixOptions.max_iterations})")
    parser.add_argument("--test-cmd", help="the test command (default: detected from the project)")
    parser.add_argument("--test-timeout", type=float, default=FixOptions.test_timeout,
                        help="seconds before a test run is killed, with its children "
                             f"(default: {FixOptions.test_timeout:g})")
    parser.add_argument("--token-budget", type=int, default=FixOptions.token_budget,
                        help=f"stop once the model used this many tokens (default: {FixOptions.token_budget})")
    parser.add_argument("--no-coverage", action="store_true",
                        help="do not run the failing tests under coverage to rank the code they ran "
                             "(default: run them, within a time budget; the static context alone otherwise)")
    parser.add_argument("--allow-test-edits", action="store_true",
                        help="let the model edit tests too (default: tests are not edited)")
    parser.add_argument("--allow-install", action="store_true",
                        help="let the model install packages (default: refused)")
    parser.add_argument("--allow-commands", action="store_true", help="let the model run commands (default: refused)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (default: a line per iteration)")
    add_allow_config_edits(parser)
    add_root_option(parser)
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .common import USER_ERRORS, fail, run_workflow

    if args.max_iterations < 1:
        print("codegen fix: --max-iterations must be at least 1", file=sys.stderr)
        return 2
    try:
        result = run_workflow(args, lambda host: _fix(host, args))
    except USER_ERRORS as error:
        return fail(error)
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        print_fix(result)
    return 0 if result.green else 1


def print_fix(result: fix.FixResult) -> None:
    """A line per iteration, the summary, and how to undo the run."""
    for it in result.iterations:
        edited = ", ".join(it.edited) or "nothing"
        print(f"iteration {it.number}: {it.failing_before} → {it.failing_after} failing; edited {edited}")
        for line in it.refused + it.actions:
            print(f"  {line.splitlines()[0]}")
    print(result.summary)
    print(f"run {result.run_id} (undo with: codegen undo {result.run_id})")


async def _fix(host: Host, args: argparse.Namespace) -> fix.FixResult:
    from ..workflows import fix
    from ..workflows.host import DiskApplier

    async def consent(action: str) -> bool:
        # Headless, the flags are the user's consent.
        return (args.allow_install and action.startswith("install ")) or \
               (args.allow_commands and action.startswith("run "))

    host.consent = consent
    options = FixOptions(max_iterations=args.max_iterations, token_budget=args.token_budget,
                             test_command=args.test_cmd, test_timeout=args.test_timeout,
                             allow_test_edits=args.allow_test_edits, localize=not args.no_coverage)
    return await fix.fix(host, DiskApplier(host.root, allow_config_edits=args.allow_config_edits), options)
