"""What a workflow needs from whoever runs it (the daemon or the CLI)."""

from __future__ import annotations

import asyncio
import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Awaitable, Callable, Mapping, Protocol, Sequence

from ..edits import write_changes
from ..edits.sensitive import flag_changes, refusal
from ..edits.types import FileChange
from ..model import ChatModel
from ..preprompts import Preprompts
from ..store import RunStore


class Progress(Protocol):
    """Where a workflow reports what it is doing."""

    def phase(self, message: str, percentage: int | None = None) -> None: ...

    def tokens(self, count: int) -> None: ...


class SilentProgress:
    def phase(self, message: str, percentage: int | None = None) -> None:
        pass

    def tokens(self, count: int) -> None:
        pass


#: The reason (`failureReason`) an editor declines a fix iteration's `workspace/applyEdit` with to skip
#: only that change: the fix run goes on (the model hears it was skipped); any other decline ends the run.
SKIP_CHANGE = "codegen:skip"

#: The `failureReason` an editor sends WITH `applied: true` to say it applied the change as the user
#: reviewed it — some files or hunks left out, or placed around typing done during the review — and
#: saved what it applied (unless saveAfterApply is off): its buffers and the disk hold the review's
#: outcome, and the daemon writes nothing more (it would write the parts the user left out).
REVIEWED = "codegen:reviewed"


@dataclass
class ApplyDecision:
    """What became of a proposed change: ``how`` is client, disk or none."""

    applied: bool
    how: str
    reason: str = ""
    #: Not applied by rule (a file that runs code, with nobody to preview it), not declined by the user.
    refused: bool = False
    #: When the editor took the change only as reviewed (``REVIEWED``): the changes as they landed, and
    #: a note for each file the user did not take whole (``as_landed``). None: taken whole.
    landed: list[FileChange] | None = None
    left_out: list[str] = field(default_factory=list)


class Applier(Protocol):
    """Puts computed changes into the workspace (or offers them to the user first)."""

    async def apply(self, changes: Sequence[FileChange], label: str, description: str = "") -> ApplyDecision:
        """Apply or offer ``changes``; ``label`` names the run, ``description`` is the model's explanation,
        diagnosis or summary of the change, shown beside a preview."""
        ...


class DiskApplier:
    """Writes changes straight to disk, atomically: all files or none.

    Nobody previews what it writes, so a change to a file that makes an editor, a shell or git
    run code (``edits.sensitive``) is refused, whole, unless ``allow_config_edits``.
    """

    def __init__(self, root: Path, *, allow_config_edits: bool = False) -> None:
        self.root = root
        self.allow_config_edits = allow_config_edits

    async def apply(self, changes: Sequence[FileChange], label: str, description: str = "") -> ApplyDecision:
        reason = "" if self.allow_config_edits else refusal(flag_changes(changes))
        if reason:
            return ApplyDecision(applied=False, how="disk", reason=reason, refused=True)
        await asyncio.to_thread(write_changes, self.root, list(changes))
        return ApplyDecision(applied=True, how="disk")


class PreviewOnly:
    """Computes nothing more: the caller only wants the diff."""

    async def apply(self, changes: Sequence[FileChange], label: str, description: str = "") -> ApplyDecision:
        return ApplyDecision(applied=False, how="none", reason="apply was 'none': nothing written")


@dataclass
class Host:
    """The engines and I/O a workflow runs with."""

    root: Path
    model: ChatModel
    store: RunStore
    preprompts: Preprompts
    progress: Progress = field(default_factory=SilentProgress)
    #: The open editor documents now (workspace-relative path → text): patches apply to these, not the disk.
    open_buffers: Callable[[], Mapping[str, str]] = dict
    #: Asks the user to allow an action (installing a package, running a command); None: never allowed.
    consent: Callable[[str], Awaitable[bool]] | None = None

    async def allowed(self, action: str) -> bool:
        return self.consent is not None and await self.consent(action)


def _disk_text(path: Path) -> str | None:
    """The file's text as its bytes decode (None: absent). Bytes, not read_text: newline translation
    would make every CRLF or CR file look changed."""
    return path.read_bytes().decode("utf-8", "replace") if path.exists() else None


