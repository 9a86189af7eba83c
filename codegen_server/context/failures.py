"""Parse test-runner output (pytest, jest/vitest, node --test, cargo test, go test) into failures and frames."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Frame:
    """One stack location. `line` is 1-based as runners print it."""

    path: str
    line: int
    function: str | None = None


@dataclass
class FailureTrace:
    """A failing test: its id as the runner names it, the error message and its frames.

    Frames run from the outermost call (usually the test) to the innermost (where it failed).
    """

    test_id: str
    runner: str
    message: str = ""
    frames: list[Frame] = field(default_factory=list)

    @property
    def test_name(self) -> str:
        """The test's own function name (a JavaScript test's title), without class, suite or parameters."""
        name = re.split(r"::|\s›\s|\s>\s", self.test_id)[-1]
        if self.runner in JS_RUNNERS:
            return name.strip()  # a title: dots and brackets are part of it
        if self.runner == "go":
            return name.split("/", 1)[0].strip()  # a subtest runs inside its test function
        name = name.split("[", 1)[0]
        return name.rsplit(".", 1)[-1].strip() if "/" not in name else name.strip()


#: Runners whose test ids are titles (`suite > test name`), not function names.
JS_RUNNERS = frozenset({"jest", "vitest", "node"})


def parse_test_output(output: str) -> list[FailureTrace]:
    """Every failure found in `output`, whichever of the supported runners produced it."""
    for parser in (_parse_pytest, _parse_jest_vitest, _parse_node, _parse_cargo, _parse_go):
        failures = parser(output)
        if failures:
            return failures
    return []


def reported_failure(test_id: str, runner: str, message: str, file: str | None, line: int | None,
                     detail: str = "") -> FailureTrace:
    """A failure as a runner's structured report gives it (its id, message, location and error text),
    for when none can be read from the output: frames from the stack in ``detail``, else the location."""
    runner = {"node-test": "node"}.get(runner, runner)
    frames: list[Frame] = []
    for text in detail.splitlines():
        if match := _JS_AT_FRAME.match(text):
            if (found := _js_frame(match)) is not None:
                frames.append(found)
        elif native := _PYTHON_NATIVE_FRAME.match(text):
            frames.append(Frame(native.group(1), int(native.group(2)), native.group(3)))
    if runner in JS_RUNNERS:
        frames.reverse()  # JavaScript stacks list the innermost call first
    if file and line and not any(f.path.endswith(file) and f.line == line for f in frames):
        frames.insert(0, Frame(file, line))
    return FailureTrace(test_id, runner, message, frames)


# -- pytest ------------------------------------------------------------------------------------
_PYTEST_HEADER = re.compile(r"^_+ (.+?) _+$")  # a long test id leaves room for one underscore each side
_PYTEST_SUMMARY = re.compile(r"^(?:FAILED|ERROR) (\S+?)(?: - (.*))?$")
_PYTEST_SHORT_FRAME = re.compile(r"^(\S.*?):(\d+): in (\S+)$")
_PYTEST_LONG_LOCATION = re.compile(r"^(\S[^:\s]*?\.\w+):(\d+): ?(\S.*)?$")
_PYTEST_DEF = re.compile(r"^\s*(?:async\s+)?def (\w+)\(")
_PYTHON_NATIVE_FRAME = re.compile(r'^\s*File "(.+?)", line (\d+), in (\S+)$')
_ENTRY_SEPARATOR = re.compile(r"^(?:_ ){5,}_?$")


def _parse_pytest(output: str) -> list[FailureTrace]:
    lines = output.splitlines()
    summary = [m.groups() for line in lines if (m := _PYTEST_SUMMARY.match(line))]
    blocks: list[tuple[str, list[str]]] = []
    section: list[str] = []  # everything inside the FAILURES / ERRORS section
    in_failures = False
    for line in lines:
        if re.match(r"^=+ (FAILURES|ERRORS) =+$", line):
            in_failures = True
            continue
        if re.match(r"^=+ .* =+$", line):
            in_failures = False
            continue
        if not in_failures:
            continue
        section.append(line)
        header = _PYTEST_HEADER.match(line)
        if header and not _ENTRY_SEPARATOR.match(line):
            blocks.append((header.group(1), []))
        elif blocks:
            blocks[-1][1].append(line)
    if not blocks and not summary:
        return []
    failures: list[FailureTrace] = []
    if blocks:
        for title, body in blocks:
            test_id = _match_summary(title, summary)
            failures.append(FailureTrace(test_id, "pytest", _error_message(body), _pytest_frames(body)))
    else:
        # --tb=line: one "path:line: message" per failure, in the summary's order.
        locations = [m for line in section if (m := _PYTEST_LONG_LOCATION.match(line)) and m.group(3)]
        for index, (test_id, message) in enumerate(summary):
            frames = []
            if index < len(locations):
                frames = [Frame(locations[index].group(1), int(locations[index].group(2)))]
            failures.append(FailureTrace(test_id, "pytest", message or "", frames))
    return failures


def _match_summary(title: str, summary: list[tuple[str, str | None]]) -> str:
    """Map a section title ("TestStack.test_pop") to the summary's node id, if present."""
    head, bracket, params = title.partition("[")
    wanted = head.replace(".", "::") + bracket + params  # dots inside parameters ("1.0.0") stay
    for test_id, _ in summary:
        if test_id.endswith("::" + wanted) or test_id == wanted:
            return test_id
    return title


