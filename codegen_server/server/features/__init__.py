"""Each feature is a module with a ``register(server)`` hook."""

from __future__ import annotations

from ..app import CodegenServer
from . import apply_diff, code_actions, context, feedback, fix, generate, lifecycle, runs, watch

FEATURES = [lifecycle, generate, apply_diff, context, feedback, fix, runs, watch, code_actions]


def register_all(server: CodegenServer) -> None:
    for feature in FEATURES:
        feature.register(server)
