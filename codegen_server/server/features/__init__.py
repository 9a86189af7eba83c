"""Each feature is a module with a ``register(server)`` hook."""

from __future__ import annotations

from ..app import CodegenServer
from . import (apply_diff, code_actions, context, explain, feedback, fix, generate, lifecycle, model_check, runs,
               transcript, watch)

FEATURES = [lifecycle, generate, apply_diff, context, feedback, explain, fix, runs, transcript, model_check, watch,
            code_actions]


def register_all(server: CodegenServer) -> None:
    for feature in FEATURES:
        feature.register(server)
