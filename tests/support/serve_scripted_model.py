"""Serve a scripted model from a JSON file, for tests that drive codegen from outside Python.

    python -m tests.support.serve_scripted_model SCRIPT.json [--requests-log FILE] [--port N]

The editor clients' end-to-end runs (VS Code, Neovim) start this next to the real daemon.
SCRIPT.json is a list of steps, each the fields of ``ScriptStep`` (``content``, ``chunk_delay``,
``status``, ...) plus an optional ``when``: a step with ``when`` answers the first request whose
messages contain that text; the others answer in order. The first line printed is
``OPENAI_BASE_URL=http://127.0.0.1:PORT/v1`` so a test can wait for it; every request body
received is appended to ``--requests-log`` as one JSON line, so a test can assert what the model saw.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from codegen_server.model.scripted_server import ScriptedModelServer, ScriptStep


def responder(steps: list[dict], requests_log: Path | None):
    """Pick each request's step: the first unused one whose ``when`` matches, else the next plain one."""
    remaining = list(steps)
    lock = threading.Lock()

    def respond(body: dict) -> ScriptStep:
        text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        with lock:
            if requests_log is not None:
                with requests_log.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(body) + "\n")
            chosen = next((s for s in remaining if s.get("when") and s["when"] in text), None)
            if chosen is None:
                chosen = next((s for s in remaining if not s.get("when")), None)
            if chosen is None:
                return ScriptStep(status=400, error_message="the script has no answer left for this request")
            remaining.remove(chosen)
        return ScriptStep(**{k: v for k, v in chosen.items() if k != "when"})

    return respond


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", type=Path)
    parser.add_argument("--requests-log", type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    steps = json.loads(args.script.read_text(encoding="utf-8"))
    server = ScriptedModelServer(responder(steps, args.requests_log), port=args.port)
    print(f"OPENAI_BASE_URL={server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
