"""What a workspace holds, for before/after comparisons in edit tests."""

from __future__ import annotations

from pathlib import Path


def workspace_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (symlinks as their target text), except codegen's own ``.codegen/``
    (the writer lock lives there), by POSIX path."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == ".codegen" or rel.startswith(".codegen/"):
            continue
        if path.is_symlink():
            files[rel] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            files[rel] = path.read_bytes()
    return files


def leftovers(root: Path) -> list[str]:
    """Temp files, backups and a journal an apply must never leave behind."""
    found = [p.relative_to(root).as_posix() for p in root.rglob("*")
             if p.name.endswith((".codegen-tmp", ".codegen-bak"))]
    found += [p.relative_to(root).as_posix() for p in (root / ".codegen" / "writer").glob("journal*")]
    return sorted(found)
