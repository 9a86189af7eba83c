"""Read a model's answer into file patches: unified diffs (bare or fenced) and whole-file blocks.

Model diffs routinely carry wrong ``@@`` counts, ``@@ ... @@`` headers, no headers at all and
prose between files. ``unidiff`` trusts the counts and silently truncates a hunk whose count is
too small (dropping real ``+`` lines), so model text is read by this tolerant line scanner, which
ignores counts and keeps line numbers only as hints. ``unidiff`` still checks our own output
(see tests): the diffs we render are strict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

LineOp = Literal[" ", "-", "+", "?"]  # "?": no prefix at all -- context or an added line that lost its "+"

# Fences start at column 0: an indented ``` is a diff line (context of a Markdown/docstring file).
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([^`\s]*)\s*(\S*)\s*$")
_HUNK_HEADER = re.compile(r"^@@+\s*(?:-(\d+)(?:,(\d+))?\s+\+(\d+)(?:,(\d+))?)?.*?@@+(.*)$")
_GIT_HEADER = re.compile(r"^diff --git (\S+) (\S+)\s*$")
_GIT_META = (
    "index ", "similarity index", "dissimilarity index", "new file mode", "deleted file mode",
    "old mode", "new mode", "rename from ", "rename to ", "copy from ", "copy to ", "Binary files",
)
# Names a project holds without an extension; dotfiles (.gitignore, .env.example) are matched by form.
_BARE_NAMES = (
    "Makefile|GNUmakefile|makefile|Dockerfile|Containerfile|Procfile|Gemfile|Rakefile|Vagrantfile|Jenkinsfile"
    "|Brewfile|Pipfile|Justfile|justfile|Caddyfile|LICENSE|LICENCE|COPYING|NOTICE|AUTHORS|CODEOWNERS"
    "|README|CHANGELOG|CONTRIBUTING|VERSION"
)
_PATH_LINE = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\d{1,3}[.)]\s+|[-*+]\s+)?(?:(?:File|Filename|Path|FILE|FILENAME)\s*:\s*)?[*`'\"]*"
    r"(?P<path>[\w.\-/\\]+\.[\w]+|[\w.\-/\\]*/[\w.\-]+|\.[\w][\w.\-]*|(?:" + _BARE_NAMES + r"))"
    r"[*`'\"]*\s*:?\s*$"
)

# A path written as a comment on a block's first line: "# src/app.py", "// src/app.js", "/* a.css */".
_PATH_COMMENT = re.compile(r"^\s*(?:#|//|--|/\*|<!--)\s*(?P<rest>.*?)\s*(?:\*/|-->)?\s*$")

_PROSE = re.compile(r"^[A-Z][A-Za-z'’,]*(?: [A-Za-z'’,`]+){2,}[.:!]$")


@dataclass
class Hunk:
    """One hunk as the model wrote it. ``old_start`` is a 1-based hint or None."""

    index: int
    header: str
    lines: list[tuple[LineOp, str]] = field(default_factory=list)
    old_start: int | None = None
    #: The header's line counts (-a,b +c,d), None when it has none; only hints, never trusted alone.
    old_count: int | None = None
    new_count: int | None = None
    # Set when a "\ No newline at end of file" marker follows the old / new side's last line.
    old_no_eol: bool = False
    new_no_eol: bool = False

    def text(self) -> str:
        """The hunk as diff text, for failure reports."""
        body = "\n".join(("" if op == "?" else op) + t for op, t in self.lines)
        return f"{self.header}\n{body}" if self.header else body


@dataclass
class FilePatch:
    """One file's section of the answer: either hunks or a whole-file text."""

    old_path: str | None  # None: /dev/null (created)
    new_path: str | None  # None: /dev/null (deleted)
    hunks: list[Hunk] = field(default_factory=list)
    whole_text: str | None = None
    git_rename: bool = False
    git_new: bool = False
    git_deleted: bool = False
    #: The mode of ``new file mode 100755`` (or ``new mode``), None when the diff gives none.
    new_mode: int | None = None
    #: The old blob's (abbreviated) git hash from an ``index abc..def`` line, to check a deletion.
    index_old: str | None = None
    #: A fenced block that names no file (and is no diff): reported as not understood, never applied.
    unnamed: bool = False
    info: str = ""
    #: The answer ended inside this file's fenced block (no closing fence): it was cut off, never applied.
    cut: bool = False

    @property
    def path(self) -> str:
        return self.old_path if self.old_path is not None else self.new_path  # type: ignore[return-value]


