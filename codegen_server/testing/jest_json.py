"""Read the JSON report vitest (``--reporter=json``) and jest (``--json``) both write
(vitest keeps jest's shape)."""

from __future__ import annotations

import json
from pathlib import Path

from .locations import js_location, relative_to
from .types import ParsedReport, TestFailure

_SKIPPED = {"skipped", "pending", "todo", "disabled"}


def parse_jest_json(path: Path, cwd: Path) -> ParsedReport:
    """Parse a jest/vitest JSON report; ids are ``file > describe > test``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    report = ParsedReport()
    for suite in data.get("testResults", []):
        file = relative_to(suite.get("name", ""), cwd)
        assertions = suite.get("assertionResults", [])
        if suite.get("status") == "failed" and not any(
            a.get("status") == "failed" for a in assertions
        ):
            # The file itself failed (syntax error, failing import, hook error).
            message = suite.get("message") or suite.get("failureMessage") or "test file failed"
            loc_file, loc_line = js_location(message, file, cwd)
            report.errors += 1
            report.failures.append(
                TestFailure(
                    test_id=file,
                    status="error",
                    message=_first_lines(message),
                    file=loc_file or file,
                    line=loc_line,
                    output=message,
                )
            )
        for case in assertions:
            status = case.get("status")
            if status == "passed":
                report.passed += 1
            elif status in _SKIPPED:
                report.skipped += 1
            elif status == "failed":
                report.failed += 1
                report.failures.append(_failure(case, file, cwd))
    return report


def _failure(case: dict, file: str, cwd: Path) -> TestFailure:
    titles = [*case.get("ancestorTitles", []), case.get("title", "")]
    text = "\n".join(case.get("failureMessages") or [])
    loc_file, loc_line = js_location(text, file, cwd)
    location = case.get("location") or {}
    if loc_file != file and location.get("line"):
        loc_file, loc_line = file, int(location["line"])
    return TestFailure(
        test_id=" > ".join([file, *titles]),
        status="failed",
        message=_first_lines(text),
        file=loc_file or file,
        line=loc_line,
        output=text,
    )


def _first_lines(text: str, limit: int = 8) -> str:
    """The message part of an error (before the stack)."""
    lines = []
    for line in text.strip().splitlines():
        if line.lstrip().startswith("at ") or len(lines) >= limit:
            break
        lines.append(line.rstrip())
    return "\n".join(lines).strip()
