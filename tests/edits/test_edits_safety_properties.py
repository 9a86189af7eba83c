"""Properties over generated paths and patches (issue 12):

- whatever path a patch names, nothing outside the root, in .git/ or in .codegen/ is ever touched;
- a successful apply writes exactly the intended text, byte for byte; a refused one writes nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from codegen_server.edits import EditError, diff_texts, plan_patch, render_diff, write_changes
from tests.support.files import leftovers

# Path pieces an attacker or a confused model might combine.
PIECES = st.sampled_from([
    "a.py", "src", "new.txt", ".env", "Makefile", "..", ".", "", ".git", ".codegen", "hooks", "runs",
    "link_out", "link_git", "link_codegen", "loop", "inside_link", "~", "C:", "x\x00y", "con", "ünï.py", " ",
])


@st.composite
def hostile_paths(draw) -> str:
    parts = draw(st.lists(PIECES, min_size=1, max_size=5))
    path = "/".join(parts)
    if draw(st.booleans()):
        path = draw(st.sampled_from(["/", "//", "\\", "../", "./", "C:\\", "/tmp/"])) + path
    return path.replace("/", draw(st.sampled_from(["/", "/", "\\"])))


def patches_for(path: str) -> list[str]:
    """Every way an answer can name a path: create, modify, delete, rename (both ends), whole file."""
    return [
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+owned\n",
        f"--- a/{path}\n+++ b/{path}\n@@\n-secret\n+owned\n",
        f"--- a/{path}\n+++ /dev/null\n@@ -1 +0,0 @@\n-secret\n",
        f"diff --git a/{path} b/{path}\ndeleted file mode 100644\n",
        f"diff --git a/a.py b/{path}\nrename from a.py\nrename to {path}\n",
        f"diff --git a/{path} b/moved.py\nrename from {path}\nrename to moved.py\n",
        f"{path}\n```\nowned\n```\n",
    ]


def tree(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            out[rel] = (b"-> " + os.readlink(p).encode()) if p.is_symlink() else p.read_bytes() if p.is_file() else b"/"
    return out


def make_world(base: Path) -> tuple[Path, Path]:
    root, outside = base / "root", base / "outside"
    for d in (root / "src", root / ".git" / "hooks", root / ".codegen" / "runs", root / "inside", outside):
        d.mkdir(parents=True)
    for p in (root / "a.py", root / "src" / "a.py", root / ".git" / "config", root / ".git" / "hooks" / "a.py",
              root / ".codegen" / "runs" / "a.py", outside / "a.py", outside / "secret"):
        p.write_text("secret\n")
    os.symlink(outside, root / "link_out")
    os.symlink(root / ".git", root / "link_git")
    os.symlink(".codegen", root / "link_codegen")
    os.symlink("loop", root / "loop")
    os.symlink("inside", root / "inside_link")
    return root, outside


def protected(root: Path, outside: Path) -> dict[str, dict[str, bytes]]:
    """What no patch may ever change: outside the root, .git/, .codegen/ (but the writer's own lock dir)."""
    codegen = {k: v for k, v in tree(root / ".codegen").items() if not k.startswith("writer")}
    return {"outside": tree(outside), ".git": tree(root / ".git"), ".codegen": codegen,
            "parent": {p.name: b"" for p in root.parent.iterdir()}}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=hostile_paths(), form=st.integers(0, 6))
def test_no_path_reaches_outside_the_root_or_into_git_or_codegen(path: str, form: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="paths-"))
    try:
        root, outside = make_world(base)
        before = protected(root, outside)
        answer = patches_for(path)[form]
        try:
            result = plan_patch(answer, root)
            if not result.failures:
                write_changes(root, result.changes)
        except EditError:
            pass
        assert protected(root, outside) == before
        assert leftovers(root) == []
    finally:
        shutil.rmtree(base)


# -- applies write exactly the intended text ----------------------------------------------------

# A small alphabet: repeated lines make context ambiguous, so some patches must be refused.
LINE = st.sampled_from(["x = 1", "    x = 1", "\tif x:", "", "   ", "return x", "# note", "y = 2  ", "z"]) | st.text(
    alphabet="abcdefgh =():\t", min_size=1, max_size=12)


@st.composite
def text_pairs(draw) -> tuple[str, str]:
    a = draw(st.lists(LINE, min_size=1, max_size=30))
    b = list(a)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(b)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            b[i:i] = draw(st.lists(LINE, min_size=1, max_size=3))
        elif op == "delete":
            del b[i : i + draw(st.integers(1, 3))]
        else:
            b[i : i + 1] = [draw(LINE)]
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    final = draw(st.booleans())

    def join(lines: list[str]) -> str:
        return eol.join(lines) + (eol if final and lines else "")
    return join(a), join(b)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pair=text_pairs(), context=st.sampled_from([0, 1, 3]), numbers=st.booleans())
# Repetitive text: the hunk's result also stands just before where its context was located.
@example(pair=("x = 1\n:\nx = 1\n", "x = 1\nx = 1\n:\nx = 1\n:\nx = 1\n"), context=1, numbers=False)
def test_a_successful_apply_writes_exactly_the_intended_text(pair: tuple[str, str], context: int, numbers: bool) -> None:
    a, b = pair
    base = Path(tempfile.mkdtemp(prefix="texts-"))
    try:
        (base / "f.txt").write_bytes(a.encode())
        diff = render_diff([diff_texts("f.txt", a, b)])
        if not numbers:  # the model left out line numbers: only content can place the hunks
            diff = "\n".join("@@ ... @@" if line.startswith("@@") else line for line in diff.split("\n"))
        if context != 3:
            diff = _with_context(a, b, context, diff)
        result = plan_patch(diff, base)
        if result.failures:
            assert (base / "f.txt").read_bytes() == a.encode()
            return
        write_changes(base, result.changes)
        assert (base / "f.txt").read_bytes() == (b if result.changes else a).encode()
        if not result.changes:
            assert a == b or result.already_applied
    finally:
        shutil.rmtree(base)


def _with_context(a: str, b: str, context: int, default: str) -> str:
    """The same change with less context, as models often send it."""
    import difflib

    lines = list(difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                      "a/f.txt", "b/f.txt", n=context))
    if not lines:
        return default
    out = []
    for line in lines:
        if not line.endswith(("\n", "\r")):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)
