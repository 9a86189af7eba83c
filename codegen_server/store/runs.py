"""The run store: every run persisted under <workspace>/.codegen/runs/<runId>/.

A run directory holds ``run.json`` (kind, status, timestamps, outcome), the
prompt, the clarify rounds, each model call as ``calls/NNN-<purpose>.json``
(request messages and response), the produced ``diff.patch``. Every write is
atomic. What is recorded is kept byte-exact (a replay serves it back as code): only
error texts (a call's error, a run's failure reason) are redacted, since a
server's error message may quote the key.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, Iterable

from ..redaction import redact

_RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")


#: run.json fields that hold error texts (redacted); everything else is stored as given.
_ERROR_FIELDS = {"reason", "error"}


class RunNotFound(LookupError):
    """No run with that id in this workspace."""


_GITIGNORE = """# codegen's working data (runs, checkpoints, the index, locks): not for version control.
# Yours to commit: preprompts/ (your team's preprompt overrides) and memory.md.
*
!/preprompts/
!/preprompts/**
!/memory.md
"""
#: How every .codegen/.gitignore codegen wrote begins: an older one is brought up to date.
_GITIGNORE_HEADER = "# codegen's working data"


def codegen_dir(root: Path) -> Path:
    """``<root>/.codegen``, with a .gitignore that hides it from git status, itself included.

    Only ``preprompts/`` and ``memory.md`` stay visible: they are the user's to commit.
    A .gitignore the user wrote is left alone; one an older codegen wrote is replaced.
    """
    directory = root / ".codegen"
    ignore = directory / ".gitignore"
    try:
        current = ignore.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    if current is None or (current != _GITIGNORE and current.startswith(_GITIGNORE_HEADER)):
        directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(ignore, _GITIGNORE)
    return directory


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__}")


class Run:
    """One run's directory. Async methods do their file I/O off the event loop."""

    def __init__(self, directory: Path, secret_values: Iterable[str] = ()) -> None:
        self.dir = directory
        self.id = directory.name
        self._secrets = [s for s in secret_values if s]
        self._calls = len(list((directory / "calls").glob("*.json"))) if (directory / "calls").is_dir() else 0

    def redact(self, text: str) -> str:
        """An error text without secrets: for error messages only, never for recorded content."""
        return redact(text, self._secrets)

    # -- synchronous primitives (used off the loop, and by the CLI's replay) --
    def write_text_sync(self, name: str, text: str) -> Path:
        path = self.dir / name
        _atomic_write(path, text)
        return path

    def write_json_sync(self, name: str, data: Any) -> Path:
        return self.write_text_sync(name, json.dumps(data, indent=2, default=_jsonable, ensure_ascii=False) + "\n")

    def read_json_sync(self, name: str, default: Any = None) -> Any:
        path = self.dir / name
        if not path.exists():
            return default
        return json.loads(path.read_text(encoding="utf-8"))

    def read_text_sync(self, name: str, default: str | None = None) -> str | None:
        path = self.dir / name
        return path.read_text(encoding="utf-8") if path.exists() else default

    # -- async API for workflows --
    async def write_text(self, name: str, text: str) -> Path:
        return await asyncio.to_thread(self.write_text_sync, name, text)

    async def write_json(self, name: str, data: Any) -> Path:
        return await asyncio.to_thread(self.write_json_sync, name, data)

    async def read_json(self, name: str, default: Any = None) -> Any:
        return await asyncio.to_thread(self.read_json_sync, name, default)

    async def read_text(self, name: str, default: str | None = None) -> str | None:
        return await asyncio.to_thread(self.read_text_sync, name, default)

    async def update_meta(self, **fields: Any) -> dict:
        """Merge ``fields`` into run.json (status, outcome, ...)."""

        for key in _ERROR_FIELDS & fields.keys():
            if isinstance(fields[key], str):
                fields[key] = self.redact(fields[key])

        def update() -> dict:
            meta = self.read_json_sync("run.json", {})
            meta.update(fields)
            meta["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            self.write_json_sync("run.json", meta)
            return meta

        return await asyncio.to_thread(update)

    async def meta(self) -> dict:
        return await self.read_json("run.json", {})

    async def record_call(self, purpose: str, request: dict, response: dict) -> Path:
        """Store one model call: the request (model, messages) and the response or error."""
        self._calls += 1
        if "error" in response:  # a failed call: its error texts may quote the key
            response = {k: self.redact(v) if k in ("error", "message") and isinstance(v, str) else v
                        for k, v in response.items()}
        name = f"calls/{self._calls:03d}-{re.sub(r'[^a-z0-9_-]+', '-', purpose.lower())}.json"
        return await self.write_json(name, {"purpose": purpose, "request": request, "response": response})

    def calls(self) -> list[dict]:
        """Every recorded call, in order."""
        folder = self.dir / "calls"
        if not folder.is_dir():
            return []
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


class RunStore:
    """The runs of one workspace."""

    def __init__(self, root: Path, secret_values: Iterable[str] = ()) -> None:
        self.root = root
        self.dir = root / ".codegen" / "runs"
        self._secrets = list(secret_values)
        #: The runs this store started or reopened: what ``settle`` looks at.
        self.touched: list[Run] = []

    def _new_id(self) -> str:
        return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)

    async def create(self, kind: str, **fields: Any) -> Run:
        """Start a run of ``kind`` (clarify, generate, apply, feedback, fix)."""
        run = Run(self.dir / self._new_id(), self._secrets)
        await asyncio.to_thread(codegen_dir, self.root)
        await asyncio.to_thread(run.dir.mkdir, parents=True)
        await run.update_meta(id=run.id, kind=kind, status="running",
                              created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **fields)
        self.touched.append(run)
        return run

    def open(self, run_id: str, *, read_only: bool = False) -> Run:
        """An existing run; raises RunNotFound for an unknown or malformed id.

        ``read_only``: the caller only reads it (an earlier turn of a thread), so ``settle``
        leaves it alone whatever becomes of the caller's own run.
        """
        if not _RUN_ID.match(run_id or ""):
            raise RunNotFound(f"{run_id!r} is not a run id (expected something like 20261123-041500-a1b2c3)")
        directory = self.dir / run_id
        if not (directory / "run.json").is_file():
            raise RunNotFound(f"no run {run_id} in {self.dir}")
        run = Run(directory, self._secrets)
        if not read_only:
            self.touched.append(run)
        return run

    async def settle(self, status: str, reason: str) -> None:
        """End every run this store touched that is still ``running`` as ``status`` (failed, cancelled).

        Whoever runs a workflow calls this when it failed or was cancelled, so that
        no run is left saying it is running. A run the workflow itself already ended with
        this status (a cancelled one, say) gets the reason if it has none.
        """
        for run in self.touched:
            meta = await run.meta()
            if meta.get("status") == "running" or (meta.get("status") == status and not meta.get("reason")):
                await run.update_meta(status=status, reason=reason)