def ensure_on_disk(root: Path, changes: Sequence[FileChange]) -> None:
    """Write whatever part of ``changes`` the disk does not hold yet, atomically.

    Editors apply a WorkspaceEdit to buffers and may leave them unsaved; tests and
    tools read the disk, so after the user accepts an edit the disk is brought in line.
    """
    pending = []
    for change in changes:
        target = root / (change.new_path or change.path)
        if change.kind == "delete" or (change.kind == "rename" and (root / change.path).exists()):
            if (root / change.path).exists():
                pending.append(change)
            continue
        on_disk = _disk_text(target)
        if on_disk != change.new_text:
            pending.append(FileChange(path=change.new_path or change.path,
                                      kind="modify" if on_disk is not None else "create",
                                      old_text=on_disk, new_text=change.new_text, mode=change.mode))
    if pending:
        write_changes(root, pending)



def write_accepted_buffers(root: Path, changes: Sequence[FileChange], buffers: Mapping[str, str]) -> None:
    """After an editor applied ``changes`` and left the writing to itself (saveAfterApply off), write
    to disk what its buffers hold for the files the change touches, where the disk still holds the text
    the change was computed from.

    The editor's review stands: all of the change, some of its hunks, or none of a file. A file the
    editor wrote itself, or whose buffer still holds the old text (rejected), is left alone; the model's
    text is never written over the user's choice. Editors delete and rename files on disk themselves.
    """
    pending = []
    for change in changes:
        if change.kind in ("delete", "rename"):
            continue
        target = root / change.path
        on_disk = _disk_text(target)
        held = buffers.get(change.path)
        if on_disk == change.old_text and held is not None and held != on_disk:
            pending.append(FileChange(path=change.path, kind="modify" if on_disk is not None else "create",
                                      old_text=on_disk, new_text=held, mode=change.mode))
    if pending:
        write_changes(root, pending)


def as_landed(root: Path, changes: Sequence[FileChange],
              buffers: Mapping[str, str] | None = None) -> tuple[list[FileChange], list[str]]:
    """``changes`` as they landed after the review, and a note for each file the user did not take
    whole: rejected (the file still holds the text the change was computed from) or taken in part. A
    file that holds the whole change beside the user's own typing landed as it is now, with no note. A
    file is read from ``buffers`` (the editor's, by relative path) when it is there, else from the disk.
    With everything accepted, ``changes`` come back as they are, with no note."""
    buffers = buffers or {}
    landed: list[FileChange] = []
    notes: list[str] = []
    for change in changes:
        if change.kind == "delete":
            kept = (root / change.path).exists()
        elif change.kind == "rename":
            kept = (root / change.path).exists() and not (root / (change.new_path or change.path)).exists()
        else:
            now = buffers[change.path] if change.path in buffers else _disk_text(root / change.path)
            kept = now == change.old_text
            if not kept and now is not None and now != change.new_text:
                # Taken whole with the user's own typing elsewhere in the file, or only in part.
                if not _holds_whole_change(change.old_text or "", change.new_text or "", now):
                    notes.append(f"{change.path}: the user took only part of your change in the review; the file "
                                 "as it is now is what counts")
                landed.append(replace(change, new_text=now))
                continue
        if kept:
            notes.append(f"{change.path}: the user rejected your change to it in the review")
        else:
            landed.append(change)
    return landed, notes


def _line_hunks(old: str, new: str) -> set[tuple[int, int, str]]:
    """The changed line ranges of ``old`` with their replacement text."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    return {(i1, i2, "".join(b[j1:j2]))
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
            if tag != "equal"}


def _holds_whole_change(old: str, new: str, now: str) -> bool:
    """Whether ``now`` holds every hunk of the change ``old`` → ``new``, beside other edits of its own."""
    return _line_hunks(old, new) <= _line_hunks(old, now)


class WorkflowError(Exception):
    """A workflow cannot go on; the message tells the user why and what to do.

    ``kind`` names the cause for a client (the JSON-RPC error's `data`); ``setting`` and ``env`` name
    the setting and environment variable that fix it, when one does.
    """

    def __init__(self, message: str, *, kind: str = "WorkflowError", setting: str | None = None,
                 env: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.setting = setting
        self.env = env
