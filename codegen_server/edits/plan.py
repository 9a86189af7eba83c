"""plan_patch: turn a model answer into computed file changes, writing nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

from codegen_server.edits.locate import FileIndex, Located, NotLocated, already_in_file, locate_hunk
from codegen_server.edits.parse import FilePatch, Hunk, parse_answer
from codegen_server.edits.paths import normalize_rel_path, read_workspace_text, resolve_inside
from codegen_server.edits.render import render_diff
from codegen_server.edits.textfile import TextLines
from codegen_server.edits.types import EditError, EditLimits, FileChange, HunkFailure, PatchResult

# Whole-file blocks that only sketch the file ("# ... rest unchanged") would truncate it.
_PLACEHOLDER = re.compile(
    r"^\s*(?:#|//|/\*|\*|<!--|--)?\s*(?:\.\.\.|…)\s*$"
    r"|(?:#|//|/\*|<!--|--)\s*(?:\.\.\.|…)?\s*(?:rest of|existing|unchanged|remaining|same as before|other (?:code|methods))",
    re.IGNORECASE,
)

_BOM = "\ufeff"


class _Workspace:
    """Current text of every touched path while the answer's sections are applied in order."""

    def __init__(self, root: Path, buffers: Mapping[str, str] | None, limits: EditLimits) -> None:
        self.root, self.limits = root, limits
        self.buffers = {normalize_rel_path(k): v for k, v in (buffers or {}).items()}
        self.original: dict[str, str | None] = {}
        self.current: dict[str, str | None] = {}
        self.renamed: dict[str, str] = {}  # new path -> original path
        self.modes: dict[str, int] = {}  # path -> mode a diff asks for (new file mode 100755)
        self.answer_eol = "\n"
        self.already_applied: list[HunkFailure] = []

    def text(self, rel: str) -> str | None:
        if rel not in self.current:
            if rel in self.buffers:
                resolve_inside(self.root, rel)
                text: str | None = self.buffers[rel]
                if len(text.encode("utf-8")) > self.limits.max_file_bytes:
                    raise EditError(f"file too large to edit: {rel!r} (limit {self.limits.max_file_bytes} bytes)")
            else:
                text = read_workspace_text(self.root, rel, self.limits)
            self.original[rel] = self.current[rel] = text
        return self.current[rel]

    def set(self, rel: str, text: str | None) -> None:
        self.text(rel)
        if text is not None and len(text.encode("utf-8")) > self.limits.max_file_bytes:
            raise EditError(f"edited file would exceed the size limit: {rel!r} (limit {self.limits.max_file_bytes} bytes)")
        self.current[rel] = text

    def changes(self) -> list[FileChange]:
        out: list[FileChange] = []
        rename_sources = {old: new for new, old in self.renamed.items()}
        for rel in self.current:
            old, new = self.original[rel], self.current[rel]
            if rel in rename_sources and new is None:
                target = rename_sources[rel]
                if self.current.get(target) is not None:
                    out.append(FileChange(rel, "rename", old, self.current[target], new_path=target,
                                          mode=self.modes.get(target)))
                    continue
            if rel in self.renamed and self.current.get(self.renamed[rel]) is None and self.original.get(rel) is None:
                continue  # reported as the rename above
            if old == new:
                continue
            kind = "create" if old is None else "delete" if new is None else "modify"
            out.append(FileChange(rel, kind, old, new, mode=self.modes.get(rel) if kind == "create" else None))
        return out


def _apply_hunks(
    path: str, hunks: list[Hunk], text: str, salvage: bool, default_eol: str
) -> tuple[str | None, list[HunkFailure], list[HunkFailure]]:
    """New text after the hunks (None when nothing applied), the hunks that failed, and the hunks
    already applied (their result is in the file: nothing is written for them)."""
    bom = _BOM if text.startswith(_BOM) else ""  # models never write the BOM; match without it, keep it
    doc = TextLines.from_text(text[len(bom):], default_eol)
    failures: list[HunkFailure] = []
    done: list[HunkFailure] = []
    placed: list[tuple[Located, Hunk]] = []
    file_index = FileIndex(doc.lines)
    for hunk in hunks:
        result = locate_hunk(hunk, doc.lines, file_index)
        there = already_in_file(hunk, file_index, result if isinstance(result, Located) else None)
        if there is not None:
            done.append(HunkFailure(path, hunk.index, hunk.header,
                                    f"already applied: its result is in the file at line {there + 1}; "
                                    "nothing written for it", hunk.text()))
        elif isinstance(result, NotLocated):
            failures.append(HunkFailure(path, hunk.index, hunk.header, result.reason, result.searched, result.closest, result.closest_line))
        else:
            placed.append((result, hunk))
    placed.sort(key=lambda p: (p[0].start, p[0].end))
    kept: list[tuple[Located, Hunk]] = []
    for loc, hunk in placed:
        if kept and loc.start < kept[-1][0].end:
            other = kept[-1][1]
            failures.append(HunkFailure(
                path, hunk.index, hunk.header,
                f"overlaps hunk {other.index + 1} (both match around line {loc.start + 1})", hunk.text(),
            ))
            continue
        kept.append((loc, hunk))
    if failures and not salvage:
        return None, failures, done
    if not kept:
        return None, failures, done
    lines: list[str] = []
    eols: list[str] = []
    final_newline = doc.final_newline
    cursor = 0
    for loc, hunk in kept:
        lines += doc.lines[cursor : loc.start]
        eols += doc.eols[cursor : loc.start]
        lines += loc.new_lines
        eols += [doc.eols[f] if f is not None else "" for f in loc.from_file]
        cursor = loc.end
        if loc.end == len(doc.lines):
            if hunk.new_no_eol:
                final_newline = False
            elif hunk.old_no_eol:
                final_newline = True
    lines += doc.lines[cursor:]
    eols += doc.eols[cursor:]
    return bom + TextLines(lines, eols, final_newline, doc.eol).render(), failures, done


