"""Parse test-runner output (pytest, node's test runner, jest/vitest, cargo test, go test) into failures and frames.

A failure's message keeps its lines (an assertion's diff is a block, not a sentence), and its id
names the test's file wherever the output says it (``tests/test_x.py::test_y``,
``test/x.test.js > suite > test``).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from ..testing.locations import JS_TEST_FILE


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
    for parser in (_parse_pytest, _parse_node, _parse_jest_vitest, _parse_cargo, _parse_go):
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
# An id's parameters may hold spaces ("test_x[a b]"); " - " starts the message.
_PYTEST_SUMMARY = re.compile(r"^(?:FAILED|ERROR) ((?:[^\s\[]|\[[^\]]*\])+)(?: - (.*))?$")
# Titles of entries that are not a test's call: "ERROR at setup of test_x", "ERROR collecting tests/test_x.py".
_PYTEST_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")
_PYTEST_PHASE_TITLE = re.compile(r"^ERROR (?:at (?:setup|teardown) of (.+)|collecting (.+))$")
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
        taken: set[str] = set()
        for title, body in blocks:
            frames = _pytest_frames(body)
            test_id = _match_summary(title, summary, frames, taken)
            taken.add(test_id)
            failures.append(FailureTrace(test_id, "pytest", _error_message(body), frames))
    else:
        # --tb=line: one "path:line: message" per failure, in the summary's order.
        locations = [m for line in section if (m := _PYTEST_LONG_LOCATION.match(line)) and m.group(3)]
        for index, (test_id, message) in enumerate(summary):
            frames = []
            if index < len(locations):
                frames = [Frame(locations[index].group(1), int(locations[index].group(2)))]
            failures.append(FailureTrace(test_id, "pytest", message or "", frames))
    return failures


def _match_summary(title: str, summary: list[tuple[str, str | None]], frames: list[Frame], taken: set[str]) -> str:
    """The full node id of a section titled "TestStack.test_pop": the summary's id for it (the one in the
    file the traceback passes through, when two files have a test of that name), else the title under
    the file of its traceback's first frame."""
    phase = _PYTEST_PHASE_TITLE.match(title)
    if phase and phase.group(2):
        return phase.group(2)  # a module that failed to collect is its own id
    title = phase.group(1) if phase else title
    head, bracket, params = title.partition("[")
    wanted = head.replace(".", "::") + bracket + params  # dots inside parameters ("1.0.0") stay
    files = [frame.path for frame in frames]
    candidates = [test_id for test_id, _ in summary
                  if (test_id.endswith("::" + wanted) or test_id == wanted) and test_id not in taken]
    for test_id in candidates:
        if any(path == test_id.split("::", 1)[0] or path.endswith("/" + test_id.split("::", 1)[0]) for path in files):
            return test_id
    if candidates:
        return candidates[0]
    test_files = [path for path in files if _PYTEST_TEST_FILE.search(path) and not path.startswith("/")]
    if test_files:
        return f"{test_files[0]}::{wanted}"
    return title


_EXCEPTION_LINE = re.compile(r"^[\w.]+(?:Error|Exception|Exit|Interrupt|Failure)\b.*$")


def _error_message(body: list[str]) -> str:
    """The ``E`` lines, with their indentation relative to each other (a diff stays a diff)."""
    explained = [line[1:] for line in body if line.startswith("E ") or line == "E"]
    message = textwrap.dedent("\n".join(explained)).strip("\n")
    if message.strip():
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


# -- node --test (spec reporter) ---------------------------------------------------------------
# "✖ name (1.2ms)", "✔ name (0.3ms)", "﹣ name (0.1ms) # SKIP", "▶ suite"; nesting by indentation.
_NODE_LINE = re.compile(r"^(?P<indent> *)(?P<mark>[✔✖﹣▶])\s(?P<name>.+?)(?: \([\d.]+m?s\))?(?: # .*)?$")
_NODE_RECAP = re.compile(r"^✖ failing tests:\s*$")
_NODE_RECAP_LOCATION = re.compile(r"^test at (?P<file>\S+?):(?P<line>\d+):\d+$")
_NODE_FRAME = re.compile(r"^\s*at ")
_NODE_ERROR_CODE = re.compile(r"^(\w+) \[\w+\]:")  # "AssertionError [ERR_ASSERTION]:", "TypeError [Error]:"