def _strip_path(raw: str, prefix: str) -> str | None:
    path = raw.strip().split("\t")[0].strip()
    if len(path) >= 2 and path[0] == path[-1] == '"':
        path = path[1:-1]
    if path == "/dev/null" or path == "dev/null":
        return None
    if path.startswith(prefix):
        path = path[len(prefix):]
    return path


class _DiffScanner:
    """A line state machine over one stretch of text (a fenced block or the bare answer)."""

    def __init__(self, fenced: bool) -> None:
        self.fenced = fenced
        self.files: list[FilePatch] = []
        self.file: FilePatch | None = None
        self.hunk: Hunk | None = None
        self._just_git_header = False  # a "diff --git" header awaits its ---/+++ lines

    def _new_hunk(self, header: str, old_start: int | None, counts: tuple[int | None, int | None] = (None, None)) -> None:
        assert self.file is not None
        self._close_hunk()
        self._just_git_header = False
        self.hunk = Hunk(index=len(self.file.hunks), header=header, old_start=old_start,
                         old_count=counts[0], new_count=counts[1])
        self.file.hunks.append(self.hunk)

    def _close_hunk(self) -> None:
        # Blank lines after a hunk are usually spacing before prose, not context.
        if self.hunk is not None:
            lines = self.hunk.lines
            while lines and lines[-1][0] == "?":
                if lines[-1][1] == "":
                    lines.pop()
                    continue
                # Prose inside a fence after a hunk ("Now the second file:") follows a blank line.
                k = len(lines)
                while k > 0 and lines[k - 1][0] == "?" and _PROSE.match(lines[k - 1][1]):
                    k -= 1
                if k < len(lines) and k > 0 and lines[k - 1] == ("?", ""):
                    del lines[k:]
                    continue
                break
            if self.file is not None and not lines:
                self.file.hunks.remove(self.hunk)
        self.hunk = None

    def _start_file(self, old: str | None, new: str | None) -> None:
        self._close_hunk()
        self.file = FilePatch(old_path=old, new_path=new)
        self.files.append(self.file)

    def feed(self, lines: list[str]) -> None:
        i = 0
        while i < len(lines):
            line = lines[i]
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            git = _GIT_HEADER.match(line)
            if git:
                self._start_file(_strip_path(git.group(1), "a/"), _strip_path(git.group(2), "b/"))
                self._just_git_header = True
                i += 1
                continue
            if line.startswith("--- ") and nxt is not None and nxt.startswith("+++ "):
                old, new = _strip_path(line[4:], "a/"), _strip_path(nxt[4:], "b/")
                same_git_file = (self.file is not None and not self.file.hunks and self._just_git_header
                                 and bool({old, new} & {self.file.old_path, self.file.new_path} - {None}))
                if same_git_file:
                    self.file.old_path, self.file.new_path = old, new  # type: ignore[union-attr]
                else:
                    self._start_file(old, new)
                self._just_git_header = False
                i += 2
                continue
            if self.file is not None and not self.file.hunks and line.startswith(_GIT_META):
                self._git_meta(line)
                i += 1
                continue
            header = _HUNK_HEADER.match(line) if line.startswith("@@") else None
            if header:
                if self.file is None:  # a hunk with no file header: keep it so it is reported, not lost
                    self._start_file("", "")
                start = int(header.group(1)) if header.group(1) else None
                counts = (None, None)
                if start is not None:  # "-5 +5" means one line each, as in diff's own output
                    counts = (int(header.group(2) or 1), int(header.group(4) or 1))
                self._new_hunk(line.rstrip(), start, counts)
                i += 1
                continue
            if self.file is not None and self.hunk is None and line[:1] in ("+", "-", " ") and line.strip():
                # Missing @@ header (the section body is one hunk), or hunk lines after prose:
                # never drop them silently; if they do not locate, the patch is refused.
                self._new_hunk("", None)
            if self.hunk is not None and not self._hunk_line(line, self._resumes_hunk(lines, i)):
                self._close_hunk()
            i += 1
        self._close_hunk()

    def _git_meta(self, line: str) -> None:
        f = self.file
        assert f is not None
        self._just_git_header = True
        if line.startswith(("new file mode", "new mode")):
            mode = line.rsplit(None, 1)[-1]
            if re.fullmatch(r"[0-7]{6}", mode):
                f.new_mode = int(mode, 8) & 0o777
        if line.startswith("index "):
            m = re.match(r"index ([0-9a-fA-F]{7,64})\.\.", line)
            f.index_old = m.group(1).lower() if m else None
        if line.startswith("new file mode"):
            f.git_new, f.old_path = True, None
        elif line.startswith("deleted file mode"):
            f.git_deleted, f.new_path = True, None
        elif line.startswith("rename from "):
            f.git_rename, f.old_path = True, line[len("rename from "):].strip()
        elif line.startswith("rename to "):
            f.git_rename, f.new_path = True, line[len("rename to "):].strip()

    @staticmethod
    def _resumes_hunk(lines: list[str], i: int) -> bool:
        """Whether hunk lines follow a short run of unprefixed lines starting at ``i``: then the
        run is inside the hunk (added lines that lost their "+"), not prose after it."""
        j = i
        while j < len(lines) and j - i < 6 and lines[j][:1] not in (" ", "+", "-", "@", "\\"):
            j += 1  # unprefixed or blank lines
        if j == i or j >= len(lines) or j - i >= 6:
            return False
        nxt = lines[j]
        if nxt.startswith("--- ") and j + 1 < len(lines) and lines[j + 1].startswith("+++ "):
            return False
        return nxt[:1] in (" ", "+", "-")

    def _hunk_line(self, line: str, inside: bool = False) -> bool:
        """Add a line to the current hunk; False when the line ends the hunk (prose).

        ``inside``: an unprefixed line known to be followed by more hunk lines.
        """
        hunk = self.hunk
        assert hunk is not None
        if line.startswith("\\"):
            # "\ No newline at end of file" belongs to the line just before it.
            if hunk.lines:
                op = hunk.lines[-1][0]
                if op in (" ", "?"):
                    hunk.old_no_eol = hunk.new_no_eol = True
                elif op == "-":
                    hunk.old_no_eol = True
                else:
                    hunk.new_no_eol = True
            return True
        first = line[:1]
        if first in (" ", "+", "-"):
            hunk.lines.append((first, line[1:]))  # type: ignore[arg-type]
            return True
        if line == "":
            hunk.lines.append(("?", ""))  # blank context whose leading space was trimmed
            return True
        if self.fenced or inside:
            hunk.lines.append(("?", line))
            return True
        return False


