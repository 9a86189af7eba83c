"""Token usage counted locally, for servers that report none.

Many OpenAI-compatible servers (llama-cpp-python, some gateways) send no ``usage``
in streams even when ``stream_options.include_usage`` asks for it. Without a
count the fix loop's token budget would never stop anything, so the prompt and
the answer are counted with the project's offline tokenizer and marked estimated.
"""

from __future__ import annotations

from .types import Message, Usage

#: Per-message framing tokens in OpenAI's chat format (role and separators), and the reply's priming.
_PER_MESSAGE = 4
_REPLY_PRIMING = 3


def estimate_usage(messages: list[Message], answer: str) -> Usage:
    """Prompt and completion tokens of one call, counted locally (``estimated=True``)."""
    # Imported here: the context package (tree-sitter) is not needed when the server reports usage.
    from ..context.tokens import count_tokens

    prompt = sum(count_tokens(str(m.get("content") or "")) + _PER_MESSAGE for m in messages) + _REPLY_PRIMING
    return Usage(prompt_tokens=prompt, completion_tokens=count_tokens(answer), estimated=True)
