"""What a workflow needs from whoever runs it (the daemon or the CLI)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Protocol, Sequence

from ..edits import write_changes
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


@dataclass
class ApplyDecision:
    """What became of a proposed change: ``how`` is client, disk or none."""

    applied: bool
    how: str
    reason: str = ""


class Applier(Protocol):
    """Puts computed changes into the workspace (or offers them to the user first)."""

    async def apply(self, changes: Sequence[FileChange], label: str) -> ApplyDecision: ...


class DiskApplier:
    """Writes changes straight to disk, atomically: all files or none."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def apply(self, changes: Sequence[FileChange], label: str) -> ApplyDecision:
        await asyncio.to_thread(write_changes, self.root, list(changes))
        return ApplyDecision(applied=True, how="disk")


class PreviewOnly:
    """Computes nothing more: the caller only wants the diff."""

    async def apply(self, changes: Sequence[FileChange], label: str) -> ApplyDecision:
        return ApplyDecision(applied=False, how="none", reason="apply was 'none': nothing written")


@dataclass
class Host:
    """The engines and I/O a workflow runs with."""

    root: Path
    model: ChatModel
    store: RunStore
    preprompts: Preprompts
    progress: Progress = field(default_factory=SilentProgress)
    #: Open editor documents (workspace-relative path → current text): patches apply to these, not the disk.
    buffers: Mapping[str, str] = field(default_factory=dict)


class WorkflowError(Exception):
    """A workflow cannot go on; the message tells the user why and what to do."""
