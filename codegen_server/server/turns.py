"""One writing command per workspace at a time: a second one waits for the first, and says so.

Two runs writing one workspace at once would each plan against files the other is changing (the
editor then holds one preview made stale by the other's write), and a fix run's checkpoints
would capture the other run's half-made state. So the daemon gives each workspace's writing
commands (generate, feedback, markers, apply, fix, undo) one turn at a time, in arrival order.
"""

from __future__ import annotations

import asyncio

from ..workflows.host import Progress


class WriterTurn:
    """The turn of one workspace's writing commands."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        #: The command that holds the turn now ("" when none does).
        self.holder = ""

    def busy(self) -> str:
        """The command holding the turn, or "" when it is free."""
        return self.holder if self._lock.locked() else ""

    async def take(self, title: str, progress: Progress) -> None:
        """Wait for the turn (the progress says for which command), then hold it as ``title``.

        A cancel while waiting raises CancelledError without the turn.
        """
        holder = self.busy()
        if holder:
            progress.phase(f"waiting for {holder} to finish")
        await self._lock.acquire()
        self.holder = title

    def give_back(self) -> None:
        self.holder = ""
        self._lock.release()
