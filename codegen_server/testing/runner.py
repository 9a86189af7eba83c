"""Run a workspace's tests and turn the outcome into a structured ``TestRun``."""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from .go_json import parse_go_json, render_go_output
from .jest_json import parse_jest_json
from .junit import parse_node_junit, parse_pytest_junit
from .libtest import parse_libtest
from .process import run_process_tree, scrubbed_environment
from .text_summary import parse_text_summary
from .types import ParsedReport, TestCommand, TestFailure, TestRun

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_TAIL_LINES = 40


async def run_tests(
    root: Path,
    command: TestCommand,
    *,
    timeout: float = 300,
    output_cap: int = 2_000_000,
    only: Sequence[str] = (),
) -> TestRun:
    """Run ``command`` in the workspace ``root`` and read its results.

    The command runs in its own session with the model's secrets removed from
    its environment; at ``timeout`` seconds (or if this task is cancelled) its
    whole process tree is killed. ``only`` restricts the run to the given test
    ids (as found in ``TestRun.failures``) where the runner supports selecting
    tests; ``TestRun.selected`` says whether it did (empty means the full suite
    ran). Never blocks the event loop.
    """
    cwd = command.cwd if command.cwd.is_absolute() else (root / command.cwd)
    env, secrets = scrubbed_environment()
    only = _selectable(only)
    with tempfile.TemporaryDirectory(prefix="codegen-tests-") as scratch:
        report_path = Path(scratch) / "report"
        argv, selected = _invocation(command, report_path, only, env)
        result = await run_process_tree(
            cwd,
            argv=argv,
            shell=command.shell,
            env=env,
            secrets=secrets,
            timeout=timeout,
            output_cap=output_cap,
        )
        output = _ANSI.sub("", result.output)
        parsed, structured = _parse(command, report_path, output, cwd)
    if command.report == "go-json":
        output = render_go_output(output)
    run = TestRun(
        command=command.display(),
        exit_code=result.exit_code,
        passed=parsed.passed,
        failed=parsed.failed,
        errors=parsed.errors,
        skipped=parsed.skipped,
        failures=parsed.failures,
        timed_out=result.timed_out,
        truncated=result.truncated,
        duration=result.duration,
        output=output,
        structured=structured,
        selected=tuple(selected),
    )
    _explain_unlisted_failure(run, timeout)
    return run


def _invocation(
    command: TestCommand, report: Path, only: Sequence[str], env: dict[str, str]
) -> tuple[tuple[str, ...] | None, Sequence[str]]:
    """The argv to run (None for a shell command) with report and selection flags, and
    the ids it was restricted to. May add variables to ``env``."""
    if command.argv is None:
        return None, ()
    argv = list(command.argv)
    kind = command.kind
    if kind == "pytest":
        return (*argv, f"--junitxml={report}", "-o", "junit_family=xunit1", *only), only
    if kind in ("vitest", "jest"):
        flags = (
            ["--reporter=default", "--reporter=json", f"--outputFile.json={report}"]
            if kind == "vitest"
            else ["--json", f"--outputFile={report}", "--testLocationInResults"]
        )
        flags += _js_selection(only)
        return (*argv, *_npm_separator(argv), *flags), only
    if kind == "node-test":
        reporters = [
            "--test-reporter=spec", "--test-reporter-destination=stdout",
            "--test-reporter=junit", f"--test-reporter-destination={report}",
        ]
        if argv[0] == "node" and "--test" in argv:
            at = argv.index("--test") + 1
            names = [i.split(" > ")[-1] for i in only]
            selection = [f"--test-name-pattern=^({'|'.join(map(re.escape, names))})$"] if names else []
            return (*argv[:at], *reporters, *selection, *argv[at:]), only
        env["NODE_OPTIONS"] = " ".join(filter(None, [env.get("NODE_OPTIONS", ""), *reporters]))
        return tuple(argv), ()
    if kind == "cargo":
        env.setdefault("CARGO_TERM_COLOR", "never")
        if not only:
            return tuple(argv), ()
        tail = [*only, "--exact"]
        return (*argv, *([] if "--" in argv else ["--"]), *tail), only
    if kind == "go":
        at = argv.index("test") + 1 if "test" in argv else len(argv)
        extra = ["-json"]
        if only:
            names = dict.fromkeys(i.split("::")[-1].split("/")[0] for i in only)
            extra += ["-run", f"^({'|'.join(map(re.escape, names))})$"]
        return (*argv[:at], *extra, *argv[at:]), only
    return tuple(argv), ()


def _js_selection(only: Sequence[str]) -> list[str]:
    """Files plus a ``-t`` name pattern for ``file > describe > test`` ids."""
    if not only:
        return []
    files = dict.fromkeys(i.split(" > ")[0] for i in only)
    names = [" ".join(i.split(" > ")[1:]) for i in only]
    pattern = "|".join(re.escape(n) for n in names if n)
    return [*files, "-t", pattern] if pattern else [*files]


def _npm_separator(argv: list[str]) -> list[str]:
    """``npm test`` needs ``--`` before arguments meant for the script."""
    return ["--"] if argv[:1] == ["npm"] and "--" not in argv else []


def _parse(command: TestCommand, report: Path, output: str, cwd: Path) -> tuple[ParsedReport, bool]:
    """Structured results when the runner wrote them, else the text summary."""
    readers = {
        "junit-xml": parse_pytest_junit,
        "node-junit": parse_node_junit,
        "jest-json": parse_jest_json,
    }
    if command.report in readers and report.is_file():
        try:
            return readers[command.report](report, cwd), True
        except (ET.ParseError, ValueError, KeyError, TypeError, AttributeError):
            pass  # a half-written report (killed runner): fall back to the text
    if command.report == "go-json":
        parsed = parse_go_json(output, cwd)
        if parsed.total or parsed.failures:
            return parsed, True
    if command.report == "libtest":
        parsed = parse_libtest(output)
        if parsed.total or parsed.failures:
            return parsed, True
    return parse_text_summary(output), False


def _explain_unlisted_failure(run: TestRun, timeout: float) -> None:
    """Make a timeout, crash, collection or build error visible as a failure, so a
    non-zero exit is never mistaken for "nothing to fix"."""
    if run.timed_out:
        run.errors += 1
        run.failures.append(
            TestFailure(
                test_id="<timeout>",
                status="error",
                message=f"test run timed out after {timeout:g}s and was killed",
                output=_tail(run.output),
            )
        )
    elif run.exit_code not in (0, None) and not run.failures:
        run.errors += 1
        run.failures.append(
            TestFailure(
                test_id="<run>",
                status="error",
                message=f"`{run.command}` exited with code {run.exit_code} without reporting a failing test",
                output=_tail(run.output),
            )
        )


def _tail(text: str) -> str:
    return "\n".join(text.rstrip().splitlines()[-_TAIL_LINES:])


def _selectable(only: Sequence[str]) -> list[str]:
    """Drop synthetic ids (``<run>``, ``<timeout>``, ``<build> ...``) that name no test."""
    return [test_id for test_id in only if test_id and not test_id.startswith("<")]
