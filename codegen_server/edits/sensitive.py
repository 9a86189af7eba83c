"""Files that make an editor, a shell or git run code: a change to one is shown before it lands.

A model (or a prompt injected into what it read) can turn an ordinary-looking edit into code
that runs on the user's machine the next time they open the folder, enter it in a shell, or
commit. So a change that creates, modifies or renames onto one of these files is flagged in
every result that carries it (``sensitive: [{path, why}]``), marked in the editor's preview, and
refused when nothing previews it (a disk write) unless the user allowed configuration edits.
Deleting one is not flagged: it runs nothing.

Names match in any letter case and with trailing dots or spaces, as case-insensitive
filesystems open them; a file matches in any folder (monorepos open subfolders as workspaces).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codegen_server.edits.types import FileChange

#: A file with this name, in any folder.
_NAMES = {
    ".envrc": "a shell runs it on entering the folder (direnv)",
    ".nvim.lua": "an editor runs it as code when it opens the folder (exrc)",
    ".nvimrc": "an editor runs it as commands when it opens the folder (exrc)",
    ".exrc": "an editor runs it as commands when it opens the folder (exrc)",
    ".lazy.lua": "an editor's plugin manager runs it as code when it opens the folder",
    ".gitattributes": "it selects the filter, diff and merge programs git runs on these files",
    ".gitmodules": "it names the repositories and paths git fetches submodules from",
    ".pre-commit-config.yaml": "it names programs that run on every commit once pre-commit is installed",
}
#: A file with this name inside a folder with this name.
_IN_FOLDER = {
    (".vscode", "settings.json"): "editor workspace settings can name programs the editor and its extensions run",
    (".vscode", "tasks.json"): "editor tasks run commands, some as soon as the folder is opened",
    (".vscode", "launch.json"): "debug configurations run programs and tasks",
}
#: Any file under a folder with this name.
_FOLDERS = {
    ".githooks": "git hooks run on commits, checkouts and pushes once core.hooksPath points here",
    ".husky": "git hooks run on commits, checkouts and pushes (husky points core.hooksPath here)",
}
#: A file whose name ends so.
_SUFFIXES = {
    ".code-workspace": "a workspace file carries editor settings, tasks and launch configurations that run programs",
}

ALLOW_HINT = ("allow configuration edits to write it anyway: --allow-config-edits on the command line, "
              "allowConfigEdits: true in the command's arguments")


@dataclass(frozen=True)
class Sensitive:
    """A changed file that makes something run code, and what."""

    path: str
    why: str


def _fold(name: str) -> str:
    """The name as a case-insensitive filesystem opens it (``.EnvRC.`` and ``.envrc::$DATA`` are ``.envrc``)."""
    return name.partition(":")[0].rstrip(". ").lower()


def why_sensitive(rel: str) -> str | None:
    """What ``rel`` (a workspace-relative POSIX path) makes run, or None for an ordinary file."""
    parts = [_fold(p) for p in rel.split("/") if p]
    if not parts:
        return None
    name = parts[-1]
    for folder in parts[:-1]:
        if folder in _FOLDERS:
            return _FOLDERS[folder]
    if len(parts) > 1 and (parts[-2], name) in _IN_FOLDER:
        return _IN_FOLDER[parts[-2], name]
    if name in _NAMES:
        return _NAMES[name]
    return next((why for suffix, why in _SUFFIXES.items() if name.endswith(suffix)), None)


def flag_changes(changes: Sequence[FileChange]) -> list[Sensitive]:
    """The changes that create, modify or rename onto a file that makes something run code."""
    flagged: list[Sensitive] = []
    for change in changes:
        if change.new_text is None:
            continue  # deleted: runs nothing
        path = change.new_path or change.path
        why = why_sensitive(path)
        if why is not None:
            flagged.append(Sensitive(path, why))
    return flagged


def as_dicts(flags: Sequence[Sensitive]) -> list[dict[str, str]]:
    """``[{path, why}]``, the field every result carrying an edit has."""
    return [{"path": f.path, "why": f.why} for f in flags]


def refusal(flags: Sequence[Sensitive]) -> str:
    """Why a change nobody previews is not written ("" when it touches no such file)."""
    if not flags:
        return ""
    named = "; ".join(f"{f.path} ({f.why})" for f in flags)
    return (f"refused: the change writes a file that makes something run code: {named}. Nothing of the change "
            f"was written; review it in a preview, or {ALLOW_HINT}")
