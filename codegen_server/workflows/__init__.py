"""The workflows: clarify, generate, apply, feedback, fix — each a recipe over the engines.

Workflows know nothing of LSP. The daemon and the CLI each build a ``Host``
(model, store, preprompts, progress, open buffers) and call the same functions.
"""
