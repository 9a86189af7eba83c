"""Read ``go test -json`` event streams (test2json)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from .types import ParsedReport, TestFailure

# "    calc_test.go:9: got 3, want 4"
_GO_LOCATION = re.compile(r"^\s+(?P<file>[\w./-]+\.go):(?P<line>\d+):", re.MULTILINE)


def parse_go_json(stream: str, cwd: Path) -> ParsedReport:
    """Parse test2json events; ids are ``package::TestName`` (subtests keep their ``/`` path).

    A package that fails without any failing test (a build error, a panic in
    init, a timeout) is reported as an error for the package.
    """
    report = ParsedReport()
    module = _module_path(cwd)
    outputs: dict[tuple[str, str], list[str]] = defaultdict(list)
    failed_tests: set[str] = set()
    for line in stream.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        package = event.get("Package") or event.get("ImportPath") or ""
        test = event.get("Test") or ""
        action = event.get("Action")
        if action in ("output", "build-output"):
            outputs[(package, test)].append(event.get("Output", ""))
        elif test and action == "pass":
            report.passed += 1
        elif test and action == "skip":
            report.skipped += 1
        elif test and action == "fail":
            report.failed += 1
            failed_tests.add(package)
            text = "".join(outputs[(package, test)])
            report.failures.append(
                _failure(f"{package}::{test}", "failed", text, _package_dir(package, module))
            )
        elif not test and action in ("fail", "build-fail") and package not in failed_tests:
            text = "".join(outputs[(package, "")])
            report.errors += 1
            failed_tests.add(package)
            report.failures.append(_failure(package, "error", text, _package_dir(package, module)))
    return report


def _module_path(cwd: Path) -> str:
    """The module path declared in ``go.mod``, to map packages to directories."""
    try:
        text = (cwd / "go.mod").read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    return match[1] if match else ""


def _package_dir(package: str, module: str) -> str:
    """Directory of ``package`` relative to the module root ("" for the root)."""
    if module and (package == module or package.startswith(module + "/")):
        return package[len(module) + 1 :]
    return ""


def _failure(test_id: str, status: str, text: str, directory: str) -> TestFailure:
    match = _GO_LOCATION.search(text)
    file = line = None
    if match:
        file = f"{directory}/{match['file']}" if directory else match["file"]
        line = int(match["line"])
    lines = [
        entry.strip()
        for entry in text.splitlines()
        if entry.strip() and not entry.startswith(("=== ", "--- ", "FAIL", "PASS", "ok "))
    ]
    return TestFailure(
        test_id=test_id,
        status="failed" if status == "failed" else "error",
        message="\n".join(lines[:8]),
        file=file,
        line=line,
        output=text,
    )


def render_go_output(stream: str) -> str:
    """The human-readable text inside a ``go test -json`` stream (plus any non-JSON lines)."""
    parts = []
    for line in stream.splitlines(keepends=True):
        if line.startswith("{"):
            try:
                parts.append(json.loads(line).get("Output", ""))
                continue
            except json.JSONDecodeError:
                pass
        parts.append(line)
    return "".join(parts)
