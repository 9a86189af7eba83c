"""The plan a model answers in the fix loop: edits (diffs), packages to install, commands to run.

Models with no tool calling answer in plain text, so the plan is read from text:
a fenced unified diff (or whole-file block) is the edit, and lines
``INSTALL: <package>`` / ``RUN: <command>`` are the other actions.

An install value comes from the model, and text in a repository can steer a model,
so it is never trusted: it must be a plain requirement of the project's ecosystem
(a registry package name with a version), never an option, a URL or a path, and it
is passed after ``--`` so the package manager cannot read it as an option either.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement

from ..testing import TestCommand

_ACTION = re.compile(r"^\s*(?:[-*]\s*)?(?:`)?(INSTALL|RUN):\s*(?P<value>.+?)`?\s*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


@dataclass
class Plan:
    """The model's plan: ``text`` holds the edit (diffs or whole files) for the edits engine."""

    text: str
    installs: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


def parse_plan(answer: str) -> Plan:
    """Read INSTALL/RUN lines outside code blocks; the whole answer goes to the edits engine."""
    outside_code = _FENCE.sub("", answer)
    installs, commands = [], []
    for match in _ACTION.finditer(outside_code):
        (installs if match.group(1) == "INSTALL" else commands).append(match.group("value").strip())
    return Plan(text=answer, installs=installs, commands=commands)


_TEST_NAME = re.compile(r"(^test_.*\.py$|_test\.py$|\.(test|spec)\.[cm]?[jt]sx?$|_test\.go$|^conftest\.py$)")
_TEST_DIRS = {"tests", "test", "__tests__", "spec"}


def is_test_file(path: str) -> bool:
    """A file that holds tests, by the conventions of pytest, jest/vitest, go and cargo."""
    parts = PurePosixPath(path).parts
    return bool(_TEST_NAME.search(parts[-1])) or any(p in _TEST_DIRS for p in parts[:-1])


class UnsafeInstall(ValueError):
    """An install value that is not a plain requirement: an option, a URL, a path, an alias."""


#: Archive names that pip and npm install from a local file of that name, running its build.
_ARCHIVE = re.compile(r"\.(whl|zip|tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz))$", re.IGNORECASE)
_NPM_NAME = r"(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*"
#: npm: a registry name, optionally @ a version, range or tag (no `npm:` alias, `file:`, `git:`, URL or path).
_NPM_SPEC = re.compile(rf"{_NPM_NAME}(?:@[0-9A-Za-z.^~<>=*|+ -]+)?", re.IGNORECASE)
#: cargo: a crate name, optionally @ a version requirement.
_CARGO_SPEC = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:@[0-9A-Za-z.^~<>=*+, -]+)?")
#: go: a module path under a domain, optionally @ a version or query (latest, a commit, a branch).
_GO_SPEC = re.compile(r"[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+(?:/[A-Za-z0-9_~+-][A-Za-z0-9._~+-]*)*(?:@[A-Za-z0-9._+-]+)?")
_NPM_KINDS = ("npm", "node-test", "jest", "vitest")


def ecosystem(tests: TestCommand) -> str:
    """The package ecosystem of a project whose tests run with ``tests``: pip, npm, cargo or go."""
    if tests.kind in _NPM_KINDS:
        return "npm"
    return tests.kind if tests.kind in ("cargo", "go") else "pip"


def check_requirement(value: str, kind: str) -> str:
    """Why ``value`` cannot be installed with ``kind`` (pip, npm, cargo, go); "" when it is a plain requirement."""
    if not value or len(value) > 200 or any(not c.isprintable() for c in value):
        return "not a package requirement"
    if value.lstrip().startswith("-"):
        return "it is a command-line option, not a package"
    if "://" in value or re.match(r"^(git|file|link|github|npm|http|https|ssh|svn|hg|bzr)[+:]", value, re.IGNORECASE):
        return "it names a URL or another package source, not a registry package"
    if value.startswith((".", "/", "~", "\\")) or re.match(r"^[A-Za-z]:[\\/]", value):
        return "it is a file-system path, not a registry package"
    name = value.split(";", 1)[0].split("@", 1)[0].split("[", 1)[0]
    if _ARCHIVE.search(name.strip()) or _ARCHIVE.search(value.strip()):
        return "it names an archive file, not a registry package"
    if kind == "pip":
        try:
            requirement = Requirement(value)
        except InvalidRequirement:
            return "not a valid Python requirement (a name, extras, version specifiers and markers)"
        if requirement.url:
            return "it installs from a URL, not from the package index"
        return ""
    pattern = {"npm": _NPM_SPEC, "cargo": _CARGO_SPEC, "go": _GO_SPEC}[kind]
    if not pattern.fullmatch(value) or ".." in value:
        return {"npm": "not a registry package name with an optional version",
                "cargo": "not a crate name with an optional version",
                "go": "not a module path with an optional version"}[kind]
    return ""


def install_command(package: str, tests: TestCommand) -> list[str]:
    """How a package is installed in a project whose tests run with ``tests``.

    Raises UnsafeInstall unless ``package`` is a plain requirement (see check_requirement);
    the requirement always follows ``--``, so it cannot be read as an option.
    """
    kind = ecosystem(tests)
    reason = check_requirement(package.strip(), kind)
    if reason:
        raise UnsafeInstall(f"{package!r} was not installed: {reason}. Only plain {kind} requirements "
                            "from the package registry are installed.")
    package = package.strip()
    if kind == "npm":
        return ["npm", "install", "--no-audit", "--no-fund", "--", package]
    if kind == "cargo":
        return ["cargo", "add", "--", package]
    if kind == "go":
        return ["go", "get", "--", package]
    # The interpreter the tests run with, so the package lands where they look.
    python = tests.argv[0] if tests.argv and "python" in PurePosixPath(tests.argv[0]).name else sys.executable
    return [python, "-m", "pip", "install", "--", package]


def install_description(package: str, argv: list[str]) -> str:
    """The consent text for an install: it starts with "install " and shows the exact command."""
    return f"install {package} by running `{shlex.join(argv)}`"
