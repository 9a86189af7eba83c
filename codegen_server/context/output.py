"""A test run's raw output, trimmed to what the structured failure list does not already say.

The failure list carries each failing test's full id and its message as a block (an assertion
and its diff), and the test and the code it calls are quoted whole, with the failing lines
marked, elsewhere; so from pytest's and node's output we keep only what those do not say: a
traceback's chain of locations (when it has more than one) and the output the tests printed.
Dropped: the session header and progress, passing and filtered-out tests, repeated parametrized
cases, source listings (`>` lines), the error and diff lines (`E`, `?`), node's property dumps,
frames inside the runner itself (`node:internal`, pytest's and pluggy's own) and node's "failing
tests" recap, which repeats every failure. Other runners' output is kept as it is, minus such
frames; either way it is cut to a token cap.
"""

from __future__ import annotations

import re

from .tokens import count_tokens, truncate_to_budget

_SECTION = re.compile(r"^=+ (.+?) =+$")
_ENTRY = re.compile(r"^_+ (.+?) _+$")  # a long test id leaves room for one underscore each side
_SUB_ENTRY = re.compile(r"^(?:_ ){5,}_?$")
_CAPTURED = re.compile(r"^-+ Captured .* -+$")
_LOCATION = re.compile(r"^\S[^:\s]*:\d+: ")
KEEP_SECTIONS = ("FAILURES", "ERRORS")
MAX_CAPTURED_LINES = 20

# Frames of the runner itself: nothing the project can change.
# node --test's TAP `stack:` block names frames without "at": `    Test.run (node:internal/...)`.
_TAP_RUNNER_FRAME = re.compile(r"^\s+(?:async )?[\w$.<>\[\] ]+ \((?:node:|internal/)[^)]*\)$")
_RUNNER_FRAME = re.compile(r"(^|[\s(/])(node:|internal/|[^\s]*/(_pytest|pluggy)/)")
_NODE_RESULT = re.compile(r"^(?P<indent> *)(?P<mark>[✔✖﹣▶])\s(?P<name>.+?)(?: \([\d.]+m?s\))?(?: # .*)?$")
_NODE_RECAP = re.compile(r"^✖ failing tests:\s*$")
_NODE_COUNTS = re.compile(r"^ℹ \w+ [\d.]+$")
_NODE_FRAME = re.compile(r"^\s*at ")


def _group_key(title: str) -> str:
    """The test function a pytest entry title names, without its parameters."""
    return title.split("[", 1)[0].strip()


def trim_pytest(output: str) -> str | None:
    """What pytest's failure report says beyond the failure list (see the module docstring), or
    None when ``output`` is not pytest's; "" when it says nothing more."""
    lines = output.splitlines()
    if not any(_SECTION.match(line) and _SECTION.match(line).group(1) in KEEP_SECTIONS for line in lines):
        return None
    out: list[str] = []
    entry: _Entry | None = None
    section = ""
    seen: set[str] = set()
    skipping = False  # inside a repeated case of a test function already shown
    captured = -1  # lines kept of the current captured-output block; -1 outside one
    for line in lines:
        if match := _SECTION.match(line):
            section = match.group(1)
            if entry:
                out += entry.lines()
                entry = None
            continue
        if section not in KEEP_SECTIONS:
            continue
        if (title := _ENTRY.match(line)) and not _SUB_ENTRY.match(line):
            if entry:
                out += entry.lines()
            key = _group_key(title.group(1))
            skipping = key in seen
            seen.add(key)
            captured = -1
            entry = None if skipping else _Entry(line)
            continue
        if entry is None:
            continue
        if _CAPTURED.match(line):
            captured = 0
            entry.captured.append(line)
            continue
        if captured >= 0:
            captured += 1
            if captured <= MAX_CAPTURED_LINES:
                entry.captured.append(line)
            elif captured == MAX_CAPTURED_LINES + 1:
                entry.captured.append("[... more captured output cut ...]")
            continue
        if _LOCATION.match(line) and not _RUNNER_FRAME.search(line.split(":", 1)[0]):
            entry.chain.append(line.rstrip())
    if entry:
        out += entry.lines()
    return "\n".join(out)


class _Entry:
    """One failure's entry in pytest's report, as far as it is kept."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.chain: list[str] = []  # the traceback's locations, outermost first
        self.captured: list[str] = []

    def lines(self) -> list[str]:
        kept = (self.chain if len(self.chain) > 1 else []) + self.captured
        return [self.header, *kept] if kept else []


def trim_node(output: str) -> str | None:
    """What node's spec reporter says beyond the failure list (see the module docstring), or None
    when ``output`` is not its; "" when it says nothing more."""
    lines = output.splitlines()
    if not any(_NODE_COUNTS.match(line) for line in lines) or not any(_NODE_RESULT.match(line) for line in lines):
        return None
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _NODE_RECAP.match(line):
            break  # the recap repeats every failure, and ends the report
        result = _NODE_RESULT.match(line)
        if result is None:
            if not _NODE_COUNTS.match(line) and line.strip():
                out.append(line)  # what the tests printed
            continue
        if result["mark"] != "✖":
            continue
        indent = len(result["indent"])
        block: list[str] = []
        while index < len(lines) and (not lines[index].strip()
                                      or len(lines[index]) - len(lines[index].lstrip()) > indent):
            block.append(lines[index])
            index += 1
        chain = [b.removesuffix(" {") for b in block if _NODE_FRAME.match(b) and not _RUNNER_FRAME.search(b)
                 and "node_modules" not in b]
        if len(chain) > 1:
            out += [line, *chain]
    return "\n".join(out)


def without_runner_frames(output: str) -> str:
    """``output`` without stack frames inside the runner (``node:internal``, pytest's own)."""
    return "\n".join(line for line in output.splitlines()
                     if not (_NODE_FRAME.match(line) and _RUNNER_FRAME.search(line)) and not _TAP_RUNNER_FRAME.match(line))


def trim_output(output: str, budget: int, *, listed: bool = True) -> str:
    """``output`` cut to at most ``budget`` tokens, keeping its head and its tail; with ``listed`` (the
    failures are listed elsewhere) pytest's and node's are first trimmed to what the list does not say."""
    text = (trim_pytest(output) if listed else None)
    if text is None and listed:
        text = trim_node(output)
    if text is None:
        text = without_runner_frames(output).strip()
    if count_tokens(text) <= budget:
        return text
    lines = text.splitlines(keepends=True)
    head = truncate_to_budget(text, budget // 2)
    tail_lines: list[str] = []
    used = count_tokens(head) + 12  # the cut marker
    for line in reversed(lines[len(head.splitlines()):]):
        cost = count_tokens(line)
        if used + cost > budget:
            break
        tail_lines.insert(0, line)
        used += cost
    return head + "[... output cut ...]\n" + "".join(tail_lines)
