"""A corpus of model-style patches on real code, one class per kind of damage models do.

Source texts are real: Python files of third-party packages installed from PyPI into this venv
(unidiff, pygls, lsprotocol, openai, hypothesis, ...) and file versions from this repository's
git history. Each case holds the files before, the answer text a model might write, and the
expected files after (None for a must-refuse case: nothing may change).
"""

from __future__ import annotations

import difflib
import importlib.util
import random
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ["unidiff", "pygls", "lsprotocol", "openai", "hypothesis", "httpx", "attrs", "cattrs", "pytest", "_pytest"]

RECOVERABLE = [
    "clean", "wrong_line_numbers", "no_line_numbers", "missing_hunk_header", "wrong_counts",
    "trailing_whitespace", "blank_lines", "hunks_out_of_order", "little_context", "lost_plus",
    "plus_became_space", "indent_shift", "elision", "fenced_with_prose", "whole_file", "multi_file", "new_file",
    "combined",
]
# "already_applied": the patch is re-applied to the file it already changed; the right answer
# writes nothing (git apply and patch --forward refuse it; doubling its lines is WRONG).
MUST_REFUSE = ["stale_context", "unlocatable_context", "ambiguous_context", "excerpt_as_whole_file", "already_applied"]
#: Answers that are no diff at all (whole files): scored for the diff tools as "not a diff".
NOT_A_DIFF = ["whole_file", "excerpt_as_whole_file"]


@dataclass
class Case:
    klass: str
    name: str
    before: dict[str, str]  # path -> text
    answer: str
    expected: dict[str, str | None] | None  # path -> text after (None: deleted); None: must refuse


def source_files(limit: int = 400) -> list[tuple[str, str]]:
    """(relative name, text) of real Python sources, 40..1500 lines, LF-only, ending in a newline."""
    found: list[tuple[str, str]] = []
    for pkg in PACKAGES:
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            continue
        base = Path(list(spec.submodule_search_locations)[0])
        for path in sorted(base.rglob("*.py")):
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            n = text.count("\n")
            if 40 <= n <= 1500 and text.endswith("\n") and "\r" not in text and "\x0c" not in text:
                found.append((f"{pkg}/{path.relative_to(base).as_posix()}", text))
    rng = random.Random(7)
    rng.shuffle(found)
    return found[:limit]


def history_pairs(repo: Path, limit: int = 60) -> list[tuple[str, str, str]]:
    """(path, old, new) for .py files changed by this repository's commits."""
    try:
        log = subprocess.run(["git", "-C", str(repo), "log", "--format=%H", "-n", "200"],
                             capture_output=True, text=True, check=True).stdout.split()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return []
    pairs: list[tuple[str, str, str]] = []
    for commit in log:
        names = subprocess.run(["git", "-C", str(repo), "diff", "--name-only", "--diff-filter=M", f"{commit}~1", commit],
                               capture_output=True, text=True).stdout.split()
        for name in names:
            if not name.endswith(".py"):
                continue
            old = subprocess.run(["git", "-C", str(repo), "show", f"{commit}~1:{name}"], capture_output=True, text=True).stdout
            new = subprocess.run(["git", "-C", str(repo), "show", f"{commit}:{name}"], capture_output=True, text=True).stdout
            if old.endswith("\n") and new.endswith("\n") and "\r" not in old + new and old != new:
                pairs.append((name, old, new))
        if len(pairs) >= limit:
            break
    return pairs[:limit]


# ---------------------------------------------------------------- realistic edits