def _created_text(fp: FilePatch, eol: str) -> str:
    body: list[str] = []
    for hunk in fp.hunks:
        body += [t for op, t in hunk.lines if op != "-"]
    no_eol = any(h.new_no_eol for h in fp.hunks)
    return eol.join(body) + ("" if no_eol or not body else eol)


def _match_eol(new_text: str, like: str | None) -> str:
    """Give a model-written text the line endings (and final-newline state) of the file it replaces."""
    if not like:
        return new_text
    bom = _BOM if like.startswith(_BOM) and not new_text.startswith(_BOM) else ""
    doc = TextLines.from_text(like)
    out = TextLines.from_text(new_text)
    out.eols = [""] * len(out.eols)
    out.eol, out.final_newline = doc.eol, doc.final_newline
    return bom + out.render()


def _looks_like_fragment(old: str, new: str) -> str:
    """Why a whole-file text looks like an excerpt of ``old`` rather than all of it ("" if not).

    Writing an excerpt as the whole file would silently truncate it, so shrinking a sizeable
    file a lot, or dropping its opening line while shrinking it, is refused.
    """
    old_lines = [l.strip() for l in old.split("\n") if l.strip()]
    new_lines = [l.strip() for l in new.split("\n") if l.strip()]
    if len(old_lines) >= 40 and 3 * len(new_lines) < len(old_lines):
        return f"has {len(new_lines)} lines of code but the file has {len(old_lines)}"
    if len(old_lines) >= 20 and 10 * len(new_lines) < 6 * len(old_lines) and old_lines[0] not in new_lines:
        return f"lacks the file's first line ({old_lines[0][:60]!r}) and is much shorter"
    return ""


def _whole_file(ws: _Workspace, fp: FilePatch, rel: str) -> HunkFailure | None:
    new_text = fp.whole_text or ""
    old = ws.text(rel)
    header = f"whole-file block for {rel}"
    if old is not None:
        placeholders = [l for l in new_text.split("\n") if _PLACEHOLDER.search(l)]
        if placeholders and not any(_PLACEHOLDER.search(l) for l in old.split("\n")):
            return HunkFailure(rel, 0, header, "whole-file block elides code "
                               f"({placeholders[0].strip()!r}); send the complete file or a diff", new_text)
        fragment = _looks_like_fragment(old, new_text)
        if fragment:
            return HunkFailure(rel, 0, header, f"whole-file block {fragment}; it looks like a fragment "
                               "of the file, send the complete file or a diff", new_text)
    ws.set(rel, _match_eol(new_text, old))
    return None


def _added_lines_eol(text: str) -> str:
    """The line ending the answer's added lines mostly use (headers and prose do not count, nor a
    last line marked "\\ No newline at end of file")."""
    parts = re.split(r"(\r\n|\n|\r)", text)
    lines, ends = parts[0::2], parts[1::2] + [""]
    counts = {"\n": 0, "\r\n": 0, "\r": 0}
    for line, end, nxt in zip(lines, ends, lines[1:] + [""]):
        if end and line.startswith("+") and not line.startswith("+++ ") and not nxt.startswith("\\"):
            counts[end] += 1
    best = max(counts, key=lambda e: counts[e])
    return best if counts[best] > counts["\n"] else "\n"


