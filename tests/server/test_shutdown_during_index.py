"""A daemon told to shut down while it indexes a big workspace stops the index instead of finishing it."""

from __future__ import annotations

import time

from tests.support.raw_daemon import ANSWER_WITHIN, RawDaemon, frame, request

#: Enough source for the parse pool and several seconds of parsing on two cores.
FILES, FUNCTIONS_PER_FILE = 1500, 120


def big_workspace(root):
    body = "".join(f"def handler_{i}(request, value):\n    return helper(value) + {i}\n\n" for i in range(FUNCTIONS_PER_FILE))
    for n in range(FILES):
        folder = root / f"pkg{n // 100}"
        folder.mkdir(exist_ok=True)
        (folder / f"module_{n}.py").write_text(f"from shared import helper\n\n{body}")


def test_shutdown_during_a_cold_index_stops_it_and_the_daemon_exits(tmp_path):
    big_workspace(tmp_path)
    log = tmp_path.parent / f"{tmp_path.name}-daemon.log"
    daemon = RawDaemon(tmp_path, "--log-level", "INFO", "--log-file", str(log))
    try:
        daemon.initialize()
        daemon.send(frame(request(1, "workspace/executeCommand",
                                  {"command": "codegen.context", "arguments": [{"task": "helper", "budget": 500}]})))
        deadline = time.monotonic() + ANSWER_WITHIN
        while "worker processes" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "the index never started parsing in workers"
            time.sleep(0.05)
        code, _ = daemon.finish()
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
    assert code == 0
    # Stopped, not finished: an index that ran to its end would have been saved.
    assert not (tmp_path / ".codegen" / "index" / "tags.marshal").exists()
    assert "Traceback" not in log.read_text()
