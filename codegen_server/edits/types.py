"""Plain result types shared by the edits engine and its callers (workflows, server, CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChangeKind = Literal["create", "modify", "delete", "rename"]


@dataclass(frozen=True)
class FileChange:
    """One file's change, fully computed: the text before and after.

    ``path`` is workspace-relative and POSIX-style. ``old_text`` is None for a
    created file, ``new_text`` is None for a deleted one; a rename carries
    ``new_path`` (and may change the text too).
    """

    path: str
    kind: ChangeKind
    old_text: str | None
    new_text: str | None
    new_path: str | None = None
    #: The file mode the diff asks for a created file (``new file mode 100755``); None: the default.
    mode: int | None = None


@dataclass(frozen=True)
class HunkFailure:
    """A hunk (or whole-file block) that could not be applied, reported precisely
    enough to send back to the model for a retry."""

    path: str
    hunk_index: int
    header: str
    reason: str
    searched: str = ""
    closest: str = ""
    closest_line: int | None = None


@dataclass
class PatchResult:
    """What a patch would do: the changes that applied and the hunks that did not."""

    changes: list[FileChange] = field(default_factory=list)
    failures: list[HunkFailure] = field(default_factory=list)
    diff: str = ""
    #: Hunks whose result is already in the file: nothing is written for them (never twice).
    already_applied: list[HunkFailure] = field(default_factory=list)
    #: Fenced blocks of the answer that are neither a diff nor a named file: applied nowhere, said so.
    not_understood: list[HunkFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class EditLimits:
    """Size limits that keep a runaway answer from eating memory or the disk."""

    max_patch_bytes: int = 2_000_000
    max_file_bytes: int = 4_000_000
    max_files: int = 500


class EditError(ValueError):
    """A patch that must not be applied at all: unsafe path, size limit, non-UTF-8 file.

    Raised (not reported as a hunk failure) because no retry of the same hunk can fix it;
    the message names the offending path.
    """


class StaleFileError(EditError):
    """A file on disk no longer holds the text a change was computed from (someone wrote it since)."""
