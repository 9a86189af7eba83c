"""Find where a hunk belongs in a file by its content, and compute the hunk's replacement lines.

Order of attempts, strictest first: exact lines (trailing whitespace ignored); then a flexible
match that ignores blank lines, accepts one uniform indentation shift and lets an elision line
(``...``, ``# ...``) stand for any run of lines. Line numbers only break ties between equally good
places, and only when one place is clearly nearest. Anything else is a failure, never a guess.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from codegen_server.edits.parse import Hunk

_ELISION = re.compile(
    r"^(?:#|//|/\*|\*|<!--|--|;)?\s*(?:\.\.\.|…)(?:\s*[\w ,'()]*?\s*(?:\.\.\.|…)?)?\s*(?:\*/|-->)?$"
)

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Located:
    """A hunk placed in the file: replace lines [start, end) with ``new_lines``.

    ``from_file[i]`` is the file line index a new line was copied from (context), or None for
    an added line, so line endings of kept lines survive.
    """

    start: int
    end: int
    new_lines: list[str]
    from_file: list[int | None]


@dataclass(frozen=True)
class NotLocated:
    """Why a hunk could not be placed, with the closest text found."""

    reason: str
    searched: str
    closest: str = ""
    closest_line: int | None = None


# An interpreted hunk line: op is " ", "-", "+", or "." (elision in context).
_Line = tuple[str, str]


def _is_elision(text: str) -> bool:
    return bool(_ELISION.match(text.strip()))


def _counts_say_context(hunk: Hunk, plain: list[_Line]) -> bool:
    """Whether the header's line counts match the plain reading: then an unmarked line the file
    lacks is stale context (the file moved on), not an added line that lost its "+"."""
    if hunk.old_count is None or hunk.new_count is None:
        return False
    old = sum(1 for op, _ in plain if op in (" ", "-", "."))
    new = sum(1 for op, _ in plain if op in (" ", "+", "."))
    return (old, new) == (hunk.old_count, hunk.new_count)


def _added_line(op: str, text: str, fi: "FileIndex", neighbours: set[str]) -> str | None:
    """The added line an unmarked hunk line stands for, or None when its indentation cannot tell.

    A line with no prefix at all lost only its "+". A line read as context (" ") either had its
    "+" turned into a space (the text is the line) or lost its "+" in front of a leading space
    (the line is " " + text): the file's own indentation grid decides; off the grid (a
    docstring's table, say), the indentation of the lines around it. When that cannot decide
    either, nothing is guessed.
    """
    if op == "?":
        return text
    candidates = (text, " " + text)
    for fits in (fi.fits_indent, neighbours.__contains__):
        chosen = [c for c in candidates if fits(_indent(c))]
        if len(chosen) == 1:
            return chosen[0]
    return None


def _neighbour_indents(lines: list[_Line], i: int) -> set[str]:
    """The indentation of the nearest non-blank hunk lines before and after line ``i``."""
    found: set[str] = set()
    for rng in (range(i - 1, -1, -1), range(i + 1, len(lines))):
        for k in rng:
            if lines[k][1].strip():
                found.add(_indent(lines[k][1]))
                break
    return found


def _interpretations(hunk: Hunk, fi: "FileIndex", undecided: list[str]) -> Iterator[list[_Line]]:
    """The plain reading of the hunk, then (if different) the reading where interior lines that
    look like context but exist nowhere in the file are added lines that lost their "+".

    A line the file lacks whose indentation cannot say what it was is named in ``undecided``.
    """
    lines = hunk.lines
    plain: list[_Line] = []
    for op, text in lines:
        if op == "?":
            op = " "
        if op == " " and text.strip() and _is_elision(text):
            op = "."
        plain.append((op, text))
    # Only lines with real (non-blank) context or removed lines on both sides are reread.
    yield plain
    before_idx = [i for i, (op, t) in enumerate(plain) if op in (" ", "-") and t.strip()]
    if len(before_idx) < 2 or _counts_say_context(hunk, plain):
        return
    file_keys = fi.stripped
    first, last = before_idx[0], before_idx[-1]
    repaired = list(plain)
    changed = False
    for i in range(first + 1, last):
        op, text = lines[i]
        if plain[i][0] != " " or not text.strip():
            continue
        # Safe to reread as added: the rest of the hunk must still match contiguously, so a
        # line the file really has at this spot can never be skipped this way.
        if text.strip() not in file_keys:
            added = _added_line(op, text, fi, _neighbour_indents(plain, i))
            if added is None:
                undecided.append(text)
                return
            repaired[i] = ("+", added)
            changed = True
    if changed:
        yield repaired


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _exact_candidates(before: list[str], rkeys: list[str]) -> list[list[int]]:
    """Every place where the lines appear verbatim (trailing whitespace ignored)."""
    keys = [b.rstrip() for b in before]
    out: list[list[int]] = []
    n, first = len(keys), keys[0]
    start = -1
    while True:
        try:
            start = rkeys.index(first, start + 1)  # a C-speed scan beats building a dict per file
        except ValueError:
            return out
        if rkeys[start : start + n] == keys:
            out.append(list(range(start, start + n)))


def _flexible_candidates(
    hunk_lines: list[_Line], file_lines: list[str], nonblank: list[int], nb_index: dict[str, list[int]]
) -> list[dict[int, int]]:
    """Matches that ignore blank lines and let elisions skip lines; returns hunk-line -> file-line maps."""
    segments: list[list[tuple[int, str]]] = [[]]
    for i, (op, text) in enumerate(hunk_lines):
        if op == ".":
            if segments[-1]:
                segments.append([])
        elif op in (" ", "-") and text.strip():
            segments[-1].append((i, text.strip()))
    segments = [s for s in segments if s]
    if not segments:
        return []

    def match_at(seg: list[tuple[int, str]], pos: int) -> bool:
        if pos + len(seg) > len(nonblank):
            return False
        return all(file_lines[nonblank[pos + k]].strip() == key for k, (_, key) in enumerate(seg))

    results: list[dict[int, int]] = []
    for pos0 in nb_index.get(segments[0][0][1], []):
        if not match_at(segments[0], pos0):
            continue
        mapping = {i: nonblank[pos0 + k] for k, (i, _) in enumerate(segments[0])}
        pos = pos0 + len(segments[0])
        ok = True
        for seg in segments[1:]:
            # An elision stands for the shortest run of lines that lets the next segment match.
            nxt = next((p for p in nb_index.get(seg[0][1], []) if p >= pos and match_at(seg, p)), None)
            if nxt is None:
                ok = False
                break
            mapping.update({i: nonblank[nxt + k] for k, (i, _) in enumerate(seg)})
            pos = nxt + len(seg)
        if ok:
            _pair_blanks(hunk_lines, mapping, file_lines)
            results.append(mapping)
    return results


def _pair_blanks(hunk_lines: list[_Line], mapping: dict[int, int], file_lines: list[str]) -> None:
    """Map the patch's blank lines onto the file's blank lines between the same matched lines,
    in order, so a removed blank line is removed and a kept one is not doubled."""
    def is_blank_before(i: int) -> bool:
        op, text = hunk_lines[i]
        return op in (" ", "-") and not text.strip()

    anchors = sorted(mapping)
    for a, b in zip(anchors, anchors[1:]):
        if any(hunk_lines[k][0] == "." for k in range(a + 1, b)):
            continue  # an elided stretch: its blank lines are the file's business
        blanks = [k for k in range(a + 1, b) if is_blank_before(k)]
        file_blanks = [f for f in range(mapping[a] + 1, mapping[b]) if not file_lines[f].strip()]
        if hunk_lines[b][0] == "-" and hunk_lines[a][0] != "-":
            # Blanks leading into a removal: the removed ones are those next to it.
            blanks, file_blanks = blanks[::-1], file_blanks[::-1]
        for k, f in zip(blanks, file_blanks):
            mapping[k] = f
    first, last = anchors[0], anchors[-1]
    f = mapping[first] - 1
    for k in range(first - 1, -1, -1):
        if hunk_lines[k][0] == ".":
            break
        if is_blank_before(k):
            if f < 0 or file_lines[f].strip():
                break
            mapping[k] = f
            f -= 1
    f = mapping[last] + 1
    for k in range(last + 1, len(hunk_lines)):
        if hunk_lines[k][0] == ".":
            break
        if is_blank_before(k):
            if f >= len(file_lines) or file_lines[f].strip():
                break
            mapping[k] = f
            f += 1


def _indent_shift(hunk_lines: list[_Line], mapping: dict[int, int], file_lines: list[str]) -> tuple[str, str] | None:
    """The one (add, remove) indentation change turning patch lines into file lines, or None."""
    shift: tuple[str, str] | None = None
    for i, f in mapping.items():
        if not file_lines[f].strip():
            continue
        pi, fi = _indent(hunk_lines[i][1]), _indent(file_lines[f])
        if fi.endswith(pi):
            this = (fi[: len(fi) - len(pi)], "")
        elif pi.endswith(fi):
            this = ("", pi[: len(pi) - len(fi)])
        else:
            return None
        if shift is None:
            shift = this
        elif shift != this:
            return None
    return shift or ("", "")


def _build(
    hunk_lines: list[_Line], mapping: dict[int, int], file_lines: list[str], shift: tuple[str, str]
) -> Located | None:
    add, remove = shift
    new_lines: list[str] = []
    from_file: list[int | None] = []
    mapped = sorted(mapping.values())
    start, end = mapped[0], mapped[-1] + 1
    cursor = start
    prev_op = None
    for i, (op, text) in enumerate(hunk_lines):
        if op == "+":
            if text.strip():
                if remove:
                    if not text.startswith(remove):
                        return None  # the added line is less indented than the shift: cannot re-indent safely
                    text = text[len(remove):]
                text = add + text
            new_lines.append(text)
            from_file.append(None)
            continue
        if i not in mapping:
            continue  # a blank or elision line of the patch; the file's own lines are kept
        f = mapping[i]
        gap = range(cursor, f)
        drop_gap = prev_op == "-" and op == "-" and all(not file_lines[g].strip() for g in gap)
        if not drop_gap:
            for g in gap:
                new_lines.append(file_lines[g])
                from_file.append(g)
        if op == " ":
            new_lines.append(file_lines[f])
            from_file.append(f)
        cursor = f + 1
        prev_op = op
    return Located(start, end, new_lines, from_file)


def _choose(starts: list[int], hint: int | None) -> tuple[int | None, str]:
    """Index into ``starts`` of the one place to use, or None with the reason."""
    if len(starts) == 1:
        return 0, ""
    if hint is None:
        return None, f"context matches {len(starts)} places (lines {', '.join(str(s + 1) for s in starts[:6])}) and the hunk has no line number to choose"
    by_distance = sorted(range(len(starts)), key=lambda k: abs(starts[k] - hint))
    d0, d1 = abs(starts[by_distance[0]] - hint), abs(starts[by_distance[1]] - hint)
    if 2 * d0 < d1:
        return by_distance[0], ""
    return None, (
        f"context matches {len(starts)} places (lines {', '.join(str(s + 1) for s in starts[:6])}) "
        f"and line {hint + 1} from the header does not clearly pick one"
    )


class FileIndex:
    """Lookups over one file's lines, shared by its hunks; the costly ones built on first use."""

    def __init__(self, file_lines: list[str]) -> None:
        self.rkeys = [line.rstrip() for line in file_lines]

    @cached_property
    def indents(self) -> set[str]:
        """The indentation strings the file's non-blank lines use."""
        return {_indent(k) for k in self.rkeys if k}

    @cached_property
    def indent_unit(self) -> int:
        """The file's indentation step in spaces (the most common increase between lines); 0 if none."""
        steps: dict[int, int] = {}
        prev: int | None = None
        for key in self.rkeys:
            if not key:
                continue
            ind = _indent(key)
            width = len(ind) if "\t" not in ind else None
            if prev is not None and width is not None and width > prev:
                steps[width - prev] = steps.get(width - prev, 0) + 1
            prev = width
        return max(steps, key=lambda w: (steps[w], -w)) if steps else 0

    def fits_indent(self, indent: str) -> bool:
        """Whether a line with this indentation belongs to the file's indentation style."""
        if not indent or "\t" in indent or self.indent_unit < 2:
            return indent in self.indents or not indent
        return len(indent) % self.indent_unit == 0

    @cached_property
    def stripped(self) -> set[str]:
        return {k.strip() for k in self.rkeys}

    @cached_property
    def index(self) -> dict[str, list[int]]:
        """Stripped line -> file line numbers."""
        index: dict[str, list[int]] = {}
        for n, key in enumerate(self.rkeys):
            index.setdefault(key.strip(), []).append(n)
        return index

    @cached_property
    def nonblank(self) -> list[int]:
        """File line numbers of the non-blank lines."""
        return [n for n, key in enumerate(self.rkeys) if key]

    @cached_property
    def nb_index(self) -> dict[str, list[int]]:
        """Stripped line -> positions in ``nonblank``."""
        nb_index: dict[str, list[int]] = {}
        for pos, n in enumerate(self.nonblank):
            nb_index.setdefault(self.rkeys[n].strip(), []).append(pos)
        return nb_index


