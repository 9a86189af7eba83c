"""Offer changes to the editor as a WorkspaceEdit it previews, and choose how a command applies."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from lsprotocol import types

from ..edits.stale import StalePreview, check_unchanged, disk_state
from ..edits.types import FileChange
from ..workflows.host import REVIEWED, Applier, ApplyDecision, DiskApplier, PreviewOnly, as_landed, ensure_on_disk
from .workspace_edit import to_workspace_edit

if TYPE_CHECKING:
    from .app import CodegenServer

APPLY_MODES = ("client", "disk", "none")


class ClientApplier:
    """Sends `workspace/applyEdit` with change annotations that need confirmation (a file that
    makes something run code gets a warning annotation of its own: see ``to_workspace_edit``).

    The edit is built against the document versions the editor holds, so a stale
    edit is rejected by the editor instead of clobbering newer typing. Once the
    user accepts, the disk is brought in line (unless saveAfterApply is off):
    editors leave applied edits unsaved, and tests and tools read the disk — but
    not over a file that changed on disk while the preview was open (``edits.stale``).
    """

    def __init__(self, server: "CodegenServer", root: Path) -> None:
        self._server = server
        self._root = root

    async def apply(self, changes: Sequence[FileChange], label: str, description: str = "") -> ApplyDecision:
        """Offer ``changes`` as a preview; once accepted, write them to disk unless a file changed there
        meanwhile (StaleFileError naming it: a stale preview is never written)."""
        versions = self._server.document_versions(self._root)
        open_paths = list(self._server.open_buffers(self._root))
        before = await asyncio.to_thread(disk_state, self._root, list(changes), open_paths)
        edit = to_workspace_edit(changes, self._root, versions=versions, label=label, description=description,
                                 needs_confirmation=True)
        response = await self._server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label))
        if not response.applied:
            reason = response.failure_reason or "the edit was declined in the editor"
            return ApplyDecision(applied=False, how="client", reason=reason)
        if response.failure_reason == REVIEWED:
            # The editor applied only what the user took, and wrote it: nothing more is written here.
            return await self._as_reviewed(changes)
        if self._server.settings.save_after_apply:
            # Only the daemon's own write could land over another writer's: with saveAfterApply off the
            # editor writes what the user accepted (all of it, or the hunks kept), and nothing here.
            try:
                await asyncio.to_thread(check_unchanged, self._root, list(changes), before)
            except StalePreview as stale:
                if not response.failure_reason:
                    raise
                # The editor's own account (a file it applied but could not save) is the likelier cause.
                raise StalePreview(f"{stale} The editor answered: {response.failure_reason}.") from stale
            await asyncio.to_thread(ensure_on_disk, self._root, list(changes))
        return ApplyDecision(applied=True, how="client")

    async def _as_reviewed(self, changes: Sequence[FileChange]) -> ApplyDecision:
        """What landed of ``changes`` when the editor took them as reviewed, with a note for each file the
        user did not take whole: each file as the disk holds it, which the editor saved before it answered
        — or, with saveAfterApply off, as its buffer holds it (else the disk). The disk first: the editor's
        report of a buffer it changed may arrive after its answer."""
        save = self._server.settings.save_after_apply
        buffers = {} if save else self._server.open_buffers(self._root)
        landed, left_out = await asyncio.to_thread(as_landed, self._root, list(changes), buffers)
        return ApplyDecision(applied=True, how="client", landed=landed, left_out=left_out)


def choose_applier(server: "CodegenServer", root: Path, mode: str | None, *,
                   allow_config_edits: bool = False) -> Applier:
    """`client` previews in the editor, `disk` writes atomically, `none` only reports the diff.

    With no mode given: the editor when it supports `workspace/applyEdit`, else the disk. The
    disk refuses a change to a file that makes something run code unless ``allow_config_edits``
    (the command's ``allowConfigEdits``): nobody previews it there.
    """
    from .app import CommandFailed

    if mode == "none":
        return PreviewOnly()
    if mode == "disk" or (mode is None and not server.client_can_apply_edits()):
        return DiskApplier(root, allow_config_edits=allow_config_edits)
    if not server.client_can_apply_edits():
        raise CommandFailed("This client does not support workspace/applyEdit; use apply: \"disk\" or \"none\".")
    return ClientApplier(server, root)