def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def make_edit(text: str, rng: random.Random, sites: int) -> str | None:
    """A plausible code change at ``sites`` well-separated places (rename, insert, delete)."""
    lines = text.split("\n")[:-1]
    code = [i for i, l in enumerate(lines) if l.strip() and not l.strip().startswith(("#", '"', "'", "@"))]
    if len(code) < 20:
        return None
    chosen: list[int] = []
    for _ in range(40):
        i = rng.choice(code[2:-2])
        if all(abs(i - j) > 14 for j in chosen):
            chosen.append(i)
        if len(chosen) == sites:
            break
    if len(chosen) < sites:
        return None
    for i in sorted(chosen, reverse=True):
        kind = rng.choice(["rename", "insert", "delete", "replace_block"])
        ind = _indent(lines[i])
        if kind == "rename":
            words = re.findall(r"\b[A-Za-z_][A-Za-z0-9_]{2,}\b", lines[i])
            if not words:
                kind = "insert"
            else:
                w = rng.choice(words)
                lines[i] = lines[i].replace(w, w + "_v2", 1)
        if kind == "insert":
            n = rng.randint(1, 3)
            tag = rng.randint(1000, 9999)
            lines[i + 1 : i + 1] = [f"{ind}_trace({tag}, step={k})  # added" for k in range(n)]
        elif kind == "delete":
            del lines[i : i + rng.randint(1, 2)]
        elif kind == "replace_block":
            tag = rng.randint(1000, 9999)
            lines[i : i + 2] = [f"{ind}value_{tag} = compute({tag})", f"{ind}check(value_{tag})"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- patches as structures

@dataclass
class Patch:
    old: str
    new: str
    hunks: list[tuple[str, list[str]]]  # header, body lines ("+x", "-y", " z")

    def render(self, prefix: bool = True) -> str:
        a, b = ("a/", "b/") if prefix else ("", "")
        out = [f"--- {a}{self.old}", f"+++ {b}{self.new}"]
        for header, body in self.hunks:
            if header:
                out.append(header)
            out += body
        return "\n".join(out) + "\n"


def make_patch(path: str, old: str, new: str, context: int = 3) -> Patch:
    diff = list(difflib.unified_diff(old.split("\n")[:-1], new.split("\n")[:-1], lineterm="", n=context))
    hunks: list[tuple[str, list[str]]] = []
    for line in diff[2:]:
        if line.startswith("@@"):
            hunks.append((line, []))
        else:
            hunks[-1][1].append(line)
    return Patch(path, path, hunks)


def before_text(body: list[str]) -> list[str]:
    return [l[1:] for l in body if l[:1] in (" ", "-")]


def occurrences(needle: list[str], hay: list[str]) -> int:
    n = len(needle)
    return sum(1 for i in range(len(hay) - n + 1) if hay[i : i + n] == needle) if n else 0


# ---------------------------------------------------------------- damage, one function per class

_HDR = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _damaged(klass: str, p: Patch, rng: random.Random, old_text: str) -> Patch | None:
    hunks = p.hunks
    if klass in ("clean", "little_context"):
        return p
    if klass == "wrong_line_numbers":
        shift = rng.choice([-1, 1]) * rng.randint(3, 40)

        def move(h: str) -> str:
            m = _HDR.match(h)
            assert m
            a, b = max(1, int(m.group(1)) + shift), max(1, int(m.group(3)) + shift)
            return f"@@ -{a},{m.group(2) or 1} +{b},{m.group(4) or 1} @@"
        return Patch(p.old, p.new, [(move(h), b) for h, b in hunks])
    if klass == "no_line_numbers":
        return Patch(p.old, p.new, [("@@ ... @@", b) for _, b in hunks])
    if klass == "missing_hunk_header":
        if len(hunks) != 1:
            return None
        return Patch(p.old, p.new, [("", hunks[0][1])])
    if klass == "wrong_counts":
        def recount(h: str) -> str:
            m = _HDR.match(h)
            assert m
            return f"@@ -{m.group(1)},{rng.randint(1, 30)} +{m.group(3)},{rng.randint(1, 30)} @@"
        return Patch(p.old, p.new, [(recount(h), b) for h, b in hunks])
    if klass == "trailing_whitespace":
        def ws(body: list[str]) -> list[str]:
            return [l + "  " if l.startswith(" ") and rng.random() < 0.5 else l.rstrip() if l.startswith(" ") else l for l in body]
        return Patch(p.old, p.new, [(h, ws(b)) for h, b in hunks])
    if klass == "blank_lines":
        out = []
        changed = False
        for h, b in hunks:
            b = list(b)
            blanks = [i for i, l in enumerate(b) if l == " "]
            if blanks:
                del b[rng.choice(blanks)]  # the model dropped a blank context line
                changed = True
            else:
                ctx = [i for i, l in enumerate(b) if l.startswith(" ") and 0 < i < len(b) - 1]
                if ctx:
                    b.insert(rng.choice(ctx), "")  # the model added one, without even the space
                    changed = True
            out.append((h, b))
        return Patch(p.old, p.new, out) if changed else None
    if klass == "hunks_out_of_order":
        if len(hunks) < 2:
            return None
        return Patch(p.old, p.new, list(reversed(hunks)))
    if klass in ("lost_plus", "plus_became_space"):
        # An added line in the middle of a hunk lost its "+" (the line now reads as context one
        # column short) or had it turned into a space (context with the right indentation).
        old_keys = {l.strip() for l in old_text.split("\n")}
        out = []
        done = False
        for h, b in hunks:
            b = list(b)
            if not done:
                cand = [i for i, l in enumerate(b) if l.startswith("+") and 0 < i < len(b) - 1
                        and l[1:].strip() and l[1:].strip() not in old_keys]
                if cand:
                    i = rng.choice(cand)
                    b[i] = b[i][1:] if klass == "lost_plus" else " " + b[i][1:]
                    done = True
            out.append((h, b))
        return Patch(p.old, p.new, out) if done else None
    if klass == "indent_shift":
        out = []
        for h, b in hunks:
            nonblank = [l[1:] for l in b if l[1:].strip()]
            least = min(len(_indent(l)) for l in nonblank) if nonblank else 0
            if least >= 4 and rng.random() < 0.5:
                b = [l[0] + l[5:] if l[1:].strip() else l for l in b]
            else:
                b = [l[0] + "    " + l[1:] if l[1:].strip() else l for l in b]
            out.append((h, b))
        return Patch(p.old, p.new, out)
    if klass == "elision":
        out = []
        done = False
        for h, b in hunks:
            lead = 0
            while lead < len(b) and b[lead].startswith(" "):
                lead += 1
            if not done and lead >= 6:
                ind = _indent(b[lead - 1][1:])
                b = [b[0], f" {ind}...", *b[lead - 2 :]]
                done = True
            out.append((h, b))
        return Patch(p.old, p.new, out) if done else None
    raise ValueError(klass)


COMBINABLE = ["no_line_numbers", "wrong_line_numbers", "trailing_whitespace", "blank_lines", "lost_plus",
              "indent_shift", "hunks_out_of_order"]


COMBINABLE_ORDER = ["trailing_whitespace", "blank_lines", "indent_shift", "lost_plus", "hunks_out_of_order",
                    "no_line_numbers", "wrong_line_numbers"]


def _fenced(text: str) -> str:
    return ("I found the problem. Here is the fix:\n\n```diff\n" + text
            + "```\n\nThis keeps the behaviour the same for existing callers.\n")


def damage(klass: str, p: Patch, rng: random.Random, old_text: str) -> str | None:
    """The answer text for ``klass``; None when this patch cannot carry that damage."""
    if klass == "fenced_with_prose":
        return _fenced(p.render(prefix=False))
    if klass == "combined":
        # Several kinds at once, as real answers have them: 2-3 damages, then maybe a fence.
        kinds = rng.sample([k for k in COMBINABLE if k != "hunks_out_of_order" or len(p.hunks) > 1], rng.randint(2, 3))
        if "no_line_numbers" in kinds and "wrong_line_numbers" in kinds:
            kinds.remove("wrong_line_numbers")
        # In the order a model's slips would compound (whitespace noise before a "+" is lost,
        # headers last since they are rewritten whole).
        kinds.sort(key=COMBINABLE_ORDER.index)
        q: Patch | None = p
        for kind in kinds:
            q = _damaged(kind, q, rng, old_text) if q is not None else None
        if q is None:
            return None
        return _fenced(q.render(prefix=False)) if rng.random() < 0.5 else q.render()
    q = _damaged(klass, p, rng, old_text)
    return None if q is None else q.render()





# ---------------------------------------------------------------- building the corpus

def build(per_class: int, repo: Path, seed: int = 1) -> list[Case]:
    rng = random.Random(seed)
    files = source_files()
    pairs = history_pairs(repo)
    cases: list[Case] = []
    for klass in RECOVERABLE + MUST_REFUSE:
        made = 0
        attempts = 0
        while made < per_class and attempts < per_class * 40:
            attempts += 1
            case = _make_case(klass, rng, files, pairs, made)
            if case is not None:
                cases.append(case)
                made += 1
    return cases


def _unique_hunks(p: Patch, old: str) -> bool:
    hay = old.split("\n")[:-1]
    return all(occurrences(before_text(b), hay) == 1 for _, b in p.hunks)


def _make_case(klass: str, rng: random.Random, files: list[tuple[str, str]],
               pairs: list[tuple[str, str, str]], n: int) -> Case | None:
    name, old = rng.choice(files)
    # Part of the corpus comes from real commits of this repository (clean and line-number classes).
    use_history = pairs and klass in ("clean", "wrong_line_numbers", "no_line_numbers", "wrong_counts") and n % 3 == 0
    if use_history:
        name, old, new = rng.choice(pairs)
    else:
        sites = 2 if klass in ("hunks_out_of_order",) else 1 if klass == "missing_hunk_header" else rng.randint(1, 3)
        new = make_edit(old, rng, sites)
        if new is None or new == old:
            return None
    label = f"{klass}:{name}"
    if klass == "excerpt_as_whole_file":
        # "Here is the updated function" under a path line: writing it whole would truncate the file.
        lines = new.split("\n")[:-1]
        if sum(1 for l in lines if l.strip()) < 40:
            return None
        k = rng.randrange(5, len(lines) - 30)
        excerpt = "\n".join(lines[k : k + rng.randint(8, 25)]) + "\n"
        return Case(klass, label, {name: old}, f"Here is the updated code.\n\n{name}\n```python\n{excerpt}```\n", None)
    if klass == "whole_file":
        if old.count("\n") > 150:
            return None
        return Case(klass, label, {name: old}, f"Here is the updated file.\n\n`{name}`\n```python\n{new}```\n", {name: new})
    if klass == "new_file":
        p = Patch("/dev/null", name, [])
        body = new.split("\n")[:-1]
        answer = f"--- /dev/null\n+++ b/{name}\n@@ -0,0 +1,{len(body)} @@\n" + "".join(f"+{l}\n" for l in body)
        return Case(klass, label, {}, answer, {name: new})
    if klass == "multi_file":
        name2, old2 = rng.choice(files)
        new2 = make_edit(old2, rng, 1)
        if name2 == name or new2 is None:
            return None
        p1, p2 = make_patch(name, old, new), make_patch(name2, old2, new2)
        if not (_unique_hunks(p1, old) and _unique_hunks(p2, old2)):
            return None
        return Case(klass, label, {name: old, name2: old2}, p1.render() + p2.render(), {name: new, name2: new2})
    context = 1 if klass == "little_context" else 6 if klass == "elision" else 3
    p = make_patch(name, old, new, context)
    if not p.hunks or not _unique_hunks(p, old):
        return None
    if klass == "stale_context":
        return _stale(p, old, rng, label)
    if klass == "unlocatable_context":
        other_name, other = rng.choice(files)
        foreign = [l for l in other.split("\n") if l.strip()]
        if other_name == name or len(foreign) < 10:
            return None
        h, b = p.hunks[0]
        k = rng.randrange(0, len(foreign) - 8)
        ctx = iter(foreign[k:])
        b = [(" " + next(ctx)) if l.startswith(" ") else l for l in b]
        q = Patch(p.old, p.new, [(h, b), *p.hunks[1:]])
        # Foreign context must not occur here even loosely (sibling files share whole blocks).
        loose = [l.strip() for l in before_text(b) if l.strip()]
        if occurrences(loose, [l.strip() for l in old.split("\n") if l.strip()]):
            return None
        return Case(klass, label, {name: old}, q.render(), None)
    if klass == "ambiguous_context":
        return _ambiguous(name, old, rng, label)
    if klass == "already_applied":
        # The model (or the user) sends the same patch again: the file already holds its result.
        return Case(klass, label, {name: new}, p.render(), None)
    answer = damage(klass, p, rng, old)
    if answer is None:
        return None
    return Case(klass, label, {name: old}, answer, {name: new})


def _stale(p: Patch, old: str, rng: random.Random, label: str) -> Case | None:
    """The file moved on since the model read it: one line the hunk relies on now differs."""
    lines = old.split("\n")[:-1]
    h, b = p.hunks[0]
    m = _HDR.match(h)
    assert m
    start = int(m.group(1)) - 1
    rel = [k for k, l in enumerate(before_text(b)) if l.strip() and not l.strip().startswith("#")]
    if not rel:
        return None
    k = rng.choice(rel)
    words = re.findall(r"\b[A-Za-z_][A-Za-z0-9_]{2,}\b", lines[start + k])
    if not words:
        return None
    w = rng.choice(words)
    lines[start + k] = lines[start + k].replace(w, w + "_local", 1)
    stale = "\n".join(lines) + "\n"
    return Case("stale_context", label, {p.old: stale}, p.render(), None)


def _ambiguous(name: str, old: str, rng: random.Random, label: str) -> Case | None:
    """The same block appears twice and the model's hunk has no line numbers to choose."""
    lines = old.split("\n")[:-1]
    code = [i for i, l in enumerate(lines[:-12]) if l.strip()]
    if not code:
        return None
    i = rng.choice(code)
    block = lines[i : i + 11]
    if sum(1 for l in block if l.strip()) < 8:
        return None
    doubled = lines + [""] + block
    edited = list(doubled)
    edited[i + 5] = edited[i + 5] + "  # edited"
    a = "\n".join(doubled) + "\n"
    b = "\n".join(edited) + "\n"
    p = make_patch(name, a, b)
    p = Patch(p.old, p.new, [("@@ ... @@", body) for _, body in p.hunks])
    if occurrences(before_text(p.hunks[0][1]), doubled) < 2:
        return None
    return Case("ambiguous_context", label, {name: a}, p.render(), None)
