"""State as codegen itself would have written it: for tests of what even sealed state may not do.

The suite's processes share one per-user key (``tests/conftest.py``), so a test can seal a file
the CLI or the daemon it starts will accept as its own, standing for a manifest or a run a
codegen of this user wrote (a bug, an older version), not for a planted one.
"""

from __future__ import annotations

import json
from pathlib import Path

from codegen_server.store.checkpoints import CheckpointStore, manifest_purpose
from codegen_server.trust.seal import SEAL_FIELD, seal_json


def seal_file(path: Path, data: dict, purpose: str) -> None:
    """Write ``data`` to ``path`` sealed for ``purpose``."""
    path.write_text(seal_json(data, purpose))


def reseal_manifest(store: CheckpointStore, checkpoint_id: str) -> None:
    """Seal a checkpoint manifest a test edited, as if codegen had written it so."""
    path = store.dir / f"{checkpoint_id}.json"
    body = json.loads(path.read_text())
    body.pop(SEAL_FIELD, None)
    seal_file(path, body, manifest_purpose(store.run_id, checkpoint_id))


def seal_run_meta(run_dir: Path, meta: dict) -> None:
    """A run.json codegen would accept for the run in ``run_dir``."""
    seal_file(run_dir / "run.json", {"id": run_dir.name, **meta}, f"run:{run_dir.name}/run.json")