def locate_hunk(hunk: Hunk, file_lines: list[str], file_index: FileIndex | None = None) -> Located | NotLocated:
    """Place ``hunk`` in ``file_lines`` (contents without line endings)."""
    fi = file_index or FileIndex(file_lines)
    hint = hunk.old_start - 1 if hunk.old_start else None
    searched = "\n".join(t for op, t in hunk.lines if op != "+")
    ambiguous: NotLocated | None = None
    undecided: list[str] = []

    elided_removal = False
    for hunk_lines in _interpretations(hunk, fi, undecided):
        # Exact matching reads "..." literally (it is real code in Python stubs); only the
        # flexible match treats it as an elision.
        literal = [(" " if op == "." else op, t) for op, t in hunk_lines]
        before = [(i, t) for i, (op, t) in enumerate(literal) if op in (" ", "-")]
        if not any(t.strip() for _, t in before):
            added = [t for op, t in hunk_lines if op == "+"]
            blank_file = not any(l.strip() for l in file_lines)
            if not before and hunk.old_count == 0 and hunk.old_start is not None and (
                    hunk.old_start == 0 or (blank_file and hunk.old_start <= len(file_lines))):
                # "-N,0" inserts after line N: before the first line, or where nothing can have moved.
                at = hunk.old_start
                return Located(at, at, added, [None] * len(added))
            if not before and blank_file:
                return Located(0, len(file_lines), added, [None] * len(added))
            return NotLocated("the hunk has no context or removed lines to locate it by", searched)

        found = _exact_candidates([t for _, t in before], fi.rkeys)
        if found:
            lines_used = literal
            candidates = [{i: f for (i, _), f in zip(before, c)} for c in found]
        elif any(op == "-" and t.strip() and _is_elision(t) for op, t in hunk_lines):
            # "..." among removed lines cannot stand for lines to remove; it may be real code
            # (a stub's body): match it literally, with blank lines and indentation free.
            lines_used = literal
            candidates = _flexible_candidates(literal, file_lines, fi.nonblank, fi.nb_index)
            if not candidates:
                elided_removal = True
                continue
        else:
            lines_used = hunk_lines
            candidates = _flexible_candidates(hunk_lines, file_lines, fi.nonblank, fi.nb_index)
        placed: list[tuple[Located, int]] = []
        for mapping in candidates:
            shift = ("", "") if found else _indent_shift(lines_used, mapping, file_lines)
            built = _build(lines_used, mapping, file_lines, shift) if shift is not None else None
            if built is not None:
                placed.append((built, built.start))
        if not placed:
            continue
        choice, why = _choose([p[1] for p in placed], hint)
        if choice is None:
            ambiguous = ambiguous or NotLocated(why, searched)
            break
        best = placed[choice][0]
        if found and hint is not None and best.start != hint:
            rival = _looser_rival(hunk_lines, file_lines, fi, {p[1] for p in placed}, hint, abs(best.start - hint))
            if rival is not None:
                return NotLocated(
                    f"context matches exactly at line {best.start + 1} but, with other indentation or blank "
                    f"lines, also at line {rival + 1}, nearer line {hint + 1} from the header", searched)
        return best

    if elided_removal and ambiguous is None:
        return NotLocated("an elision ('...') among removed lines does not say which lines to remove", searched)
    if ambiguous is not None:
        return ambiguous
    if undecided:
        return NotLocated(
            f"the line {undecided[0].strip()!r} is not in the file: it may be an added line whose '+' was lost "
            "or became a space, but its indentation does not say which; mark added lines with '+'", searched)
    closest, line_no = _closest(searched.split("\n"), file_lines, fi.index)
    return NotLocated("context and removed lines not found in the file", searched, closest, line_no)


