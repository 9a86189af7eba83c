"""Preprompts: the model's identity and instructions as plain-text files.

The defaults ship with the package (``preprompts/`` at the repository root,
inside the wheel as ``codegen_server/preprompts``). A workspace overrides any of
them with a file of the same name in ``<workspace>/.codegen/preprompts/``.

An override is the workspace's content (a team commits it), and it becomes the model's
instructions: it is read only as a regular file inside a real ``.codegen`` folder, never through a
symlink (to a secret outside the workspace, to ``/dev/zero``), never a FIFO or a device, and never
past a size cap. One that is not is ignored with a warning, and the shipped preprompt is used.
"""

from __future__ import annotations

from pathlib import Path

from .store.memory import prompt_section
from .trust.files import RefusedPath, read_regular, state_dir
from .trust.notices import ignored

#: The most of an override codegen reads.
OVERRIDE_MAX_BYTES = 256 * 1024
_REMEDY = (f"The shipped preprompt is used instead; make the override a regular file inside the workspace "
           f"(at most {OVERRIDE_MAX_BYTES // 1024} KiB)")

NAMES = ("philosophy", "clarify", "generate", "generate_plan", "feedback", "feedback_markers", "explain", "fix",
         "fix_diagnose", "fix_plan", "diff_format", "file_format", "show_format")


def answer_formats(*, existing_code: bool) -> tuple[str, ...]:
    """The format preprompts a request's answer can use, in the one order every command gives them:
    diffs, whole files, requests to see code. An empty workspace has nothing to diff or show."""
    return ("diff_format", "file_format", "show_format") if existing_code else ("file_format",)


def default_dir() -> Path:
    """Where the shipped preprompts are: inside the wheel, or the checkout's root when run from source."""
    packaged = Path(__file__).parent / "preprompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "preprompts"


class Preprompts:
    """The preprompts in force for one workspace."""

    def __init__(self, workspace: Path | None = None) -> None:
        self._workspace = workspace

    def get(self, name: str) -> str:
        """The text of preprompt ``name``, the workspace's own if it has a usable one."""
        if self._workspace is not None and (override := _override(self._workspace, name)) is not None:
            return override
        shipped = default_dir() / name
        if not shipped.is_file():
            raise KeyError(f"no preprompt named {name!r} (looked in {default_dir()})")
        return shipped.read_text(encoding="utf-8").strip()

    def system(self, *names: str) -> str:
        """The philosophy, the named instructions and the workspace's memory, as one system message."""
        parts = [self.get(n) for n in ("philosophy", *names)]
        if self._workspace is not None and (memory := prompt_section(self._workspace)):
            parts.append(memory)
        return "\n\n".join(parts)


def _override(workspace: Path, name: str) -> str | None:
    """The workspace's override of preprompt ``name``, or None (none, or one ignored with a warning)."""
    try:
        data = read_regular(state_dir(workspace, "preprompts") / name, OVERRIDE_MAX_BYTES)
    except RefusedPath as error:
        ignored(error.path, f"it {error.why}", _REMEDY)
        return None
    return None if data is None else data.decode("utf-8", errors="replace").strip()