def plan_patch(
    text: str,
    root: Path,
    *,
    buffers: Mapping[str, str] | None = None,
    salvage: bool = False,
    limits: EditLimits = EditLimits(),
) -> PatchResult:
    """Compute what a model answer would do to the workspace at ``root``, writing nothing.

    ``buffers`` maps workspace-relative POSIX paths to editor text that replaces the disk's.
    Hunks that cannot be placed are returned as failures. With ``salvage=False`` a file with
    any failed hunk is left out of ``changes`` (callers write nothing while failures exist);
    with ``salvage=True`` the good hunks' results are kept. Unsafe paths, size limits and
    non-UTF-8 files raise EditError.
    """
    if len(text.encode("utf-8")) > limits.max_patch_bytes:
        raise EditError(f"patch too large: {len(text.encode('utf-8'))} bytes (limit {limits.max_patch_bytes})")
    patches = parse_answer(text)
    if not patches:
        return PatchResult(failures=[HunkFailure("", -1, "", "no unified diff or whole-file block found in the answer")])
    if len({p.old_path for p in patches} | {p.new_path for p in patches}) > limits.max_files:
        raise EditError(f"patch touches more than {limits.max_files} files")
    ws = _Workspace(root, buffers, limits)
    # Files with no line ending to copy (new, or one line) get the answer's own.
    ws.answer_eol = _added_lines_eol(text)
    failures: list[HunkFailure] = []
    not_understood: list[HunkFailure] = []
    last_path: str | None = None
    for n, fp in enumerate(patches):
        if fp.unnamed:
            lines = fp.whole_text.count("\n") if fp.whole_text else 0
            not_understood.append(HunkFailure(
                "", -1, f"fenced block {n + 1} ({'```' + fp.info if fp.info else 'no language'}, {lines} lines)",
                "not applied: it is no diff and no file path names it", fp.whole_text or ""))
            continue
        if fp.old_path == "" and last_path is not None:
            # Hunks in a later block with no ---/+++ header continue the file named last
            # (models split one file's hunks over several fences); they must still locate.
            fp.old_path = fp.new_path = last_path
        elif fp.new_path or fp.old_path:
            last_path = fp.new_path or fp.old_path
        failures += _apply_file_patch(ws, fp, salvage)
    if not any(not fp.unnamed for fp in patches):
        failures.append(HunkFailure("", -1, "", "no unified diff or whole-file block found in the answer"))
    changes = ws.changes()
    return PatchResult(changes=changes, failures=failures, diff=render_diff(changes),
                       already_applied=ws.already_applied, not_understood=not_understood)


def _git_blob_hash(text: str) -> str:
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _deletion_refused(fp: FilePatch, current: str) -> str:
    """Why deleting the file is refused ("" when the diff shows the content it deletes).

    A deletion must prove it knows what it deletes: its removed lines are the file's lines
    (blank lines and indentation aside), or its ``index`` line names the file's git hash.
    """
    removed = [t.strip() for h in fp.hunks for op, t in h.lines if op != "+" and t.strip()]
    have = [line.strip() for line in current.splitlines() if line.strip()]
    if fp.hunks:
        return "" if removed == have else "deletion's removed lines differ from the file"
    if not current or (fp.index_old and _git_blob_hash(current).startswith(fp.index_old)):
        return ""
    if fp.index_old:
        return f"deletion's index hash {fp.index_old} is not the file's ({_git_blob_hash(current)[:12]}); nothing deleted"
    return "deletion shows none of the content it deletes (no hunks, no index hash); nothing deleted"


def _apply_file_patch(ws: _Workspace, fp: FilePatch, salvage: bool) -> list[HunkFailure]:
    if fp.cut:
        return [HunkFailure(fp.new_path or fp.old_path or "", 0, "cut-off block",
                            "the answer ends inside this file's block (no closing fence): it was cut off, "
                            "so none of it is applied")]
    if fp.old_path == "" or fp.new_path == "":
        return [HunkFailure("", h.index, h.header, "hunk has no ---/+++ file header naming its file", h.text()) for h in fp.hunks]
    old = normalize_rel_path(fp.old_path) if fp.old_path is not None else None
    new = normalize_rel_path(fp.new_path) if fp.new_path is not None else None
    if fp.whole_text is not None:
        failure = _whole_file(ws, fp, new or old or "")
        return [failure] if failure else []
    if old is None:
        assert new is not None
        existing = ws.text(new)
        created = _created_text(fp, ws.answer_eol)
        if existing is not None and existing != created:
            return [HunkFailure(new, 0, "--- /dev/null", "patch creates a file that already exists", created)]
        if existing is not None:
            ws.already_applied.append(HunkFailure(new, 0, "--- /dev/null", "already applied: the file exists "
                                                  "with exactly this content; nothing written for it"))
            return []
        ws.set(new, created)
        if fp.new_mode is not None:
            ws.modes[new] = fp.new_mode
        return []
    current = ws.text(old)
    if current is None:
        return [HunkFailure(old, h.index, h.header, "file does not exist", h.text()) for h in fp.hunks] or [
            HunkFailure(old, 0, "", "file does not exist")]
    if new is None:
        why = _deletion_refused(fp, current)
        if why:
            return [HunkFailure(old, 0, "+++ /dev/null", why, "\n".join(t for h in fp.hunks for op, t in h.lines))]
        ws.set(old, None)
        return []
    if fp.hunks:
        new_text, failures, done = _apply_hunks(old, fp.hunks, current, salvage, ws.answer_eol)
        ws.already_applied += done
    else:
        new_text, failures = current, []
    if new_text is not None and fp.new_mode is not None and new != old:
        ws.modes[new] = fp.new_mode
    if new_text is None:
        return failures
    if new != old:
        if ws.text(new) is not None:
            return failures + [HunkFailure(new, 0, f"rename {old} -> {new}", "rename target already exists")]
        ws.set(old, None)
        ws.set(new, new_text)
        ws.renamed[new] = old
    else:
        ws.set(old, new_text)
    return failures