_EXCEPTION_LINE = re.compile(r"^[\w.]+(?:Error|Exception|Exit|Interrupt|Failure)\b.*$")


def _error_message(body: list[str]) -> str:
    message = "\n".join(line[1:].strip() for line in body if line.startswith("E ")).strip()
    if message:
        return message
    # --tb=native prints a plain Python traceback ending in "SomeError: message".
    return next((line for line in reversed(body) if _EXCEPTION_LINE.match(line)), "")


def _pytest_frames(body: list[str]) -> list[Frame]:
    frames: list[Frame] = []
    last_def: str | None = None
    for line in body:
        if _ENTRY_SEPARATOR.match(line):
            last_def = None
            continue
        if native := _PYTHON_NATIVE_FRAME.match(line):
            frames.append(Frame(native.group(1), int(native.group(2)), native.group(3)))
            continue
        if short := _PYTEST_SHORT_FRAME.match(line):
            frames.append(Frame(short.group(1), int(short.group(2)), short.group(3)))
            continue
        if definition := _PYTEST_DEF.match(line):
            last_def = definition.group(1)
            continue
        if (location := _PYTEST_LONG_LOCATION.match(line)) and not line.startswith((" ", "E ")):
            frames.append(Frame(location.group(1), int(location.group(2)), last_def))
            last_def = None
    return frames


# -- jest / vitest -----------------------------------------------------------------------------
_JEST_HEADER = re.compile(r"^\s*● (.+)$")
_VITEST_HEADER = re.compile(r"^\s*(?:FAIL|×|✗)\s+(\S+\.\w+)\s+>\s+(.+?)(?:\s+\d+m?s)?$")
_JS_AT_FRAME = re.compile(r"^\s+at (?:(.+?) \()?((?:file://)?(?:[A-Za-z]:)?[^():\s]+):(\d+):(\d+)\)?$")
_VITEST_FRAME = re.compile(r"^\s*❯ (?:(\S+) )?((?:[A-Za-z]:)?[^():\s]+):(\d+):(\d+)$")


def _parse_jest_vitest(output: str) -> list[FailureTrace]:
    failures: list[FailureTrace] = []
    current: FailureTrace | None = None
    for line in output.splitlines():
        if (jest := _JEST_HEADER.match(line)) and "Test suite failed to run" not in line:
            current = FailureTrace(jest.group(1).strip(), "jest")
            failures.append(current)
        elif vitest := _VITEST_HEADER.match(line):
            test_id = f"{vitest.group(1)} > {vitest.group(2).strip()}"
            existing = next((f for f in failures if f.test_id == test_id), None)
            current = existing or FailureTrace(test_id, "vitest")
            if existing is None:
                failures.append(current)
        elif current is not None and (frame := _JS_AT_FRAME.match(line) or _VITEST_FRAME.match(line)):
            if (found := _js_frame(frame)) is not None:
                current.frames.append(found)
        elif current is not None and not current.message and line.strip() and not line.strip().startswith(("at ", "❯", ">", "|")):
            current.message = line.strip()
    for failure in failures:
        failure.frames.reverse()  # JavaScript stacks list the innermost call first
    return failures


