"""Running a real pytest project: structured failures, re-running just the failures,
collection errors never green."""

from __future__ import annotations

import textwrap
from pathlib import Path

from codegen_server.testing import detect_test_command, run_tests


def make_project(root: Path) -> None:
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\ntestpaths = ['tests']\n")
    (root / "calc.py").write_text("def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(
        textwrap.dedent(
            """\
            import pytest
            from calc import add, mul


            def test_add():
                assert add(2, 3) == 5


            class TestMul:
                @pytest.mark.parametrize("a", [1, 2])
                def test_mul(self, a):
                    assert mul(a, 1) == a

                @pytest.mark.skip(reason="later")
                def test_later(self):
                    pass
            """
        )
    )


async def test_failing_test_is_reported_with_location_and_rerun_alone(tmp_path: Path) -> None:
    make_project(tmp_path)
    command = detect_test_command(tmp_path)
    assert command is not None

    run = await run_tests(tmp_path, command, timeout=60)

    assert not run.green and run.structured
    assert (run.passed, run.failed, run.errors, run.skipped) == (2, 1, 0, 1)
    [failure] = run.failures
    assert failure.test_id == "tests/test_calc.py::test_add"
    assert (failure.file, failure.line, failure.status) == ("tests/test_calc.py", 6, "failed")
    assert "assert -1 == 5" in failure.message
    assert "def test_add" in failure.output

    again = await run_tests(tmp_path, command, timeout=60, only=run.failing_ids)
    assert again.selected == ("tests/test_calc.py::test_add",)
    assert (again.passed, again.failed) == (0, 1)

    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n")
    fixed = await run_tests(tmp_path, command, timeout=60, only=run.failing_ids)
    assert fixed.green and fixed.passed == 1
    full = await run_tests(tmp_path, command, timeout=60)
    assert full.green and (full.passed, full.skipped) == (3, 1)


async def test_parametrized_and_class_ids_rerun(tmp_path: Path) -> None:
    make_project(tmp_path)
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a\n")
    (tmp_path / "tests" / "test_calc.py").write_text(
        (tmp_path / "tests" / "test_calc.py").read_text().replace("mul(a, 1) == a", "mul(a, 2) == 2 * a")
    )
    command = detect_test_command(tmp_path)
    assert command is not None

    run = await run_tests(tmp_path, command, timeout=60)
    assert run.failing_ids == [
        "tests/test_calc.py::TestMul::test_mul[1]",
        "tests/test_calc.py::TestMul::test_mul[2]",
    ]
    again = await run_tests(tmp_path, command, timeout=60, only=run.failing_ids[1:])
    assert (again.passed, again.failed) == (0, 1)


async def test_syntax_error_in_a_test_file_is_not_green(tmp_path: Path) -> None:
    make_project(tmp_path)
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n")
    (tmp_path / "tests" / "test_broken.py").write_text("def test_x(:\n    pass\n")
    command = detect_test_command(tmp_path)
    assert command is not None

    run = await run_tests(tmp_path, command, timeout=60)

    assert not run.green and run.failed == 0 and run.errors == 1
    [failure] = run.failures
    assert (failure.test_id, failure.status) == ("tests/test_broken.py", "error")
    assert (failure.file, failure.line) == ("tests/test_broken.py", 1)
    assert "SyntaxError" in failure.message


async def test_import_error_in_the_code_under_test_is_not_green(tmp_path: Path) -> None:
    make_project(tmp_path)
    (tmp_path / "calc.py").write_text("def add(a, b)\n    return a + b\n")
    command = detect_test_command(tmp_path)
    assert command is not None

    run = await run_tests(tmp_path, command, timeout=60)

    assert not run.green and run.errors >= 1 and run.passed == 0
    assert any("calc.py" in f.output for f in run.failures)


async def test_no_tests_collected_is_not_green(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    command = detect_test_command(tmp_path)
    assert command is not None

    run = await run_tests(tmp_path, command, timeout=60)

    assert run.exit_code == 5 and not run.green
    assert run.failures[0].test_id == "<run>"
