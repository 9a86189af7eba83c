"""Read ``go test -json`` event streams (test2json)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from .types import ParsedReport, TestFailure

# "    calc_test.go:9: got 3, want 4"
_GO_LOCATION = re.compile(r"^\s+(?P<file>[\w./-]+\.go):(?P<line>\d+):", re.MULTILINE)
# "./calc.go:3:33: invalid operation: ..." (go build / vet diagnostics)
_COMPILE_ERROR = re.compile(r"^(?:\./)?(?P<file>[\w./-]+\.go):(?P<line>\d+):\d+: (?P<message>.+)$", re.MULTILINE)


def parse_go_json(stream: str, cwd: Path) -> ParsedReport:
    """Parse test2json events; ids are ``package::TestName`` (subtests keep their ``/`` path).

    A parent test that failed only through its subtests is not listed again. A
    package that fails without any failing test (a panic in init, a timeout) is
    an error for the package, and compiler errors printed outside the JSON
    (older go versions) are errors for their ``file:line``.
    """
    report = ParsedReport()
    module = _module_path(cwd)
    outputs: dict[tuple[str, str], list[str]] = defaultdict(list)
    failing_packages: set[str] = set()
    failed: list[tuple[str, str]] = []
    stray: list[str] = []
    for event, rest in _events(stream):
        stray.append(rest)
        if event is None:
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
            failing_packages.add(package)
            if not any(p == package and t.startswith(test + "/") for p, t in failed):
                failed.append((package, test))
        elif not test and action in ("fail", "build-fail") and package not in failing_packages:
            failing_packages.add(package)
            report.errors += 1
            text = "".join(outputs[(package, "")])
            report.failures.append(_failure(package, "error", text, _package_dir(package, module)))
    for package, test in failed:
        report.failed += 1
        text = "".join(outputs[(package, test)])
        report.failures.append(_failure(f"{package}::{test}", "failed", text, _package_dir(package, module)))
    for match in _COMPILE_ERROR.finditer("".join(stray)):
        report.errors += 1
        report.failures.append(
            TestFailure(
                test_id=f"<build> {match['file']}:{match['line']}",
                status="error",
                message=match["message"],
                file=match["file"],
                line=int(match["line"]),
                output=match[0],
            )
        )
    return report


def _events(stream: str) -> Iterator[tuple[dict | None, str]]:
    """Each line's JSON event (if it starts with one) and any text around it; stderr
    text can land on the same line as an event because the streams are merged."""
    decoder = json.JSONDecoder()
    for line in stream.splitlines(keepends=True):
        if line.startswith("{"):
            try:
                event, end = decoder.raw_decode(line)
            except json.JSONDecodeError:
                yield None, line
                continue
            yield (event if isinstance(event, dict) else None), line[end:].lstrip("\n")
        else:
            yield None, line


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
        if entry.strip() and not entry.strip().startswith(("=== ", "--- ", "FAIL", "PASS", "ok "))
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
    """The human-readable text inside a ``go test -json`` stream (plus any non-JSON text)."""
    parts = []
    for event, rest in _events(stream):
        if event is not None:
            parts.append(str(event.get("Output", "")))
        parts.append(rest)
    return "".join(parts)
