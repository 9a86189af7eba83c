"""The run store: every run persisted under <workspace>/.codegen/runs/<runId>/.

A run directory holds ``run.json`` (kind, status, timestamps, outcome), the
prompt, the clarify rounds, each model call as ``calls/NNN-<purpose>.json``
(request messages and response), the produced ``diff.patch``. Every write is
atomic. What is recorded is kept byte-exact (a replay serves it back as code): only
error texts (a call's error, a run's failure reason) are redacted, since a
server's error message may quote the key.

A cloned repository can carry any ``.codegen/runs/`` it likes, so every JSON file of a run
is sealed (``trust.seal``) for this user, this run and this file name, and codegen reads back
only sealed ones: a run whose ``run.json`` is not sealed is not a run at all. The plain files
(``prompt.txt``, ``spec.md``, ``diff.patch``, patches and logs) are for people; codegen never
reads them back. Every folder written in is a real folder inside the workspace (``state_dir``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Collection, Iterable

from ..redaction import redact
from ..trust.files import STATE_DIR, RefusedPath, read_regular, state_dir, write_state
from ..trust.notices import ignored
from ..trust.seal import Unsealed, open_json, seal_json
from ..trust.state import NOT_OURS, load_json
from .transcript import render_transcript

_RUN_ID = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{6}")
RUNS_DIR = "runs"
log = logging.getLogger(__name__)

#: run.json is small; anything larger is not one codegen wrote.
_META_LIMIT = 4 * 1024 * 1024
#: What to do about a run file codegen ignored.
_REMEDY = "codegen does not use it; delete the run folder if you do not need it"

#: run.json fields that hold error texts (redacted); everything else is stored as given.
_ERROR_FIELDS = {"reason", "error"}
#: Words of a run's prompt a run list shows.
_TITLE_WORDS = 12


class RunNotFound(LookupError):
    """No run with that id in this workspace that codegen wrote."""


class StateRefused(RunNotFound, ValueError):
    """A folder or file under ``.codegen/`` that codegen would write in is not a plain one (a symlink, say).

    Both a RunNotFound and a ValueError, so that every place reporting either as the user's
    error (the CLI's commands, the daemon's, ``codegen memory``) reports this one as one clear line.
    """

    #: What the daemon's error data says (`data.kind`), as for any state codegen refuses to use.
    kind = "unsafe-state"


_GITIGNORE = """# codegen's working data (runs, checkpoints, the index, locks): not for version control.
# Yours to commit: preprompts/ (your team's preprompt overrides) and memory.md.
*
!/preprompts/
!/preprompts/**
!/memory.md
"""
#: How every .codegen/.gitignore codegen wrote begins: an older one is brought up to date.
_GITIGNORE_HEADER = "# codegen's working data"
_GITIGNORE_LIMIT = 64 * 1024


def now_stamp() -> str:
    """A run's ``started``: UTC to the microsecond, so runs order by it (ids name the second only)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def codegen_dir(root: Path) -> Path:
    """``<root>/.codegen``, with a .gitignore that hides it from git status, itself included.

    Only ``preprompts/`` and ``memory.md`` stay visible: they are the user's to commit.
    A .gitignore the user wrote is left alone; one an older codegen wrote is replaced, and so is
    one that is not a regular file (a symlink is replaced, never followed). Raises RefusedPath
    when ``.codegen`` itself is a symlink or a file.
    """
    directory = state_dir(root, create=True)
    ignore = directory / ".gitignore"
    try:
        raw = read_regular(ignore, _GITIGNORE_LIMIT)
    except RefusedPath as error:
        ignored(ignore, f"it {error.why}", "codegen writes its own .gitignore in its place")
        raw = None
    current = None if raw is None else raw.decode("utf-8", errors="replace")
    if current is None or (current != _GITIGNORE and current.startswith(_GITIGNORE_HEADER)):
        write_state(ignore, _GITIGNORE.encode("utf-8"))
    return directory


def refused(error: RefusedPath) -> StateRefused:
    """The user's error for a state folder or file codegen will not write in."""
    return StateRefused(f"{error}. Nothing was written.")


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__}")


def _purpose(run_id: str, name: str) -> str:
    """What a run file's seal is for: this run, this file (a file cannot stand in for another)."""
    return f"run:{run_id}/{name}"


class Run:
    """One run's directory. Async methods do their file I/O off the event loop."""

    def __init__(self, root: Path, run_id: str, secret_values: Iterable[str] = ()) -> None:
        self.root = root
        self.id = run_id
        self.dir = root / STATE_DIR / RUNS_DIR / run_id
        self._secrets = [s for s in secret_values if s]
        calls = self.dir / "calls"
        self._calls = len(list(calls.glob("*.json"))) if calls.is_dir() else 0

    def redact(self, text: str) -> str:
        """An error text without secrets: for error messages only, never for recorded content."""
        return redact(text, self._secrets)

    def _path(self, name: str, *, create: bool) -> Path:
        """``<run>/<name>``, every folder on the way a real one (made with ``create``); raises RefusedPath."""
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"not a run file name: {name!r}")
        return state_dir(self.root, RUNS_DIR, self.id, *parts[:-1], create=create) / parts[-1]

    # -- synchronous primitives (used off the loop, and by the CLI's replay) --
    def write_text_sync(self, name: str, text: str) -> Path:
        """Write a file for people (a prompt, a patch, a log): plain, never read back by codegen."""
        try:
            path = self._path(name, create=True)
            write_state(path, text.encode("utf-8"))
        except RefusedPath as error:
            raise refused(error) from None
        return path

    def write_json_sync(self, name: str, data: dict[str, Any]) -> Path:
        """Write ``data`` sealed for this run and this file name."""
        if not isinstance(data, dict):
            raise TypeError(f"a run's JSON file holds an object, not {type(data).__name__}")
        plain = json.loads(json.dumps(data, default=_jsonable))
        try:
            path = self._path(name, create=True)
            write_state(path, seal_json(plain, _purpose(self.id, name)).encode("utf-8"))
        except RefusedPath as error:
            raise refused(error) from None
        return path

    def read_json_sync(self, name: str, default: Any = None) -> Any:
        """The sealed JSON file ``name``, or ``default`` when absent or not sealed (ignored with a warning)."""
        try:
            path = self._path(name, create=False)
        except RefusedPath as error:
            ignored(error.path, f"it {error.why}", _REMEDY)
            return default
        data = load_json(path, _purpose(self.id, name), _REMEDY)
        return default if data is None else data

    def write_transcript_sync(self) -> Path:
        """Write (or rewrite) ``transcript.md`` from what the run recorded so far (store/transcript.py)."""
        iterations = self.read_json_sync("iterations.json", {}).get("iterations")
        text = render_transcript(self.read_json_sync("run.json", {}), self.calls(),
                                 self.read_json_sync("clarify.json", {}), iterations)
        return self.write_text_sync("transcript.md", text)

    def _follow(self) -> None:
        """Keep transcript.md up to date after a write, so an editor showing it follows the run; a
        transcript that cannot be written never fails the run (it is for people only)."""
        try:
            self.write_transcript_sync()
        except (OSError, StateRefused) as error:
            log.info("transcript of run %s not written: %s", self.id, error)

    # -- async API for workflows (each write also rewrites the transcript) --
    async def write_text(self, name: str, text: str) -> Path:
        return await asyncio.to_thread(self.write_text_sync, name, text)

    async def write_json(self, name: str, data: dict[str, Any]) -> Path:
        def write() -> Path:
            path = self.write_json_sync(name, data)
            self._follow()
            return path

        return await asyncio.to_thread(write)

    async def read_json(self, name: str, default: Any = None) -> Any:
        return await asyncio.to_thread(self.read_json_sync, name, default)

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
            self._follow()
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
        """Every recorded call codegen sealed, in order (blocking); an unsealed one is ignored with a warning."""
        try:
            folder = state_dir(self.root, RUNS_DIR, self.id, "calls")
        except RefusedPath as error:
            ignored(error.path, f"it {error.why}", _REMEDY)
            return []
        if not folder.is_dir():
            return []
        loaded = (load_json(path, _purpose(self.id, f"calls/{path.name}"), _REMEDY)
                  for path in sorted(folder.glob("*.json")))
        return [call for call in loaded if call is not None]


@dataclass(frozen=True)
class RunSummary:
    """One run as a picker shows it."""

    id: str
    #: clarify, generate, apply, feedback or fix.
    kind: str
    #: running, applied, green, failed, cancelled, ...
    status: str
    #: When it started, as run.json says (``2026-11-23T10:15:00+0100``).
    created: str
    #: The first words of what it was asked (its prompt or comment); "" when it had none.
    title: str
    #: The workspace files it changed, when its outcome records them.
    files: tuple[str, ...]
    #: When it started, to the microsecond (UTC): what orders runs. "" for a run older than the field.
    started: str = ""
    #: The files that differ from its start checkpoint, as last recorded (its outcome's files for an older run).
    written: tuple[str, ...] = ()
    #: Whether ``codegen.undo`` can return the workspace to its start: it has a start checkpoint and left files changed.
    undoable: bool = False
    #: What it was, for a picker: the command and the first words of its prompt ("generate: a calculator ...").
    description: str = ""
    #: What it was asked, whole (its prompt or comment): what a Re-run sends again.
    asked: str = ""
    #: A feedback run's file and lines (1-based, inclusive): where its thread is.
    path: str = ""
    lines: tuple[int, ...] = ()


class RunStore:
    """The runs of one workspace."""

    def __init__(self, root: Path, secret_values: Iterable[str] = ()) -> None:
        self.root = root
        self.dir = root / STATE_DIR / RUNS_DIR
        self._secrets = list(secret_values)
        #: The runs this store started or reopened: what ``settle`` looks at.
        self.touched: list[Run] = []

    def _new_id(self) -> str:
        return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)

    async def create(self, kind: str, **fields: Any) -> Run:
        """Start a run of ``kind`` (clarify, generate, apply, feedback, fix).

        Raises StateRefused when ``.codegen`` or ``.codegen/runs`` is not a real folder.
        """
        run_id = self._new_id()

        def make() -> None:
            try:
                codegen_dir(self.root)
                os.mkdir(state_dir(self.root, RUNS_DIR, create=True) / run_id)
            except RefusedPath as error:
                raise refused(error) from None

        await asyncio.to_thread(make)
        run = Run(self.root, run_id, self._secrets)
        await run.update_meta(id=run.id, kind=kind, status="running",
                              created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), started=now_stamp(), **fields)
        self.touched.append(run)
        return run

    def open(self, run_id: str, *, read_only: bool = False) -> Run:
        """An existing run; raises RunNotFound for an unknown or malformed id, or a run codegen did not write.

        Its folder must be a real folder and its run.json sealed by codegen for this user:
        a run that came with the files is not one. ``read_only``: the caller only reads it (an
        earlier turn of a thread), so ``settle`` leaves it alone whatever becomes of the caller's own run.
        """
        if not _RUN_ID.fullmatch(run_id or ""):
            raise RunNotFound(f"{run_id!r} is not a run id (expected something like 20261123-041500-a1b2c3)")
        try:
            meta_path = state_dir(self.root, RUNS_DIR, run_id) / "run.json"
            raw = read_regular(meta_path, _META_LIMIT)
        except RefusedPath as error:
            raise RunNotFound(f"run {run_id} cannot be used: {error}") from None
        if raw is None:
            raise RunNotFound(f"no run {run_id} in {self.dir}")
        try:
            open_json(raw, _purpose(run_id, "run.json"))
        except Unsealed as error:
            raise RunNotFound(f"run {run_id} cannot be used: {meta_path}: {NOT_OURS} ({error})") from None
        run = Run(self.root, run_id, self._secrets)
        if not read_only:
            self.touched.append(run)
        return run

    def list_runs(self, kinds: Collection[str] | None = None) -> list[RunSummary]:
        """The workspace's runs codegen wrote, newest first (by ``started``, then id), for a picker
        (blocking: use a thread from async code).

        Only runs whose run.json is sealed by codegen for this user are listed; any other folder
        under ``.codegen/runs/`` (one that came with the files, say) is left out with one warning.
        ``kinds`` keeps only runs of those kinds (``{"fix"}`` for an undo picker).
        """
        try:
            folder = state_dir(self.root, RUNS_DIR)
        except RefusedPath as error:
            ignored(error.path, f"it {error.why}", "codegen lists no runs from it; remove the link")
            return []
        try:
            names = sorted((entry.name for entry in os.scandir(folder)
                            if _RUN_ID.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)), reverse=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        runs = []
        for run_id in names:
            meta = load_json(folder / run_id / "run.json", _purpose(run_id, "run.json"), _REMEDY, _META_LIMIT)
            if meta is None or (kinds is not None and meta.get("kind") not in kinds):
                continue
            runs.append(_summary(run_id, meta))
        return sorted(runs, key=lambda run: (run.started, run.id), reverse=True)

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


def open_run_dir(run_dir: Path) -> Run:
    """The run in ``run_dir`` (``<workspace>/.codegen/runs/<runId>``), read-only; raises RunNotFound."""
    path = Path(os.path.abspath(run_dir))
    if path.parent.name != RUNS_DIR or path.parent.parent.name != STATE_DIR:
        raise RunNotFound(f"{run_dir} is not a run folder (expected <workspace>/.codegen/runs/<runId>)")
    return RunStore(path.parent.parent.parent).open(path.name, read_only=True)


def _summary(run_id: str, meta: dict) -> RunSummary:
    asked = meta.get("prompt") or meta.get("comment") or ""
    words = str(asked).split()
    title = " ".join(words[:_TITLE_WORDS]) + (" ..." if len(words) > _TITLE_WORDS else "")
    outcome = meta.get("outcome")
    listed = outcome.get("files", []) if isinstance(outcome, dict) else []
    files = tuple(str(f["path"]) for f in listed if isinstance(f, dict) and "path" in f)
    kind = str(meta.get("kind", ""))
    # A fix run always saved its start (an older one recorded only its outcome's files); other kinds
    # since they record ``start_checkpoint``.
    has_start = bool(meta.get("start_checkpoint")) or kind == "fix"
    recorded = meta.get("written")
    written = tuple(str(p) for p in recorded) if isinstance(recorded, list) else files if kind == "fix" else ()
    return RunSummary(run_id, kind, str(meta.get("status", "")), str(meta.get("created", "")), title, files,
                      str(meta.get("started", "")), written, has_start and bool(written),
                      _description(kind, meta, title, files), str(asked), str(meta.get("path") or ""),
                      tuple(int(n) for n in meta.get("lines") or () if isinstance(n, int)))


def _description(kind: str, meta: dict, title: str, files: tuple[str, ...]) -> str:
    """The command and the first words of what it was asked; a markers run its first marker, an
    apply run (no prompt) its files."""
    markers = meta.get("markers")
    if kind == "feedback" and isinstance(markers, list):
        first = markers[0].get("text", "") if markers and isinstance(markers[0], dict) else ""
        words = str(first).split()
        more = f" (+{len(markers) - 1} more)" if len(markers) > 1 else ""
        return "markers: " + " ".join(words[:_TITLE_WORDS]) + more if words else "markers"
    if not title and files:
        title = ", ".join(files[:3]) + (f" (+{len(files) - 3} more)" if len(files) > 3 else "")
    return f"{kind}: {title}" if title else kind