def _looser_rival(hunk_lines: list[_Line], file_lines: list[str], fi: FileIndex, exact_starts: set[int],
                  hint: int, distance: int) -> int | None:
    """A flexible-only match nearer the header's line than the exact one: the same code at another
    indentation, where the model's line numbers point. Then the exact match is not trustworthy."""
    for mapping in _flexible_candidates(hunk_lines, file_lines, fi.nonblank, fi.nb_index):
        start = min(mapping.values())
        if start not in exact_starts and abs(start - hint) < distance and _indent_shift(hunk_lines, mapping, file_lines):
            return start
    return None


def _closest(wanted: list[str], file_lines: list[str], index: dict[str, list[int]]) -> tuple[str, int | None]:
    """The file window that shares the most lines with ``wanted``, and its 1-based line number."""
    votes: dict[int, int] = {}
    for k, line in enumerate(wanted):
        key = line.strip()
        if not key:
            continue
        for pos in index.get(key, [])[:200]:
            votes[pos - k] = votes.get(pos - k, 0) + 1
    if votes:
        start = max(0, max(votes, key=lambda s: (votes[s], -s)))
    else:
        # No line matches outright: find the file line most like the hunk's longest line, cheaply
        # pre-filtering by shared words before difflib's ratio (refusals of big files stay fast).
        probe = max(wanted, key=lambda w: len(w.strip()))
        words = set(_WORD.findall(probe))
        shared = sorted(((len(words & set(_WORD.findall(line))), n) for n, line in enumerate(file_lines)), reverse=True)
        best = max(((difflib.SequenceMatcher(None, probe.strip(), file_lines[n].strip()).ratio(), -n)
                    for score, n in shared[:20] if score), default=(0.0, 0))
        if best[0] < 0.5:
            return "", None
        start = max(0, -best[1] - wanted.index(probe))
    window = file_lines[start : start + max(1, len(wanted))]
    return "\n".join(window), start + 1


