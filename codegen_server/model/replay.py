"""Serve a recorded run's answers as an OpenAI-compatible endpoint (gpt-engineer's re-run of message logs).

A request whose messages equal a recorded call's messages gets that call's
answer; any other request gets the next recorded answer not served yet. So a run
replays as it was, and a run whose messages were edited still gets answers in order.

Only calls codegen sealed for this user are served: a replay hands its answers to codegen as
code, so a run folder that came with a repository serves nothing.
"""

from __future__ import annotations

from pathlib import Path

from ..store.runs import RunNotFound, open_run_dir
from .scripted_server import Responder, ScriptStep


def load_calls(run_dir: Path) -> list[dict]:
    """The run's sealed recorded model calls that have an answer, in order.

    Raises RunNotFound when ``run_dir`` is not a run codegen wrote, or holds no such call.
    """
    run = open_run_dir(run_dir)
    calls = [c for c in run.calls() if isinstance(c.get("response"), dict) and "content" in c["response"]
             and isinstance(c.get("request"), dict)]
    if not calls:
        raise RunNotFound(f"{run_dir} holds no recorded model answers codegen wrote for this user")
    return calls


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
