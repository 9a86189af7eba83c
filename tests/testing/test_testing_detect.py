"""Choosing the test command from the files a project has."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from codegen_server.testing import detect_test_command


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "source"),
    [
        ({"pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-q'\n"}, "pyproject.toml [tool.pytest]"),
        ({"setup.cfg": "[metadata]\nname = x\n[tool:pytest]\n"}, "setup.cfg [tool:pytest]"),
        ({"pytest.ini": "[pytest]\n"}, "pytest.ini"),
        ({"tox.ini": "[tox]\n[pytest]\ntestpaths = t\n"}, "tox.ini [pytest]"),
        ({"tests/test_app.py": "def test_x(): pass\n"}, "tests/ directory"),
        ({"test_app.py": "def test_x(): pass\n"}, "test_*.py files"),
    ],
)
def test_pytest_projects(tmp_path: Path, files: dict[str, str], source: str) -> None:
    command = detect_test_command(write(tmp_path, files))
    assert command is not None
    assert (command.kind, command.report) == ("pytest", "junit-xml")
    assert command.source == f"{source}; codegen's {sys.executable}"  # why, and which interpreter
    assert command.argv is not None and command.argv[-2:] == ("-m", "pytest")
    assert command.cwd == tmp_path.resolve()


def test_workspace_virtualenv_python_is_preferred(tmp_path: Path) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", ".venv/bin/python": ""})
    command = detect_test_command(tmp_path)
    assert command is not None and command.argv == (str(tmp_path.resolve() / ".venv/bin/python"), "-m", "pytest")


def test_the_project_environment_with_pytest_is_preferred_and_named(tmp_path: Path) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", ".venv/bin/python": "",
                     "venv/bin/python": "", "venv/lib/python3.11/site-packages/pytest/__init__.py": ""})
    command = detect_test_command(tmp_path)
    assert command is not None and command.argv == (str(tmp_path.resolve() / "venv/bin/python"), "-m", "pytest")
    assert command.source == "pytest.ini; the project's venv/bin/python"


@pytest.mark.parametrize(
    ("package", "kind", "argv"),
    [
        ({"scripts": {"test": "vitest"}, "devDependencies": {"vitest": "^3"}}, "vitest", ("npm", "test")),
        ({"scripts": {"test": "jest --ci"}, "devDependencies": {"jest": "^29"}}, "jest", ("npm", "test")),
        ({"scripts": {"test": "node --test test/"}}, "node-test", ("node", "--test", "test/")),
        ({"scripts": {"test": "npm run build && node --test"}}, "node-test", ("npm", "test")),
        ({"scripts": {"test": "mocha"}}, "npm", ("npm", "test")),
        ({"devDependencies": {"vitest": "^3"}}, "vitest", ("npx", "vitest", "run")),
        ({"devDependencies": {"jest": "^29"}}, "jest", ("npx", "jest")),
    ],
)
def test_node_projects(tmp_path: Path, package: dict, kind: str, argv: tuple[str, ...]) -> None:
    command = detect_test_command(write(tmp_path, {"package.json": json.dumps(package)}))
    assert command is not None and (command.kind, command.argv) == (kind, argv)


def test_npm_placeholder_script_is_not_a_test_command(tmp_path: Path) -> None:
    placeholder = {"scripts": {"test": 'echo "Error: no test specified" && exit 1'}}
    assert detect_test_command(write(tmp_path, {"package.json": json.dumps(placeholder)})) is None


def test_cargo_and_go(tmp_path: Path) -> None:
    rust = write(tmp_path / "rs", {"Cargo.toml": "[package]\nname = 'x'\n"})
    go = write(tmp_path / "go", {"go.mod": "module example.com/x\n"})
    assert detect_test_command(rust).argv == ("cargo", "test", "--no-fail-fast")  # type: ignore[union-attr]
    assert detect_test_command(go).argv == ("go", "test", "./...")  # type: ignore[union-attr]


def test_explicit_pytest_config_wins_over_package_json(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pytest.ini_options]\n", "package.json": '{"scripts": {"test": "jest"}}'})
    assert detect_test_command(tmp_path).kind == "pytest"  # type: ignore[union-attr]


def test_empty_directory_has_no_command(tmp_path: Path) -> None:
    assert detect_test_command(tmp_path) is None


def test_user_command_overrides_and_keeps_known_runners_structured(tmp_path: Path) -> None:
    write(tmp_path, {"Cargo.toml": "[package]\n"})
    plain = detect_test_command(tmp_path, f"{sys.executable} -m pytest -x tests")
    assert plain is not None and plain.kind == "pytest" and plain.argv == (sys.executable, "-m", "pytest", "-x", "tests")
    shell = detect_test_command(tmp_path, "make test && ./check.sh")
    assert shell is not None and (shell.kind, shell.shell, shell.argv) == ("custom", "make test && ./check.sh", None)
    assert detect_test_command(tmp_path, "go test ./pkg/...").kind == "go"  # type: ignore[union-attr]
    node = detect_test_command(tmp_path, "node --test test/")
    assert node is not None and (node.kind, node.argv, node.report) == ("node-test", ("node", "--test", "test/"), "node-junit")
