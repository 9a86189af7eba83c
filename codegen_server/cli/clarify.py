"""`codegen clarify PROMPT` — the model's questions; answer them here or with --run/--answer."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from .options import add_model_options, add_root_option, help_text

if TYPE_CHECKING:
    from ..workflows import clarify
    from ..workflows.host import Host


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("clarify", help="ask the model what is unclear before generating",
                                   **help_text(['codegen clarify "a todo app with a CLI"',
                                                "codegen clarify --run 20261123-101500-a1b2c3 --answer yes "
                                                "--answer 'SQLite'"], "0 done, 1 failed, 2 usage"))
    parser.add_argument("prompt", nargs="?", help="what to build")
    parser.add_argument("--run", help="continue this run with --answer values (default: start a new run)")
    parser.add_argument("--answer", action="append", default=[],
                        help="an answer, in question order (repeatable; default: ask at the terminal)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON and ask nothing (default: ask)")
    add_root_option(parser)
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .common import USER_ERRORS, fail, run_workflow

    if not args.prompt and not args.run:
        print("codegen clarify: give a PROMPT, or --run RUN_ID with --answer", file=sys.stderr)
        return 2
    try:
        result = run_workflow(args, lambda host: _clarify(host, args))
    except USER_ERRORS as error:
        return fail(error)
    if args.json:
        print(json.dumps({"runId": result.run_id, "questions": result.questions, "done": result.done}))
    elif result.done:
        print(f"Clarified. Generate with: codegen generate --run {result.run_id}")
    else:
        for number, question in enumerate(result.questions, 1):
            print(f"{number}. {question}")
        print(f"Answer with: codegen clarify --run {result.run_id} --answer '...' (one per question)")
    return 0


async def _clarify(host: Host, args: argparse.Namespace) -> clarify.ClarifyResult:
    from ..workflows import clarify

    if args.run:
        result = await clarify.answer(host, args.run, args.answer)
    else:
        result = await clarify.start(host, args.prompt)
    # At a terminal, keep asking until the model is satisfied.
    while not result.done and not args.json and sys.stdin.isatty():
        answers = [input(f"{number}. {question}\n> ") for number, question in enumerate(result.questions, 1)]
        result = await clarify.answer(host, result.run_id, answers)
    return result
