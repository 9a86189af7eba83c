"""File changes on disk reach the context index without walking the tree on each request.

When the editor can watch files for us (`workspace.didChangeWatchedFiles.dynamicRegistration`),
we register a watcher for the workspace once the session starts and mark the paths of each
`workspace/didChangeWatchedFiles`. Otherwise a native watcher (inotify on Linux, ``watchfiles``
elsewhere: ``context.native_watch.native_watcher``) does the same. Either way the first index still walks
the tree; later requests re-read only what changed. Once a watcher is attached the tree is walked
again here, off the request path (``ContextEngine.watch_started``): what the first index's walk may
have missed before the watcher started is then known without the next request walking. A native
watcher that cannot start (too many folders, no inotify) leaves the walk on each request, with a
warning in the log.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from pathlib import Path

from lsprotocol import types

from ..app import CodegenServer

log = logging.getLogger(__name__)

#: Every path, so that a deleted or renamed folder is reported too; the index filters.
WATCH_GLOB = "**/*"

#: Per server: the roots whose changes the editor reports, and the native watchers running.
_editor_roots: weakref.WeakKeyDictionary[CodegenServer, list[Path]] = weakref.WeakKeyDictionary()
_native: weakref.WeakKeyDictionary[CodegenServer, list] = weakref.WeakKeyDictionary()


def _roots(ls: CodegenServer) -> list[Path]:
    from pygls.uris import to_fs_path

    folders = [to_fs_path(folder.uri) for folder in ls.workspace.folders.values()] or [ls.workspace.root_path]
    return [Path(folder).resolve() for folder in folders if folder and Path(folder).is_dir()]


def _editor_watches(ls: CodegenServer) -> bool:
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    return bool(watched and watched.dynamic_registration)


async def start_watching(ls: CodegenServer) -> None:
    """Once `initialized`: ask the editor to report file changes, or watch natively."""
    from ...context import engine_for
    from ...context.native_watch import NativeWatcher, native_watcher

    roots = _roots(ls)
    if not roots:
        return
    if _editor_watches(ls):
        # Loading the engines takes a moment: off the event loop, and before registering, so that
        # the watcher is attached as the editor accepts (no await in between): a request the editor
        # sends after accepting is answered from its reports, never by a late walk.
        engines = await asyncio.to_thread(lambda: [engine_for(root) for root in roots])
        registration = types.Registration(
            id=f"codegen-watch-{uuid.uuid4()}", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=WATCH_GLOB)]))
        try:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
        except Exception as error:  # a client that refuses: watch ourselves
            log.warning("the editor did not register the file watcher (%s); watching natively", error)
        else:
            for engine in engines:
                engine.changes.attach()
            _editor_roots[ls] = roots
            await asyncio.to_thread(lambda: [engine.watch_started() for engine in engines])
            return

    def watch_natively() -> list[NativeWatcher]:
        started = []
        for root in roots:
            watcher = native_watcher(root, engine_for(root).changes)
            if watcher.start():
                started.append(watcher)
                engine_for(root).watch_started()
        return started

    _native[ls] = await asyncio.to_thread(watch_natively)


def register(server: CodegenServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched_files(ls: CodegenServer, params: types.DidChangeWatchedFilesParams) -> None:
        from ...context import engine_for

        for root in _editor_roots.get(ls, []):
            paths = [rel for change in params.changes if (rel := ls.relative_path(change.uri, root)) is not None]
            if paths:
                engine_for(root).changes.mark(paths)