def _js_frame(match: re.Match[str]) -> Frame | None:
    """A stack line's frame (groups: function, path, line), or None for node's and packages' own code."""
    path = match.group(2).removeprefix("file://")
    if "node_modules" in path or path.startswith(("node:", "internal/")):
        return None
    return Frame(path, int(match.group(3)), match.group(1))


# -- node --test (spec and TAP reporters) -------------------------------------------------------
_NODE_SPEC_FAIL = re.compile(r"^(\s*)✖ (.+?)(?: \([\d.]+m?s\))?$")
_NODE_SPEC_END = re.compile(r"^\s*(?:✔|✖|▶|ℹ|﹣) ")
_NODE_TEST_AT = re.compile(r"^test at ((?:file://)?\S+?):(\d+):\d+$")
_NODE_TAP_FAIL = re.compile(r"^(\s*)not ok \d+ - (.+?)(?: # .*)?$")
_NODE_TAP_FIELD = re.compile(r"^\s+(\w+):(?: (.*))?$")
_NODE_TAP_STACK = re.compile(r"^\s+(?:(.+?) \()?((?:file://)?(?:[A-Za-z]:)?[^():\s]+):(\d+):(\d+)\)?$")


def _parse_node(output: str) -> list[FailureTrace]:
    """node --test's spec reporter (its closing "failing tests" list when there is one) or its TAP."""
    lines = output.splitlines()
    summary = next((i for i, line in enumerate(lines) if line.strip() == "✖ failing tests:"), None)
    failures = _node_spec(lines[summary + 1:] if summary is not None else lines)
    return failures or _node_tap(lines)


def _node_spec(lines: list[str]) -> list[FailureTrace]:
    failures: list[FailureTrace] = []
    current: FailureTrace | None = None
    location: Frame | None = None
    stack: list[Frame] = []

    def finish() -> None:
        if current is not None:
            # A suite's own line carries no error: its failing tests are listed on their own.
            if current.message or stack:
                current.frames = ([location] if location else []) + list(reversed(stack))
                failures.append(current)

    for line in lines:
        if at := _NODE_TEST_AT.match(line):
            finish()
            current, stack = None, []
            location = Frame(at.group(1).removeprefix("file://"), int(at.group(2)))
        elif header := _NODE_SPEC_FAIL.match(line):
            if current is not None:
                finish()
                location = None
            current, stack = FailureTrace(header.group(2).strip(), "node"), []
        elif current is None:
            continue
        elif _NODE_SPEC_END.match(line):
            finish()
            current, location, stack = None, None, []
        elif frame := _JS_AT_FRAME.match(line):
            if (found := _js_frame(frame)) is not None:
                stack.append(found)
        elif line.strip() and not stack:
            current.message = _add_line(current.message, line)
    finish()
    return failures


def _add_line(message: str, line: str, limit: int = 8) -> str:
    """The message with one more line of the error (its first ``limit`` lines are kept)."""
    return "\n".join(filter(None, [message, line.strip()])) if message.count("\n") < limit - 1 else message


def _node_tap(lines: list[str]) -> list[FailureTrace]:
    failures: list[FailureTrace] = []
    current: FailureTrace | None = None
    field_name, field_indent = "", 0
    location: Frame | None = None
    stack: list[Frame] = []
    subtests_failed = False

    def finish() -> None:
        if current is not None and not subtests_failed:
            current.frames = ([location] if location else []) + list(reversed(stack))
            failures.append(current)

    for line in lines:
        indent = len(line) - len(line.lstrip())
        if header := _NODE_TAP_FAIL.match(line):
            finish()
            current, field_name, location, stack, subtests_failed = FailureTrace(header.group(2).strip(), "node"), "", None, [], False
        elif current is None:
            continue
        elif line.strip() == "...":
            finish()
            current = None
        elif field_name and line.strip() and indent > field_indent:  # a block value's line (`error: |-`)
            if field_name == "error":
                current.message = _add_line(current.message, line)
            elif field_name == "stack" and (frame := _NODE_TAP_STACK.match(line)):
                if (found := _js_frame(frame)) is not None:
                    stack.append(found)
        elif field := _NODE_TAP_FIELD.match(line):
            field_name, field_indent = field.group(1), indent
            value = (field.group(2) or "").strip().strip("'")
            if field_name == "location" and (at := re.match(r"^(.+):(\d+):\d+$", value)):
                location = Frame(at.group(1).removeprefix("file://"), int(at.group(2)))
            elif field_name == "failureType":
                subtests_failed = value == "subtestsFailed"
            elif field_name == "error" and value not in ("|-", "|", ">-", ">"):
                current.message = value
    finish()
    return failures


