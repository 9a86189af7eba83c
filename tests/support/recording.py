"""An executable that records how it was started, for tests that check what a run executes."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path


def recording_wrapper(path: Path, real: str, log: Path) -> None:
    """An executable at ``path`` that appends its argv (as JSON) to ``log`` and runs ``real``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""#!{sys.executable}
import json, os, sys
with open({str(log)!r}, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
""")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def calls(log: Path) -> list[list[str]]:
    """Every argv the wrapper recorded, in order."""
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
