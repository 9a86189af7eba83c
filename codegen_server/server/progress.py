"""Work-done progress for one command: phases, streamed-token counts, and the cancel button."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Callable

from lsprotocol import types

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer


class LspProgress:
    """Implements the workflows' Progress protocol over `$/progress`.

    Uses the client's `workDoneToken` when the request carried one, else creates a
    token with `window/workDoneProgress/create` if the client supports it; without
    either, reports go nowhere.
    """

    def __init__(self, server: "LanguageServer", title: str, token: types.ProgressToken | None) -> None:
        self._server = server
        self._title = title
        self._token = token
        self._phase = ""
        #: The last percentage reported: a later phase without one keeps it (LSP clients show none else).
        self._percentage: int | None = None
        self._active = False

    async def begin(self, on_cancel: Callable[[], object] | None = None) -> None:
        if self._token is None and self._client_supports_progress():
            token = f"codegen-{uuid.uuid4().hex}"
            try:
                await self._server.work_done_progress.create_async(token)
            except Exception:  # a client that refuses the token still gets its result
                return
            self._token = token
        if self._token is None:
            return
        self._server.work_done_progress.begin(
            self._token, types.WorkDoneProgressBegin(title=self._title, cancellable=True, message="starting"))
        self._active = True
        cancelled = self._server.work_done_progress.tokens.get(self._token)
        if cancelled is not None and on_cancel is not None:
            cancelled.add_done_callback(lambda future: on_cancel() if future.cancelled() else None)

    def phase(self, message: str, percentage: int | None = None) -> None:
        self._phase = message
        if percentage is not None:
            self._percentage = percentage
        self._report(message)

    def tokens(self, count: int) -> None:
        """``count`` tokens of the answer so far (the workflow counts them, a few times a second)."""
        self._report(f"{self._phase} — {count} tokens streamed")

    def end(self, message: str) -> None:
        if self._active:
            self._active = False
            self._server.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
            self._server.work_done_progress.tokens.pop(self._token, None)

    def _report(self, message: str) -> None:
        if self._active:
            self._server.work_done_progress.report(self._token, types.WorkDoneProgressReport(
                message=message, percentage=self._percentage, cancellable=True))

    def _client_supports_progress(self) -> bool:
        window = self._server.client_capabilities.window
        return bool(window and window.work_done_progress)
