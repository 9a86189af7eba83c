"""`codegen feedback` — change code the way a review comment asks, or act on `codegen:` marker comments."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from .generate import change_applier
from .options import add_allow_config_edits, add_model_options, add_root_option

if TYPE_CHECKING:
    from ..workflows import feedback


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "feedback", help="apply a review comment on a range of code, or the codegen: marker comments",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: 0 done (or no change needed), 1 not applied or tests failing after it,\n"
               "2 usage, 3 the model asked a question (reply with --run RUN_ID)\n\n"
               "examples:\n"
               "  codegen feedback stats.py 'handle an empty list' --lines 3-5\n"
               "  codegen feedback --markers\n")
    parser.add_argument("file", nargs="?", help="the file the comment is on, relative to --root")
    parser.add_argument("comment", nargs="?", help="what should change")
    parser.add_argument("--lines", help="START-END (1-based, inclusive), or one line; needed with FILE (default: none)")
    parser.add_argument("--markers", action="store_true",
                        help="act on every `codegen:` marker comment in the workspace instead (no FILE/COMMENT)")
    parser.add_argument("--run", dest="reply_to", metavar="RUN_ID",
                        help="reply to an earlier feedback or generate run: the model sees that conversation "
                             "(default: a new conversation)")
    parser.add_argument("--remember", action="store_true",
                        help="keep COMMENT as a standing preference in .codegen/memory.md")
    parser.add_argument("--remember-proposed", action="store_true",
                        help="keep the preferences the model proposes (REMEMBER:) without asking")
    verify = parser.add_mutually_exclusive_group()
    verify.add_argument("--verify", dest="verify", action="store_true", default=None,
                        help="run the tests that cover the change afterwards (default: on when the project has tests)")
    verify.add_argument("--no-verify", dest="verify", action="store_false", help="do not run the tests afterwards")
    parser.add_argument("--test-cmd", help="the test command for --verify (default: detected)")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_allow_config_edits(parser)
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
    from ..server.convert import to_json
    from ..workflows import feedback
    from ..workflows.verify import has_tests
    from .common import USER_ERRORS, fail, print_change, resolve_root, run_workflow

    if args.markers:
        if args.file or args.comment or args.lines or args.reply_to or args.remember:
            return _usage("--markers takes no FILE, COMMENT, --lines, --run or --remember")
    elif not (args.file and args.comment and args.lines):
        return _usage("give FILE, COMMENT and --lines START-END, or --markers")
    lines = parse_lines(args.lines) if args.lines else None
    if not args.markers and lines is None:
        return _usage(f"--lines takes START-END (1-based), not {args.lines!r}")
    try:
        verify = args.verify
        if verify is None:
            verify = not args.dry_run and has_tests(resolve_root(args), args.test_cmd)
        options = {"remember_proposed": args.remember_proposed, "verify": verify, "test_command": args.test_cmd}
        if args.markers:
            result = run_workflow(args, lambda host: feedback.apply_marker_feedback(
                host, change_applier(host, args), **options))
        else:
            result = run_workflow(args, lambda host: feedback.apply_feedback(
                host, change_applier(host, args), path=args.file, line_range=lines, comment=args.comment,
                reply_to=args.reply_to, remember=args.remember, **options))
    except USER_ERRORS as error:
        return fail(error)
    if args.json:
        print(json.dumps(to_json(result), indent=2))
        return _status(result)
    _print_summary(result, args)
    if not result.changed:
        return _status(result)
    if not (result.applied or result.failures or args.dry_run) and result.reason:
        print(f"codegen feedback: {result.reason}", file=sys.stderr)
    status = print_change(result, args)
    return status if status else _status(result)


def _print_summary(result: feedback.FeedbackResult, args: argparse.Namespace) -> None:
    from .common import print_tests

    out = sys.stderr if args.dry_run else sys.stdout
    if result.explanation:
        print(result.explanation, file=out)
    if result.question:
        print(f"The model asks: {result.question}\n(answer with: codegen feedback FILE ANSWER --lines A-B "
              f"--run {result.run_id})", file=out)
    elif not result.changed:
        print(f"run {result.run_id}: no change needed; nothing written", file=sys.stderr)
    for preference in result.remembered:
        print(f"remembered: {preference}", file=sys.stderr)
    for preference in set(result.proposed_memory) - set(result.remembered):
        print(f"the model suggests remembering: {preference!r} (keep it with: codegen memory --add "
              f"{json.dumps(preference)})", file=sys.stderr)
    if result.markers:
        for marker in result.markers["remaining"]:
            note = f" — {marker['note']}" if marker.get("note") else ""
            print(f"marker left in place: {marker['path']}:{marker['line']}: {marker['text']}{note}", file=sys.stderr)
    if result.tests is not None:
        print_tests(result.tests)
        if result.tests.failed:
            print("run `codegen fix` to repair them", file=sys.stderr)


def _status(result: feedback.FeedbackResult) -> int:
    """0 when it did what was asked (or nothing was needed) and the tests (if run) pass; 3 when the model
    asked a question; 1 otherwise."""
    if result.question:
        return 3
    if result.tests is not None and (result.tests.failed or result.tests.error):
        return 1
    return 0 if (result.applied or not result.changed) and not result.failures else 1


def _usage(message: str) -> int:
    print(f"codegen feedback: {message}", file=sys.stderr)
    return 2