def _parse_node(output: str) -> list[FailureTrace]:
    """Failures from node's spec reporter: each failing test with its suites, the error's own lines
    and the frames outside node itself; the file from the "failing tests" recap's `test at` lines."""
    lines = output.splitlines()
    recap = next((i for i, line in enumerate(lines) if _NODE_RECAP.match(line)), len(lines))
    failures: list[FailureTrace] = []
    suites: list[tuple[int, str]] = []  # (indent, name) of the open suites
    index = 0
    while index < recap:
        match = _NODE_LINE.match(lines[index])
        index += 1
        if not match:
            continue
        indent, mark, name = len(match["indent"]), match["mark"], match["name"].strip()
        while suites and suites[-1][0] > indent:
            suites.pop()
        if mark == "▶":
            suites.append((indent, name))
            continue
        if suites and suites[-1] == (indent, name):  # a suite's own result line closes it
            suites.pop()
            continue
        if mark != "✖":
            continue
        block: list[str] = []
        while index < recap and (not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent):
            block.append(lines[index])
            index += 1
        message, frames = _node_error(block)
        titles = [suite for _, suite in suites] + [name]
        failures.append(FailureTrace(" > ".join(titles), "node", message, frames))
    _name_node_files(failures, lines[recap:])
    return failures or _node_tap(lines)


def _node_error(block: list[str]) -> tuple[str, list[Frame]]:
    """The error's lines up to its stack (as indented relative to each other, without node's error
    code and property dump) and the stack's frames outside node and node_modules, outermost first."""
    message: list[str] = []
    frames: list[Frame] = []
    in_stack = False
    for line in block:
        if _NODE_FRAME.match(line):
            in_stack = True
            frame = _JS_AT_FRAME.match(line.removesuffix(" {"))
            if frame and (found := _js_frame(frame)) is not None:
                frames.append(found)
        elif not in_stack:
            message.append(line)
    text = textwrap.dedent("\n".join(message)).strip("\n").removesuffix(" {").rstrip()
    frames.reverse()  # JavaScript stacks list the innermost call first
    return _NODE_ERROR_CODE.sub(r"\1:", text, count=1), frames


def _name_node_files(failures: list[FailureTrace], recap: list[str]) -> None:
    """Put each failure's file in front of its id: from the recap ("test at test/x.test.js:9:3", then the
    test's line; in the order of the failures above), else its outermost frame in a test file."""
    located: list[tuple[str, int, str]] = []  # (file, line, test name) in recap order
    for at, line in enumerate(recap):
        where = _NODE_RECAP_LOCATION.match(line)
        if where and at + 1 < len(recap) and (test := _NODE_LINE.match(recap[at + 1])):
            located.append((where["file"].removeprefix("file://"), int(where["line"]), test["name"].strip()))
    for failure in failures:
        name = failure.test_id.split(" > ")[-1]
        found = next((entry for entry in located if entry[2] == name), None)
        if found is not None:
            located.remove(found)
            file, line, _ = found
            # The test's own location comes first, as the outermost frame: it finds the test's block.
            if not any(f.path == file and f.line == line for f in failure.frames):
                failure.frames.insert(0, Frame(file, line))
        else:
            file = next((f.path for f in failure.frames if JS_TEST_FILE.search(f.path)), None)
        if file:
            failure.test_id = f"{file} > {failure.test_id}"



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


# -- node --test (TAP reporter) ----------------------------------------------------------------
_NODE_TAP_FAIL = re.compile(r"^(\s*)not ok \d+ - (.+?)(?: # .*)?$")
_NODE_TAP_FIELD = re.compile(r"^\s+(\w+):(?: (.*))?$")
_NODE_TAP_STACK = re.compile(r"^\s+(?:(.+?) \()?((?:file://)?(?:[A-Za-z]:)?[^():\s]+):(\d+):(\d+)\)?$")


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
