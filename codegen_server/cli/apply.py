"""`codegen apply PATCH --root DIR [--dry-run] [--json] [--allow-config-edits]` — apply a model's patch atomically.

Exit status: 0 applied (or would apply, with --dry-run); 1 refused, with the report, nothing
written (also when the patch is already applied, or changes nothing, or writes a file that makes
something run code without --allow-config-edits); 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .options import add_allow_config_edits, help_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("apply", help="apply a model-written diff (or whole-file blocks) atomically",
                                   **help_text(["codegen apply answer.md", "git diff | codegen apply --dry-run -"],
                                               "0 applied; 1 refused, nothing written (a hunk that does not "
                                               "place, already applied, or a file that runs code: see "
                                               "--allow-config-edits); 2 usage (bad arguments, unreadable "
                                               "patch, --root not a folder)"))
    parser.add_argument("patch", help="file holding the model's answer, or - for stdin")
    parser.add_argument("--root", default=".", type=Path, help="the workspace (default: the current folder)")
    parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing (default: write)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON (default: the diff)")
    add_allow_config_edits(parser)
    parser.set_defaults(func=run)


def _read_patch(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return Path(source).read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from ..edits import EditError, failure_record, format_failures
    from ..workflows.apply import apply_to_disk

    root = Path(args.root).expanduser()
    if not root.is_dir():
        print(f"codegen apply: --root {root} is not a folder", file=sys.stderr)
        return 2
    try:
        text = _read_patch(args.patch)
    except (OSError, UnicodeDecodeError) as error:
        print(f"codegen apply: cannot read patch {args.patch}: {error}", file=sys.stderr)
        return 2
    try:
        outcome = apply_to_disk(text, root.resolve(), dry_run=args.dry_run, allow_config_edits=args.allow_config_edits)
    except (EditError, OSError) as error:
        if args.json:
            print(json.dumps({"applied": False, "error": str(error), "files": [], "failures": []}))
        print(f"codegen apply: refused: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({
            "applied": outcome.applied, "dryRun": outcome.dry_run, "files": outcome.files,
            "failures": [failure_record(f) for f in outcome.failures], "diff": outcome.diff, "reason": outcome.reason,
            "alreadyApplied": [failure_record(f) for f in outcome.already_applied],
            "notUnderstood": [failure_record(f) for f in outcome.not_understood], "sensitive": outcome.sensitive,
        }, indent=2))
    elif outcome.failures:
        print(format_failures(outcome.failures))
    else:
        print(outcome.diff, end="")
        if outcome.files:
            verb = "would change" if args.dry_run else "changed" if outcome.applied else "not changed"
            print(f"{verb}: " + ", ".join(f"{f['path']} ({f['action']})" for f in outcome.files), file=sys.stderr)
    for note in (outcome.already_applied + outcome.not_understood) if not args.json else []:
        print(format_failures([note]), file=sys.stderr)
    for flag in outcome.sensitive if outcome.applied or args.dry_run else []:
        print(f"codegen apply: warning: {flag['path']} makes something run code: {flag['why']}", file=sys.stderr)
    if outcome.failures:
        print("codegen apply: refused; nothing was written", file=sys.stderr)
        return 1
    if outcome.files and not outcome.applied and not args.dry_run:
        print(f"codegen apply: {outcome.reason}", file=sys.stderr)
        return 1
    if not outcome.files:
        # Like git apply and patch: re-applying an applied patch is an error, never a duplicate.
        print(f"codegen apply: {outcome.reason}", file=sys.stderr)
        return 1
    return 0
