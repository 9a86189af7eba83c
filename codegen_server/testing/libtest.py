"""Read the text output of Rust's libtest (``cargo test``), including compile errors."""

from __future__ import annotations

import re

from .types import ParsedReport, TestFailure

_RESULT = re.compile(r"^test (?P<name>.+?) \.\.\. (?P<status>ok|FAILED|ignored)", re.MULTILINE)
_SECTION = re.compile(r"^---- (?P<name>.+?) std(?:out|err) ----$", re.MULTILINE)
_SECTION_END = re.compile(r"^(?:---- .+ ----|failures:|test result:)", re.MULTILINE)
# 1.73+: "panicked at src/lib.rs:7:17:\nmessage"; older: "panicked at 'message', src/lib.rs:7:17"
_PANIC_NEW = re.compile(r"panicked at (?P<file>[^\s:']+):(?P<line>\d+):\d+:\n(?P<message>(?:.+\n?)+)")
_PANIC_OLD = re.compile(r"panicked at '(?P<message>.*?)', (?P<file>[^\s:]+):(?P<line>\d+):\d+", re.DOTALL)
_COMPILE_ERROR = re.compile(
    r"^(?P<message>error(?:\[E\d+\])?: .+)\n\s*--> (?P<file>[^\s:]+):(?P<line>\d+):\d+", re.MULTILINE
)
_MESSAGE_STOP = ("stack backtrace:", "note: ")


def parse_libtest(text: str) -> ParsedReport:
    """Parse every test binary's results in ``cargo test`` output; ids are test paths
    (``tests::adds``), which ``cargo test -- <id> --exact`` re-runs."""
    report = ParsedReport()
    sections = _sections(text)
    for match in _RESULT.finditer(text):
        name, status = match["name"], match["status"]
        if status == "ok":
            report.passed += 1
        elif status == "ignored":
            report.skipped += 1
        else:
            report.failed += 1
            report.failures.append(_failure(name, sections.get(name, "")))
    if not report.total:
        for error in _COMPILE_ERROR.finditer(text):
            report.errors += 1
            report.failures.append(
                TestFailure(
                    test_id=f"<build> {error['file']}:{error['line']}",
                    status="error",
                    message=error["message"],
                    file=error["file"],
                    line=int(error["line"]),
                    output=_block_at(text, error.start()),
                )
            )
    return report


def _sections(text: str) -> dict[str, str]:
    """Captured output per failing test, from the ``---- name stdout ----`` blocks."""
    found = {}
    for match in _SECTION.finditer(text):
        end = _SECTION_END.search(text, match.end())
        found[match["name"]] = text[match.end() : end.start() if end else len(text)].strip("\n")
    return found


def _failure(name: str, output: str) -> TestFailure:
    file = line = None
    message = output.strip()
    panic = _PANIC_NEW.search(output) or _PANIC_OLD.search(output)
    if panic:
        file, line = panic["file"], int(panic["line"])
        kept = []
        for entry in panic["message"].splitlines():
            if entry.startswith(_MESSAGE_STOP):
                break
            kept.append(entry)
        message = "\n".join(kept).strip()
    return TestFailure(test_id=name, status="failed", message=message, file=file, line=line, output=output)


def _block_at(text: str, start: int) -> str:
    """The compiler diagnostic starting at ``start`` (up to the next blank line)."""
    end = text.find("\n\n", start)
    return text[start : end if end >= 0 else len(text)]
