"""apply(diff(a, b)) == b on many real file pairs (installed third-party sources)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen_server.edits import diff_texts, plan_patch, render_diff


def _real_sources() -> list[str]:
    texts: list[str] = []
    for pkg in ("unidiff", "pygls", "lsprotocol", "openai", "hypothesis", "_pytest"):
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            continue
        for path in sorted(Path(list(spec.submodule_search_locations)[0]).rglob("*.py"))[:60]:
            text = path.read_text(encoding="utf-8", errors="strict")
            if 0 < len(text) < 60_000 and "\r" not in text:
                texts.append(text)
    return texts


SOURCES = _real_sources()


def roundtrip(tmp: Path, a: str, b: str) -> str | None:
    (tmp / "f.py").write_bytes(a.encode("utf-8"))
    patch = render_diff([diff_texts("f.py", a, b)])
    if not patch:
        return a
    result = plan_patch(patch, tmp)
    assert result.failures == [], result.failures
    return result.changes[0].new_text if result.changes else a


edits = st.lists(
    st.tuples(st.floats(0, 1), st.sampled_from(["insert", "delete", "replace", "duplicate"]), st.integers(1, 4)),
    min_size=1, max_size=6,
)


def edited(text: str, ops: list[tuple[float, str, int]]) -> str:
    lines = text.splitlines(keepends=True)
    for frac, op, n in ops:
        i = int(frac * len(lines))
        if op == "insert":
            lines[i:i] = [f"    inserted_{i}_{k} = {k}\n" for k in range(n)]
        elif op == "delete":
            del lines[i : i + n]
        elif op == "replace":
            lines[i : i + n] = [l.replace("self", "this").replace("return", "yield") for l in lines[i : i + n]]
        else:
            lines[i:i] = lines[i : i + n]  # repeated code makes context ambiguous without line numbers
    return "".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from(SOURCES), ops=edits, crlf=st.booleans(), drop_final_newline=st.booleans())
def test_apply_of_diff_is_identity_on_edited_real_files(tmp_path: Path, source: str, ops, crlf: bool,
                                                        drop_final_newline: bool) -> None:
    a, b = source, edited(source, ops)
    if drop_final_newline:
        a, b = a.rstrip("\n"), b.rstrip("\n")
    if crlf:
        a, b = a.replace("\n", "\r\n"), b.replace("\n", "\r\n")
    assert roundtrip(tmp_path, a, b) == b


@pytest.mark.parametrize("k", range(0, 40))
def test_apply_of_diff_between_unrelated_real_files(tmp_path: Path, k: int) -> None:
    a, b = SOURCES[(7 * k) % len(SOURCES)], SOURCES[(7 * k + 13) % len(SOURCES)]
    assert roundtrip(tmp_path, a, b) == b


def test_enough_real_sources() -> None:
    assert len(SOURCES) >= 100
