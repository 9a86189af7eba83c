"""A test run's raw output, trimmed to what the structured failure list does not already say.

The failure list carries each failing test's id and message, and the test and the code it calls
are quoted whole elsewhere; so from pytest's output we keep, for the first failure of each test
function, its traceback's failing lines (`>`), error lines (`E`), locations and captured output,
and drop the session header, progress, repeated parametrized cases, source listings and the
short summary. From JavaScript runners' output we drop the stack frames of node's own code and of
packages, and when node --test closes with its list of failing tests, the details it already printed
above that list. Other runners' output is kept as it is; either way it is cut to a token cap.
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
# `    at fn (node:internal/...)` in a stack; `    Test.run (node:internal/...)` in node --test's TAP `stack:` block.
_RUNTIME_FRAME = re.compile(r"^\s+(?:at .*(?:\(node:|\(internal/|node_modules|<anonymous>\)$| node:)"
                            r"|(?:async )?[\w$.<>\[\] ]+ \((?:node:|internal/)[^)]*\)$)")
_NODE_SUMMARY = "✖ failing tests:"
_NODE_RESULT = re.compile(r"^\s*(?:✔|✖|▶|ℹ|﹣) ")
MAX_CAPTURED_LINES = 20


def _group_key(title: str) -> str:
    """The test function a pytest entry title names, without its parameters."""
    return title.split("[", 1)[0].strip()


def trim_pytest(output: str) -> str | None:
    """The essential lines of pytest's failure report, or None when ``output`` is not pytest's."""
    lines = output.splitlines()
    if not any(_SECTION.match(line) and _SECTION.match(line).group(1) in KEEP_SECTIONS for line in lines):
        return None
    out: list[str] = []
    section = ""
    seen: set[str] = set()
    skipping = False  # inside a repeated case of a test function already shown
    captured = -1  # lines kept of the current captured-output block; -1 outside one
    for line in lines:
        if match := _SECTION.match(line):
            section = match.group(1)
            if section in KEEP_SECTIONS:
                out.append(line)
            continue
        if section not in KEEP_SECTIONS:
            continue
        if (entry := _ENTRY.match(line)) and not _SUB_ENTRY.match(line):
            key = _group_key(entry.group(1))
            skipping = key in seen
            seen.add(key)
            captured = -1
            if not skipping:
                out.append(line)
            continue
        if skipping:
            continue
        if _CAPTURED.match(line):
            captured = 0
            out.append(line)
            continue
        if captured >= 0:
            captured += 1
            if captured <= MAX_CAPTURED_LINES:
                out.append(line)
            elif captured == MAX_CAPTURED_LINES + 1:
                out.append("[... more captured output cut ...]")
            continue
        if line.startswith((">", "E ")) or line == "E" or _LOCATION.match(line) or _SUB_ENTRY.match(line):
            out.append(line)
    return "\n".join(out)


def trim_javascript(output: str) -> str:
    """JavaScript runners' output without node's and packages' own stack frames, and without the
    details node --test repeats in its closing list of failing tests."""
    lines = []
    for line in output.splitlines():
        if not _RUNTIME_FRAME.match(line):
            lines.append(line)
        elif line.endswith(" {"):  # node prints the error's properties after its last frame
            lines.append("  {")
    if _NODE_SUMMARY in (line.strip() for line in lines):
        at = next(i for i, line in enumerate(lines) if line.strip() == _NODE_SUMMARY)
        lines = [line for line in lines[:at] if _NODE_RESULT.match(line)] + [""] + lines[at:]
    return "\n".join(lines)


def trim_output(output: str, budget: int) -> str:
    """``output`` trimmed (pytest, JavaScript) and cut to at most ``budget`` tokens, keeping its head and its tail."""
    text = trim_pytest(output)
    if text is None:
        text = trim_javascript(output).strip()
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
