"""`codegen feedback FILE --lines A-B COMMENT` — change code the way a review comment asks."""

from __future__ import annotations

import argparse
import sys

from ..workflows import feedback
from .common import (
    USER_ERRORS,
    add_model_options,
    add_root_option,
    change_applier,
    fail,
    print_change,
    run_workflow,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("feedback", help="apply a review comment on a range of code")
    parser.add_argument("file", help="the file the comment is on, relative to --root")
    parser.add_argument("comment", help="what should change")
    parser.add_argument("--lines", required=True, help="START-END (1-based, inclusive), or one line")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_root_option(parser)
    add_model_options(parser)
    parser.set_defaults(func=run)


def parse_lines(value: str) -> tuple[int, int] | None:
    start, _, end = value.partition("-")
    if not start.isdigit() or (end and not end.isdigit()):
        return None
    first, last = int(start), int(end or start)
    return (first, last) if 1 <= first <= last else None


def run(args: argparse.Namespace) -> int:
    lines = parse_lines(args.lines)
    if lines is None:
        print(f"codegen feedback: --lines takes START-END (1-based), not {args.lines!r}", file=sys.stderr)
        return 2
    try:
        result = run_workflow(args, lambda host: feedback.apply_feedback(
            host, change_applier(host, args.dry_run), path=args.file, line_range=lines, comment=args.comment))
    except USER_ERRORS as error:
        return fail(error)
    if result.explanation and not (args.json or args.dry_run):
        print(result.explanation)
    return print_change(result, args)

