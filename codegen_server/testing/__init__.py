"""Detect and run a project's tests in a sandboxed process tree; structured failures."""

from .detect import detect_test_command
from .preflight import TestToolMissing, check_runnable
from .runner import run_tests
from .types import TestCommand, TestFailure, TestRun

__all__ = ["TestCommand", "TestFailure", "TestRun", "TestToolMissing", "check_runnable", "detect_test_command",
           "run_tests"]
