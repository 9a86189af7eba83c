"""Read JUnit XML reports: pytest's (``-o junit_family=xunit1``, which carries file and
line) and node's built-in ``--test-reporter=junit``."""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from .locations import js_location, js_test_file, python_location, relative_to
from .types import FailureStatus, ParsedReport, TestFailure

_PYTEST_E_LINE = re.compile(r"^E(?: (.*))?$", re.MULTILINE)
_JS_FRAME = re.compile(r"^\s*at ")
_NODE_ERROR_CODE = re.compile(r"^(\w+) \[\w+\]:")  # "AssertionError [ERR_ASSERTION]:", "TypeError [Error]:"


def parse_pytest_junit(path: Path, cwd: Path) -> ParsedReport:
    """Parse pytest's JUnit XML; test ids are pytest node ids (re-runnable as given)."""
    report = ParsedReport()
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = _outcome(case)
        if outcome is None:
            report.passed += 1
            continue
        if outcome == "skipped":
            report.skipped += 1
            continue
        status, element = outcome
        file = case.get("file") or None
        text = element.text or ""
        if status == "failed":
            report.failed += 1
        else:
            report.errors += 1
        loc_file, loc_line = python_location(text, file, cwd)
        if file and loc_file != relative_to(file, cwd) and case.get("line"):
            # Traceback never entered the test file: point at the test's definition.
            loc_file, loc_line = relative_to(file, cwd), int(case.get("line", "0")) + 1
        report.failures.append(
            TestFailure(
                test_id=_pytest_node_id(case),
                status=status,
                message=_pytest_message(element, text),
                file=loc_file,
                line=loc_line,
                output=text,
            )
        )
    return report


def parse_node_junit(path: Path, cwd: Path) -> ParsedReport:
    """Parse node's ``--test-reporter=junit``; ids are ``suite > test`` title chains."""
    report = ParsedReport()

    def walk(element: ET.Element, titles: tuple[str, ...]) -> None:
        for child in element:
            if child.tag == "testsuite":
                walk(child, titles + (child.get("name", ""),))
            elif child.tag == "testcase":
                visit(child, titles + (child.get("name", ""),))

    def visit(case: ET.Element, titles: tuple[str, ...]) -> None:
        outcome = _outcome(case)
        if outcome is None:
            report.passed += 1
            return
        if outcome == "skipped":
            report.skipped += 1
            return
        status, element = outcome
        text = element.text or ""
        if status == "failed":
            report.failed += 1
        else:
            report.errors += 1
        file, line = js_location(text, None, cwd)
        test_file = js_test_file(text, cwd)
        report.failures.append(
            TestFailure(
                test_id=" > ".join(((test_file,) if test_file else ()) + titles),
                status=status,
                # The message attribute has its line breaks removed: an assertion's diff comes from the text.
                message=_node_message(text) or element.get("message") or "",
                file=file,
                line=line,
                output=text,
            )
        )

    walk(ET.parse(path).getroot(), ())
    return report


def _outcome(case: ET.Element) -> tuple[FailureStatus, ET.Element] | str | None:
    """None for a pass, "skipped", or the failing status with its element."""
    failure = case.find("failure")
    if failure is not None:
        return "failed", failure
    error = case.find("error")
    if error is not None:
        return "error", error
    if case.find("skipped") is not None:
        return "skipped"
    return None


def _pytest_node_id(case: ET.Element) -> str:
    """Rebuild ``path/to/test_x.py::Class::test_name[param]`` from xunit1 attributes."""
    file = case.get("file", "")
    classname = case.get("classname", "")
    name = case.get("name", "")
    if not classname:  # a collection error names the module itself
        return file or name
    module = file[:-3].replace("/", ".") if file.endswith(".py") else ""
    if module and classname.startswith(module):
        classes = [c for c in classname[len(module) :].split(".") if c]
        return "::".join([file, *classes, name])
    if file:
        return f"{file}::{name}"
    return f"{classname.replace('.', '/')}.py::{name}"


def _pytest_message(element: ET.Element, text: str) -> str:
    """The ``E`` lines of the traceback (the assertion as pytest explains it, its diff indented
    as printed), else the report's message attribute."""
    explained = _PYTEST_E_LINE.findall(text)
    if explained:
        return textwrap.dedent("\n".join(explained[:40])).strip("\n")
    return element.get("message", "")


def _node_message(text: str) -> str:
    """The error node reports, with its lines: the ``cause:`` (the test's own error) when there is
    one, up to its stack, without node's error code (``AssertionError [ERR_ASSERTION]:``)."""
    lines = text.strip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("cause: ")), None)
    if start is None:
        message = []
        for line in lines:
            message.append(line.removeprefix("[Error [ERR_TEST_FAILURE]: "))
            if line.endswith("] {") or _JS_FRAME.match(line):
                break
        body = "\n".join(message).removesuffix("] {")
    else:
        message = [lines[start].replace("cause: ", "", 1)]
        for line in lines[start + 1:]:
            if _JS_FRAME.match(line) or line.strip() in ("}", "{"):
                break
            message.append(line)
        body = textwrap.dedent("\n".join(message))
    body = "\n".join(line.rstrip() for line in body.splitlines() if not _JS_FRAME.match(line)).strip("\n")
    return _NODE_ERROR_CODE.sub(r"\1:", body.strip().removesuffix(" {"), count=1)
