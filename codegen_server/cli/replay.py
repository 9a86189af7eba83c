"""`codegen replay RUN_DIR` — serve a recorded run's answers on 127.0.0.1 as an OpenAI-compatible endpoint."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import help_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("replay", help="serve a recorded run's model answers for a re-run",
                                   **help_text(["codegen replay .codegen/runs/20261123-101500-a1b2c3",
                                                "codegen replay .codegen/runs/20261123-101500-a1b2c3 --port 8765"],
                                               "0 stopped with Ctrl-C, 1 not a run folder codegen wrote, 2 usage"))
    parser.add_argument("run_dir", type=Path, help="a run folder, .codegen/runs/<runId>")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..model.replay import load_calls, replay_responder
    from ..model.scripted_server import ScriptedModelServer
    from ..store import RunNotFound

    try:
        calls = load_calls(args.run_dir)
    except RunNotFound as error:
        print(f"codegen replay: {error}", file=sys.stderr)
        return 1
    server = ScriptedModelServer(replay_responder(calls), port=args.port)
    # The first line is machine-readable so tools can wait for it.
    print(f"OPENAI_BASE_URL={server.base_url}", flush=True)
    print(f"serving {len(calls)} recorded answers; Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
