"""Find ``file:line`` locations in tracebacks and stack traces."""

from __future__ import annotations

import os
import re
from pathlib import Path

# "tests/test_calc.py:7: AssertionError" / "  File "x.py", line 3, in f"
_PY_PYTEST = re.compile(r"^(?P<file>[^\s:][^:\n]*\.py):(?P<line>\d+):", re.MULTILINE)
_PY_TRACEBACK = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
# "at fn (/abs/file.js:3:30)" / "at /abs/file.ts:3:30" / "❯ test/a.test.ts:3:30"
_JS_STACK = re.compile(
    r"(?:\(|\s|file://)(?P<file>/?[^\s():]+\.(?:[cm]?[jt]sx?|vue|svelte)):(?P<line>\d+):\d+"
)

# Where node's runner (and jest's, vitest's) look for tests: *.test.js, *-spec.ts, test/..., __tests__/...
JS_TEST_FILE = re.compile(r"(^|/)(tests?|__tests__)/|[._-](test|spec)\.[cm]?[jt]sx?$|(^|/)test[-_][^/]*$")


def relative_to(path: str, cwd: Path) -> str:
    """``path`` relative to ``cwd`` (POSIX) when it lies inside it, else unchanged."""
    if path.startswith("file://"):
        path = path[len("file://") :]
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.resolve().relative_to(cwd.resolve()).as_posix()
        except ValueError:
            return path
    return Path(os.path.normpath(path)).as_posix()


def python_location(text: str, prefer_file: str | None, cwd: Path) -> tuple[str | None, int | None]:
    """The first frame in ``prefer_file`` (the test's own line), else the last frame."""
    frames = [(m["file"], int(m["line"])) for m in _PY_PYTEST.finditer(text)]
    frames += [(m["file"], int(m["line"])) for m in _PY_TRACEBACK.finditer(text)]
    return _pick(frames, prefer_file, cwd, first=False)


def js_location(text: str, prefer_file: str | None, cwd: Path) -> tuple[str | None, int | None]:
    """The first stack frame in ``prefer_file``, else the first frame outside node internals
    and node_modules."""
    frames = [
        (m["file"], int(m["line"]))
        for m in _JS_STACK.finditer(text)
        if "node_modules" not in m["file"] and not m["file"].startswith("node:")
    ]
    return _pick(frames, prefer_file, cwd, first=True)


def js_test_file(text: str, cwd: Path) -> str | None:
    """The test file in a JavaScript stack trace: its outermost frame in a file named or placed like
    a test (``*.test.js``, ``test/...``), relative to ``cwd``; None when no frame is."""
    files = [relative_to(m["file"], cwd) for m in _JS_STACK.finditer(text)
             if "node_modules" not in m["file"] and not m["file"].startswith("node:")]
    tests = [f for f in files if JS_TEST_FILE.search(f) and not f.startswith("/")]
    return tests[-1] if tests else None


def _pick(
    frames: list[tuple[str, int]], prefer_file: str | None, cwd: Path, *, first: bool
) -> tuple[str | None, int | None]:
    located = [(relative_to(f, cwd), line) for f, line in frames]
    if prefer_file:
        wanted = relative_to(prefer_file, cwd)
        for f, line in located:
            if f == wanted:
                return f, line
    if not located:
        return None, None
    return located[0] if first else located[-1]