def already_in_file(hunk: Hunk, fi: FileIndex, located: Located | None) -> int | None:
    """The 0-based line where the hunk's result already stands, or None.

    The result (context and added lines, blank lines and indentation aside) standing where the
    hunk's old side matched (an insertion whose context is still there) — or anywhere, when its
    old side matches nowhere — means the hunk was applied before: applying it again would add
    its lines twice.
    """
    before = [t.strip() for op, t in hunk.lines if op in (" ", "-", "?") and t.strip()]
    after = [t.strip() for op, t in hunk.lines if op in (" ", "+", "?") and t.strip()]
    if not after or after == before or any(_is_elision(t) for t in after):
        return None
    if located is not None and any(op == "-" and t.strip() for op, t in hunk.lines):
        return None  # the lines it removes are still there: not applied yet
    if not any(op in (" ", "?") and t.strip() for op, t in hunk.lines):
        return None  # no context: nothing ties the added lines to one place
    nonblank, keys = fi.nonblank, fi.rkeys
    ops = [op for op, _ in hunk.lines]
    if located is not None and set(ops) <= {" ", "-", "+"} and "+" in ops and " " in ops[:ops.index("+")] \
            and " " in ops[len(ops) - ops[::-1].index("+"):]:
        # Added lines inside context: once applied, the old side no longer stands there contiguously.
        # Where it still does, exactly, the hunk is not applied yet (a duplication only looks applied).
        old_side = [t.rstrip() for op, t in hunk.lines if op in (" ", "-")]
        if keys[located.start:located.end] == old_side:
            return None
    # Where the first context line sits in the result: once applied, it stands there in the file.
    result_ops = [op for op, t in hunk.lines if op in (" ", "+", "?") and t.strip()]
    lead = next(i for i, op in enumerate(result_ops) if op in (" ", "?"))
    anchor = None
    if located is not None:
        anchor = next((f for f in located.from_file if f is not None and keys[f].strip()), None)
    found: list[int] = []
    for p in fi.nb_index.get(after[0], []):
        if p + len(after) > len(nonblank):
            break
        if all(keys[nonblank[p + k]].strip() == want for k, want in enumerate(after)):
            start = nonblank[p]
            # Applied where its context was located: that context is the result's own, not
            # a neighbouring copy of the same lines (repetitive code only looks applied).
            if located is not None and anchor is not None and nonblank[p + lead] == anchor:
                return start
            found.append(start)
    # Matching nowhere as it was, the hunk counts as applied only if its result stands in one place.
    return found[0] if located is None and len(found) == 1 else None
