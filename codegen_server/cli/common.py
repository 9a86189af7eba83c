"""What the CLI subcommands share when they run: the host, printing progress and errors.

Loaded by a command's ``run``, not while the parser is built (see ``options``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable, TypeVar

from ..edits import EditError
from ..logs import configure_logging
from ..model import ChatModel, ModelError
from ..model.settings import settings_from_env
from ..preprompts import Preprompts
from ..redaction import redact
from ..secret_env import forget_secrets
from ..store import RunNotFound, RunStore
from ..testing.preflight import TestToolMissing
from ..trust.files import RefusedPath
from ..trust.key import KeyUnavailable
from ..workflows.host import Applier, DiskApplier, Host, PreviewOnly, WorkflowError

if TYPE_CHECKING:
    from ..workflows.changes import ChangeOutcome
    from ..workflows.verify import TestCheck

T = TypeVar("T")

#: The errors a command reports as one clear line and exit status 1 (state codegen refused to use among them).
USER_ERRORS = (WorkflowError, ModelError, EditError, RunNotFound, RefusedPath, KeyUnavailable, TestToolMissing)


class TerminalProgress:
    """Progress on stderr, one line per phase and a running token count on a tty."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._tty = sys.stderr.isatty()

    def phase(self, message: str, percentage: int | None = None) -> None:
        if not self.quiet:
            # On a terminal, overwrite the running token count.
            print(f"\r{message}{' ' * 10}" if self._tty else message, file=sys.stderr)

    def tokens(self, count: int) -> None:
        # The workflow counts a few times a second (model_call.py): each count is shown.
        if not self.quiet and self._tty:
            print(f"\r  {count} tokens", end="", file=sys.stderr, flush=True)


def resolve_root(args: argparse.Namespace, create: bool = False) -> Path:
    """``--root`` as an absolute folder; with ``create``, made when it is missing and its parent exists."""
    root = Path(args.root).expanduser().resolve()
    if create and not root.exists():
        if not root.parent.is_dir():
            raise WorkflowError(f"The workspace root {root} does not exist, nor does its parent folder "
                                f"{root.parent}: create it first (mkdir -p {root}).")
        root.mkdir()
    if not root.is_dir():
        raise WorkflowError(f"The workspace root {root} is not a folder.")
    return root


def make_host(args: argparse.Namespace, root: Path) -> Host:
    configure_logging("WARNING")
    # Errors name the CLI's flags and environment variables, not editor settings.
    settings = replace(settings_from_env(), audience="cli")
    forget_secrets()  # the project's tests run below this process: they must not find the key in it
    if getattr(args, "model", None):
        settings = replace(settings, model=args.model)
    if getattr(args, "base_url", None):
        settings = replace(settings, base_url=args.base_url)
    if getattr(args, "timeout", None):
        # The flag replaces the environment's value, and the complaint about a bad one.
        settings = replace(settings, timeout=args.timeout,
                           problems=tuple(p for p in settings.problems if "CODEGEN_MODEL_TIMEOUT" not in p))
    return Host(root=root, model=ChatModel(settings), store=RunStore(root, secret_values=[settings.api_key or ""]),
                preprompts=Preprompts(root), progress=TerminalProgress(getattr(args, "quiet", False)))


def run_workflow(args: argparse.Namespace, work: Callable[[Host], Awaitable[T]], create_root: bool = False) -> T:
    """Run ``work`` with a host for ``--root`` in its own event loop; the model client is closed after.
    With ``create_root``, a missing ``--root`` is created when its parent exists (``resolve_root``).

    The USER_ERRORS propagate for the caller to report with ``fail``; a run the work
    started is then marked failed (or cancelled, on Ctrl-C) with the reason.
    """
    async def main() -> T:
        host = make_host(args, resolve_root(args, create_root))
        try:
            return await work(host)
        except asyncio.CancelledError:
            await host.store.settle("cancelled", "interrupted")
            raise
        except Exception as error:
            await host.store.settle("failed", redact(str(error)))
            raise
        finally:
            await host.model.aclose()

    return asyncio.run(main())


def change_applier(host: Host, dry_run: bool) -> Applier:
    """The disk, atomically — or nothing at all for a dry run."""
    return PreviewOnly() if dry_run else DiskApplier(host.root)


def fail(error: Exception) -> int:
    """Report ``error`` as one line on stderr (without secrets, credentials in URLs included); exit status 1."""
    print(redact(f"codegen: {error}"), file=sys.stderr)
    return 1


def print_tests(tests: TestCheck) -> None:
    """What the tests said after a change, on stderr: the counts and the failing ids, or why they could not run."""
    if tests.error:
        print(f"tests after the change: not run. {tests.error}", file=sys.stderr)
        return
    verdict = "all pass" if not tests.failed else f"{tests.failed} failing: {', '.join(tests.failing[:5])}"
    print(f"tests after the change ({tests.command}): {tests.passed} passed, {verdict}", file=sys.stderr)


def describe_failure(failure: dict) -> str:
    """One failure record (``edits.failure_record``) for a terminal: where, why, and the closest text found."""
    where = failure["file"] or "the answer"
    if failure["hunk"] is not None:
        where += f" hunk {failure['hunk']}"
    text = f"{where}: {failure['reason']}"
    if failure["closest"]:
        text += "\n  closest text in the file:\n" + "\n".join(f"    {line}" for line in failure["closest"].splitlines())
    return text


def print_change(result: ChangeOutcome, args: argparse.Namespace) -> int:
    """Print a generate/feedback outcome as asked (--json, --dry-run, or a file list); the exit status."""
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    elif args.dry_run:
        print(result.diff, end="")
    else:
        for file in result.files:
            print(f"{file['action']:>7}  {file['path']}")
        for failure in result.failures:
            print(describe_failure(failure), file=sys.stderr)
        print(f"run {result.run_id}: {'applied' if result.applied else 'nothing written'}", file=sys.stderr)
    return 0 if (result.applied or args.dry_run) and not result.failures else 1
