"""Last resort: read counts (and failing test names where printed) from a runner's
human-readable summary, for commands without a structured report."""

from __future__ import annotations

import re

from .types import ParsedReport, TestFailure

_COUNT = r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|todo|pending|pass|fail|skip)"
# pytest: "==== 1 failed, 2 passed in 0.12s ====" / "1 failed, 2 passed in 0.12s"
_PYTEST_SUMMARY = re.compile(r"^=*\s*((?:\d+ \w+(?:, )?)+) in [\d.]+s", re.MULTILINE)
_PYTEST_FAILED = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$", re.MULTILINE)
# jest: "Tests:       1 failed, 2 passed, 3 total"; vitest: "Tests  1 failed | 2 passed (3)"
_JS_SUMMARY = re.compile(r"^\s*Tests:?\s+(.+)$", re.MULTILINE)
# TAP (node --test without a TTY, and many others), top level only
_TAP = re.compile(r"^(not ok|ok) \d+ - (.*?)(\s+# (?:SKIP|TODO).*)?$", re.MULTILINE)
# node's spec reporter: "ℹ pass 1" / "ℹ fail 1"
_NODE_SPEC = re.compile(r"^ℹ (pass|fail|skipped|todo) (\d+)$", re.MULTILINE)


def parse_text_summary(text: str) -> ParsedReport:
    """Counts from the last recognisable summary in ``text``; failures only where the
    runner lists them by name."""
    report = ParsedReport()
    if summaries := _PYTEST_SUMMARY.findall(text):
        _add_counts(report, summaries[-1])
        for kind, test_id, message in _PYTEST_FAILED.findall(text):
            report.failures.append(
                TestFailure(test_id, "failed" if kind == "FAILED" else "error", message or "")
            )
        return report
    if summaries := _JS_SUMMARY.findall(text):
        _add_counts(report, summaries[-1])
        if report.total:
            return report
    if spec := _NODE_SPEC.findall(text):
        for word, count in spec:
            _add(report, word, int(count))
        return report
    for status, name, directive in _TAP.findall(text):
        if directive:
            report.skipped += 1
        elif status == "ok":
            report.passed += 1
        else:
            report.failed += 1
            report.failures.append(TestFailure(name, "failed", ""))
    return report


def _add_counts(report: ParsedReport, summary: str) -> None:
    for count, word in re.findall(_COUNT, summary):
        _add(report, word, int(count))


def _add(report: ParsedReport, word: str, count: int) -> None:
    if word in ("passed", "pass", "xfailed", "xpassed"):
        report.passed += count
    elif word in ("failed", "fail"):
        report.failed += count
    elif word in ("error", "errors"):
        report.errors += count
    else:
        report.skipped += count
