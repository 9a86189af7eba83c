"""Reading a workspace's ignore files (``.gitignore``, ``.git/info/exclude``) for codegen's own use.

They come with the files, so they are read like any other file codegen uses for itself: a regular
file only, never through a symlink (git itself does not follow a symlinked ``.gitignore``), and
within caps. The byte cap bounds memory (a ``.gitignore -> /dev/zero`` would otherwise never end);
the pattern cap bounds time, as every path a walk meets is matched against every pattern in force.
An ignore file over either cap, or that is not a regular file, is ignored with one warning.
"""

from __future__ import annotations

from pathlib import Path

from .files import RefusedPath, read_regular
from .notices import ignored

#: Bytes of one ignore file codegen reads (real ones weigh a few KB).
IGNORE_FILE_LIMIT = 256 * 1024
#: Patterns of one ignore file codegen applies: pathspec matches a path against each in turn, so
#: 2,000 of them already cost ~0.7 ms per file walked.
MAX_PATTERNS = 2_000
REMEDY = ("codegen reads an ignore file only as a regular file (not a symlink, which git does not follow "
          f"either) of at most {IGNORE_FILE_LIMIT // 1024} KB and {MAX_PATTERNS} patterns; its rules are not "
          "applied to what codegen indexes or captures")


def read_ignore_lines(path: Path) -> list[str] | None:
    """The lines of the ignore file at ``path``; None when there is none, or it is ignored (one warning)."""
    try:
        raw = read_regular(path, IGNORE_FILE_LIMIT)
    except RefusedPath as error:
        ignored(path, f"it {error.why}", REMEDY)
        return None
    except OSError:  # unreadable (permissions): as if absent, as git does
        return None
    if raw is None:
        return None
    lines = raw.decode("utf-8", errors="replace").splitlines()
    patterns = sum(1 for line in lines if line.strip() and not line.startswith("#"))
    if patterns > MAX_PATTERNS:
        ignored(path, f"it holds {patterns} patterns", REMEDY)
        return None
    return lines
