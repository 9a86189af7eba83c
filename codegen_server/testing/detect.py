"""Choose a workspace's test command the way a person would, from the files present."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import sys
from pathlib import Path

from .types import TestCommand

# The placeholder `npm init` writes; not a test command.
_NPM_PLACEHOLDER = "no test specified"
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`\\\n*?]")
#: Where a project keeps its own Python environment, in order of preference.
VENV_DIRS = (".venv", "venv", "env")


def detect_test_command(root: Path, override: str | None = None) -> TestCommand | None:
    """The test command for ``root``, or None when nothing suggests one.

    ``override`` (a workspace setting or ``--test-cmd``) always wins; when it is a
    plain invocation of a known runner (``pytest -x``, ``cargo test``, ``node --test``) it keeps
    that runner's kind so structured results and re-running single tests still
    work, otherwise it runs as a shell command and its text output is parsed.

    Without an override, in order: explicit pytest configuration, a
    package.json test script (or vitest/jest in devDependencies), Cargo.toml,
    go.mod, then weaker pytest signs (a tests/ directory or test_*.py files).
    """
    root = root.resolve()
    if override and override.strip():
        return _from_override(root, override.strip())
    if source := _pytest_config(root):
        return _pytest(root, source)
    if command := _node(root):
        return command
    if (root / "Cargo.toml").is_file():
        return TestCommand(
            kind="cargo", cwd=root, argv=("cargo", "test", "--no-fail-fast"),
            report="libtest", source="Cargo.toml",
        )
    if (root / "go.mod").is_file():
        return TestCommand(
            kind="go", cwd=root, argv=("go", "test", "./..."), report="go-json", source="go.mod"
        )
    if source := _python_tests(root):
        return _pytest(root, source)
    return None


def _from_override(root: Path, line: str) -> TestCommand:
    source = "user-given command"
    if not _SHELL_SYNTAX.search(line):
        argv = tuple(shlex.split(line))
        if argv and (Path(argv[0]).name == "pytest" or argv[1:3] == ("-m", "pytest")):
            return TestCommand(kind="pytest", cwd=root, argv=argv, report="junit-xml", source=source)
        if argv[:2] == ("cargo", "test"):
            return TestCommand(kind="cargo", cwd=root, argv=argv, report="libtest", source=source)
        if argv[:2] == ("go", "test"):
            return TestCommand(kind="go", cwd=root, argv=argv, report="go-json", source=source)
        if argv[:1] == ("node",) and "--test" in argv:
            return TestCommand(kind="node-test", cwd=root, argv=argv, report="node-junit", source=source)
        if argv and Path(argv[0]).name in ("vitest", "jest"):
            kind = Path(argv[0]).name
            return TestCommand(kind=kind, cwd=root, argv=argv, report="jest-json", source=source)  # type: ignore[arg-type]
    return TestCommand(kind="custom", cwd=root, shell=line, report="text", source=source)


def _pytest_config(root: Path) -> str | None:
    """Which file configures pytest explicitly, if any."""
    if (root / "pytest.ini").is_file():
        return "pytest.ini"
    checks = (
        ("pyproject.toml", r"^\[tool\.pytest(\.ini_options)?\]", "[tool.pytest]"),
        ("setup.cfg", r"^\[tool:pytest\]", "[tool:pytest]"),
        ("tox.ini", r"^\[pytest\]", "[pytest]"),
    )
    for name, section, label in checks:
        text = _read(root / name)
        if text and re.search(section, text, re.MULTILINE):
            return f"{name} {label}"
    return None


def _python_tests(root: Path) -> str | None:
    """Weaker signs of a pytest suite: a tests/ directory with Python tests, or test files."""
    for folder in ("tests", "test"):
        directory = root / folder
        if directory.is_dir() and (
            any(directory.rglob("test_*.py"))
            or any(directory.rglob("*_test.py"))
            or (directory / "conftest.py").is_file()
        ):
            return f"{folder}/ directory"
    if any(root.glob("test_*.py")) or any(root.glob("*_test.py")):
        return "test_*.py files"
    return None


def _pytest(root: Path, source: str) -> TestCommand:
    """``python -m pytest`` (which puts the workspace on sys.path, as users expect) with the workspace's own
    virtualenv when it has one (one with pytest first: its dependencies are there), else codegen's Python
    when it has pytest, else a ``pytest`` on PATH. ``source`` says which; ``check_runnable`` reports a
    virtualenv without pytest, or no pytest at all, before anything runs."""
    venvs = [root / venv / "bin" / "python" for venv in VENV_DIRS if (root / venv / "bin" / "python").is_file()]
    if venvs:
        python = next((p for p in venvs if has_pytest(p)), venvs[0])
        return _pytest_command(root, (str(python), "-m", "pytest"),
                               f"{source}; the project's {python.relative_to(root)}")
    if importlib.util.find_spec("pytest") is not None:
        return _pytest_command(root, (sys.executable, "-m", "pytest"), f"{source}; codegen's {sys.executable}")
    if found := shutil.which("pytest"):
        return _pytest_command(root, (found,), f"{source}; {found} on PATH")
    return _pytest_command(root, ("pytest",), f"{source}; no pytest found")


def _pytest_command(root: Path, argv: tuple[str, ...], source: str) -> TestCommand:
    return TestCommand(kind="pytest", cwd=root, argv=argv, report="junit-xml", source=source)


def has_pytest(python: Path) -> bool:
    """Whether the virtualenv of ``python`` (``<venv>/bin/python``) has pytest installed; read from its
    site-packages, without starting it."""
    venv = python.parent.parent
    return any(venv.glob("lib/python*/site-packages/pytest/__init__.py")) or \
        any(venv.glob("lib/python*/site-packages/pytest-*.dist-info"))


def _node(root: Path) -> TestCommand | None:
    text = _read(root / "package.json")
    if text is None:
        return None
    try:
        package = json.loads(text)
    except json.JSONDecodeError:
        return None
    script = (package.get("scripts") or {}).get("test") or ""
    deps = {**(package.get("dependencies") or {}), **(package.get("devDependencies") or {})}
    if script and _NPM_PLACEHOLDER not in script:
        source = f'package.json "test": {script}'
        argv = ("npm", "test")
        if "vitest" in script:
            return TestCommand(kind="vitest", cwd=root, argv=argv, report="jest-json", source=source)
        if re.search(r"\bjest\b", script):
            return TestCommand(kind="jest", cwd=root, argv=argv, report="jest-json", source=source)
        if re.search(r"\bnode\b.*--test\b", script):
            # A plain `node --test ...` runs directly, so reporter and name-filter
            # flags can go right after --test.
            words = tuple(shlex.split(script)) if not _SHELL_SYNTAX.search(script) else ()
            if words[:1] == ("node",) and "--test" in words:
                argv = words
            return TestCommand(kind="node-test", cwd=root, argv=argv, report="node-junit", source=source)
        return TestCommand(kind="npm", cwd=root, argv=argv, report="text", source=source)
    if "vitest" in deps:
        return TestCommand(
            kind="vitest", cwd=root, argv=("npx", "vitest", "run"), report="jest-json",
            source="vitest in package.json dependencies",
        )
    if "jest" in deps:
        return TestCommand(
            kind="jest", cwd=root, argv=("npx", "jest"), report="jest-json",
            source="jest in package.json dependencies",
        )
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