# -- cargo test --------------------------------------------------------------------------------
_CARGO_HEADER = re.compile(r"^---- (\S+) stdout ----$")
_CARGO_PANIC = re.compile(r"panicked at (?:'(.*?)', )?(\S+?):(\d+):(\d+)")
_RUST_BACKTRACE_FUNCTION = re.compile(r"^\s+\d+: (.+)$")
_RUST_BACKTRACE_LOCATION = re.compile(r"^\s+at (.+?):(\d+):(\d+)$")


def _parse_cargo(output: str) -> list[FailureTrace]:
    failures: list[FailureTrace] = []
    current: FailureTrace | None = None
    backtrace: list[Frame] = []
    function: str | None = None
    expect_message = False

    def finish() -> None:
        if current is not None and backtrace:
            current.frames = list(reversed(backtrace))  # backtraces list the innermost call first

    for line in output.splitlines():
        if header := _CARGO_HEADER.match(line):
            finish()
            current = FailureTrace(header.group(1), "cargo")
            backtrace, function = [], None
            failures.append(current)
        elif current is None:
            continue
        elif panic := _CARGO_PANIC.search(line):
            current.frames.append(Frame(panic.group(2), int(panic.group(3)), current.test_id.rsplit("::", 1)[-1]))
            current.message = panic.group(1) or ""
            expect_message = not current.message
        elif expect_message and line.strip():
            current.message = line.strip()
            expect_message = False
        elif location := _RUST_BACKTRACE_LOCATION.match(line):
            backtrace.append(Frame(location.group(1), int(location.group(2)), function))
        elif named := _RUST_BACKTRACE_FUNCTION.match(line):
            function = named.group(1).rsplit("::", 1)[-1]
    finish()
    return failures


# -- go test -----------------------------------------------------------------------------------
_GO_RUN = re.compile(r"^\s*=== (?:RUN|CONT|PAUSE)\s")
_GO_FAIL = re.compile(r"^\s*--- FAIL: (\S+)")
_GO_OTHER_RESULT = re.compile(r"^\s*--- (?:PASS|SKIP): ")
_GO_LOG = re.compile(r"^\s+(\S+\.go):(\d+): (.*)$")
_GO_PANIC_FRAME = re.compile(r"^\s+(/\S+\.go):(\d+)(?: \+0x[0-9a-f]+)?$")


def _parse_go(output: str) -> list[FailureTrace]:
    failures: list[FailureTrace] = []
    pending: list[tuple[Frame, str]] = []  # with -v, a test's log lines come before its FAIL line
    owner: FailureTrace | None = None  # without -v, they come after it
    previous = ""
    for line in output.splitlines():
        if _GO_RUN.match(line) or _GO_OTHER_RESULT.match(line):
            pending, owner = [], None
        elif header := _GO_FAIL.match(line):
            owner = FailureTrace(header.group(1), "go")
            owner.frames = [frame for frame, _ in pending]
            owner.message = "\n".join(message for _, message in pending)
            pending = []
            failures.append(owner)
        elif log := _GO_LOG.match(line):
            frame = Frame(log.group(1), int(log.group(2)))
            if owner is not None:
                owner.frames.append(frame)
                owner.message = "\n".join(filter(None, [owner.message, log.group(3)]))
            else:
                pending.append((frame, log.group(3)))
        elif panic := _GO_PANIC_FRAME.match(line):
            if failures:
                function = previous.strip().split("(", 1)[0].rsplit(".", 1)[-1] or None
                failures[-1].frames.insert(0, Frame(panic.group(1), int(panic.group(2)), function))
        elif line.startswith("panic: ") and failures and not failures[-1].message:
            failures[-1].message = line
        previous = line
    return failures
