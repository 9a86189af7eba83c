"""`codegen context [TASK]` — show the context the model would get for a task."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..workflows.context import DEFAULT_BUDGET
from .options import help_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("context", help="show the repo map and focused context for a task",
                                   **help_text(['codegen context "add a --verbose flag to the CLI"',
                                                "codegen context --file calc/ops.py --lines 10-20 --budget 2000"],
                                               "0 shown, 1 a file or range that cannot be read, 2 usage"))
    parser.add_argument("task", nargs="?", default="", help="the task text (identifiers and files in it steer the map)")
    parser.add_argument("--root", default=".", type=Path, help="the workspace (default: the current folder)")
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help=f"token budget (default: {DEFAULT_BUDGET})")
    parser.add_argument("--file", help="a file in question, workspace-relative or absolute (default: none)")
    parser.add_argument("--lines", help="a 1-based line range in --file, as START-END or LINE (default: none)")
    parser.add_argument("--test-output", type=Path,
                        help="a file holding a test run's output, '-' for stdin (default: none)")
    parser.add_argument("--open", action="append", default=[],
                        help="a file open in the editor (repeatable; default: none)")
    parser.add_argument("--json", action="store_true",
                        help="print text, tokens, files and timings as JSON (default: the text)")
    parser.set_defaults(func=run)


def _line_range(spec: str | None) -> tuple[int, int] | None:
    if not spec:
        return None
    first, _, last = spec.partition("-")
    start, end = int(first), int(last or first)
    if start < 1 or end < start:
        raise ValueError(f"bad line range {spec!r}: want START-END with 1 <= START <= END")
    return start, end


def run(args: argparse.Namespace) -> int:
    from ..workflows.context import gather_context

    root = Path(args.root).expanduser().resolve()
    if not root.is_dir():
        print(f"codegen context: the workspace root {root} is not a folder.", file=sys.stderr)
        return 1
    if args.budget < 0:
        print("codegen context: --budget must be 0 or more.", file=sys.stderr)
        return 2
    try:
        line_range = _line_range(args.lines)
        if line_range and not args.file:
            raise ValueError("--lines needs --file")
        test_output = None
        if args.test_output is not None:
            test_output = sys.stdin.read() if str(args.test_output) == "-" else args.test_output.read_text(errors="replace")
        result = gather_context(
            root, task=args.task, path=args.file, line_range=line_range, test_output=test_output,
            open_files=args.open, budget=args.budget,
        )
    except (ValueError, OSError) as error:
        print(f"codegen context: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.text)
    return 0
