"""`codegen generate PROMPT | --run RUN_ID` — write the project into the workspace."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict

from ..workflows import generate
from ..workflows.host import DiskApplier, PreviewOnly
from .common import USER_ERRORS, add_model_options, add_root_option, fail, make_host, resolve_root


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="generate a project (or changes) from a prompt")
    parser.add_argument("prompt", nargs="?", help="what to build")
    parser.add_argument("--run", help="generate from this clarified run")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_root_option(parser)
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.prompt and not args.run:
        print("codegen generate: give a PROMPT or --run RUN_ID", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(_generate(args))
    except USER_ERRORS as error:
        return fail(error)
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    elif args.dry_run:
        print(result.diff, end="")
    else:
        for file in result.files:
            print(f"{file['action']:>7}  {file['path']}")
        if result.failures:
            print(result.reason, file=sys.stderr)
        print(f"run {result.run_id}: {'applied' if result.applied else 'nothing written'}", file=sys.stderr)
    return 0 if (result.applied or args.dry_run) and not result.failures else 1


async def _generate(args: argparse.Namespace) -> generate.GenerateResult:
    root = resolve_root(args)
    host = make_host(args, root)
    applier = PreviewOnly() if args.dry_run else DiskApplier(root)
    try:
        return await generate.generate(host, applier, prompt=args.prompt, run_id=args.run)
    finally:
        await host.model.aclose()
