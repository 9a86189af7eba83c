"""Serve a recorded run's answers as an OpenAI-compatible endpoint (gpt-engineer's re-run of message logs).

A request whose messages equal a recorded call's messages gets that call's
answer; any other request gets the next recorded answer not served yet. So a run
replays as it was, and a run whose messages were edited still gets answers in order.
"""

from __future__ import annotations

import json
from pathlib import Path

from .scripted_server import Responder, ScriptStep


def load_calls(run_dir: Path) -> list[dict]:
    """The run's recorded model calls that have an answer, in order."""
    folder = run_dir / "calls"
    if not folder.is_dir():
        raise FileNotFoundError(f"{run_dir} holds no recorded model calls (no calls/ folder)")
    calls = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
    return [c for c in calls if "content" in c.get("response", {})]


def replay_responder(calls: list[dict]) -> Responder:
    served = [False] * len(calls)

    def respond(body: dict) -> ScriptStep:
        messages = body.get("messages")
        for index, call in enumerate(calls):
            if not served[index] and call["request"].get("messages") == messages:
                served[index] = True
                return ScriptStep(content=call["response"]["content"])
        for index, call in enumerate(calls):
            if not served[index]:
                served[index] = True
                return ScriptStep(content=call["response"]["content"])
        return ScriptStep(status=400, error_message="every recorded answer of this run was served already")

    return respond