def _is_diff(lines: list[str]) -> bool:
    has_minus = any(l.startswith("--- ") for l in lines)
    has_plus = any(l.startswith("+++ ") for l in lines)
    return any(l.startswith(("diff --git ", "@@")) for l in lines) or (has_minus and has_plus)


def _path_from_line(line: str) -> str | None:
    m = _PATH_LINE.match(line)
    if not m:
        return None
    # A leading "/" stays: an absolute path is refused later, never quietly made relative.
    path = m.group("path").strip().rstrip("/")
    return path or None


def parse_answer(text: str) -> list[FilePatch]:
    """All file patches in a model answer, in the order they appear."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    patches: list[FilePatch] = []
    bare: list[str] = []

    def flush_bare() -> None:
        if bare and _is_diff(bare):
            scanner = _DiffScanner(fenced=False)
            scanner.feed(bare)
            patches.extend(scanner.files)
        bare.clear()

    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            bare.append(lines[i])
            i += 1
            continue
        marker, info, info_path = fence.group(1), fence.group(2), fence.group(3)
        close = re.compile("^" + re.escape(marker[0]) + "{" + str(len(marker)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        body = lines[i + 1 : j]
        cut = j >= len(lines)  # no closing fence: the answer stopped inside this block
        i = j + 1
        if _is_diff(body):
            flush_bare()
            scanner = _DiffScanner(fenced=True)
            scanner.feed(body)
            if cut and scanner.files:
                scanner.files[-1].cut = True
            patches.extend(scanner.files)
            continue
        # A whole-file block: the path sits in the info string ("```python src/app.py", "```src/app.py")
        # or on the last non-blank line before the fence.
        path = None
        for candidate in (info_path, info.split(":", 1)[1] if ":" in info else "", info if ("/" in info or "." in info) else ""):
            if candidate and _path_from_line(candidate):
                path = _path_from_line(candidate)
                break
        if path is None:
            k = len(bare) - 1
            while k >= 0 and not bare[k].strip():
                k -= 1
            if k >= 0:
                path = _path_from_line(bare[k])
        if path is None and body and (comment := _PATH_COMMENT.match(body[0])) and "/" in comment.group("rest"):
            # Only a path with a folder counts here: "# utils.py" may just be a comment.
            path = _path_from_line(comment.group("rest"))
        flush_bare()
        content = "\n".join(body) + "\n" if body else ""
        if path is not None:
            patches.append(FilePatch(old_path=path, new_path=path, whole_text=content, cut=cut))
        elif content.strip():
            patches.append(FilePatch(old_path=None, new_path=None, whole_text=content, unnamed=True, info=info))
    flush_bare()
    return patches
