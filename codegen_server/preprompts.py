"""Preprompts: the model's identity and instructions as plain-text files.

The defaults ship with the package (``preprompts/`` at the repository root,
inside the wheel as ``codegen_server/preprompts``). A workspace overrides any of
them with a file of the same name in ``<workspace>/.codegen/preprompts/``.
"""

from __future__ import annotations

from pathlib import Path

from .store.memory import prompt_section

NAMES = ("philosophy", "clarify", "generate", "file_format", "diff_format", "feedback", "feedback_markers",
         "fix_diagnose", "fix_plan")


def default_dir() -> Path:
    """Where the shipped preprompts are: inside the wheel, or the checkout's root when run from source."""
    packaged = Path(__file__).parent / "preprompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "preprompts"


class Preprompts:
    """The preprompts in force for one workspace."""

    def __init__(self, workspace: Path | None = None) -> None:
        self._dirs = [default_dir()]
        self._workspace = workspace
        if workspace is not None:
            self._dirs.insert(0, workspace / ".codegen" / "preprompts")

    def get(self, name: str) -> str:
        """The text of preprompt ``name``, the workspace's own if it has one."""
        for directory in self._dirs:
            path = directory / name
            if path.is_file():
                return path.read_text(encoding="utf-8").strip()
        raise KeyError(f"no preprompt named {name!r} (looked in {', '.join(map(str, self._dirs))})")

    def system(self, *names: str) -> str:
        """The philosophy, the named instructions and the workspace's memory, as one system message."""
        parts = [self.get(n) for n in ("philosophy", *names)]
        if self._workspace is not None and (memory := prompt_section(self._workspace)):
            parts.append(memory)
        return "\n\n".join(parts)
