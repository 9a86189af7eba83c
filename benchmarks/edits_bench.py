"""Edits benchmark: our engine next to `git apply --ignore-whitespace` and GNU `patch --forward`
(at its default fuzz, 2) on the same corpus of model-style patches, in the same run.

    python benchmarks/edits_bench.py [--per-class 100] [--seed 1] [--only CLASS] [--show-failures]

Each peer gets its best honest invocation per patch: git apply tries -p1, -p1 --recount, -p0,
-p0 --recount (the first that `--check` accepts is applied); patch tries -p1 then -p0 (the
first that `--dry-run` accepts). --forward keeps patch from reversing a patch it finds already
applied (its --batch default). Whole-file answers are no diff: for the peers they are scored
"not a diff" and left out of their totals; ours are shown with and without them.

Per class and tool: applied correctly / refused / WRONG (claimed success with a wrong result,
or any file changed on a refusal). For must-refuse classes "refused" is the right answer.
Times are per patch, like for like: every tool as a process — ours is `codegen apply
--allow-config-edits` (the in-process call's answer: no sensitive-file refusal), the peers' the
one invocation that decided (the --check/--dry-run probes that chose it are not counted) —
process start included on every side. Ours in-process (plan + atomic write under the writer
lock, journal included) is printed apart, never against the peers' process times. The verdicts
are the in-process run's; the process run is judged too, and any verdict that differs is printed.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edits_corpus import MUST_REFUSE, NOT_A_DIFF, RECOVERABLE, Case, build  # noqa: E402

from codegen_server.edits import EditError, plan_patch, write_changes  # noqa: E402

TOOLS = ["codegen", "git apply", "patch"]
#: The conditions each figure was measured under, printed next to them.
CONDITIONS = ("times: each tool as a fresh process per patch (python -m codegen_server.cli apply; git apply; "
              "patch), process start included; codegen in-process shown apart. patch at its default fuzz (2), "
              "--forward --batch; git apply --ignore-whitespace; each peer's first -p variant its own probe accepts.")


def _materialize(root: Path, case: Case) -> None:
    for name, text in case.before.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _snapshot(root: Path, names: set[str]) -> dict[str, str | None]:
    return {n: (root / n).read_text(encoding="utf-8") if (root / n).is_file() else None for n in names}


def _run_ours(root: Path, answer: str) -> bool:
    try:
        result = plan_patch(answer, root)
    except EditError:
        return False
    if result.failures or not result.changes:
        return False
    write_changes(root, result.changes)
    return True


GIT_VARIANTS = [["-p1"], ["-p1", "--recount"], ["-p0"], ["-p0", "--recount"]]
PATCH_VARIANTS = [["-p1"], ["-p0"]]
PATCH_BASE = ["patch", "--forward", "--batch", "--no-backup-if-mismatch", "-r", "-", "-s"]  # fuzz: its default, 2
CODEGEN_CLI = [sys.executable, "-m", "codegen_server.cli", "apply", "--allow-config-edits"]


def _first_accepted(probe: list[str], run: list[str], variants: list[list[str]], file_args: list[str],
                    root: Path) -> tuple[bool, float, str]:
    """Apply with the first variant the dry probe accepts: (applied, seconds of the deciding run, variant).

    When no variant is accepted, the deciding run is the first probe (what a user runs first).
    """
    first_probe = 0.0
    for n, variant in enumerate(variants):
        start = time.perf_counter()
        check = subprocess.run([*probe, *variant, *file_args], cwd=root, capture_output=True)
        if n == 0:
            first_probe = time.perf_counter() - start
        if check.returncode == 0:
            start = time.perf_counter()
            proc = subprocess.run([*run, *variant, *file_args], cwd=root, capture_output=True)
            return proc.returncode == 0, time.perf_counter() - start, " ".join(variant)
    return False, first_probe, "none"


def _run_git(root: Path, patch_file: Path) -> tuple[bool, float, str]:
    return _first_accepted(["git", "apply", "--check", "--ignore-whitespace"], ["git", "apply", "--ignore-whitespace"],
                           GIT_VARIANTS, [str(patch_file)], root)


def _run_patch(root: Path, patch_file: Path) -> tuple[bool, float, str]:
    return _first_accepted([*PATCH_BASE, "--dry-run"], PATCH_BASE, PATCH_VARIANTS, ["-i", str(patch_file)], root)


def _run_ours_as_a_process(root: Path, patch_file: Path) -> tuple[bool, float]:
    """`codegen apply` as a user runs it: (applied, seconds, process start included)."""
    start = time.perf_counter()
    proc = subprocess.run([*CODEGEN_CLI, "--root", str(root), str(patch_file)], cwd=root, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    return proc.returncode == 0, time.perf_counter() - start


def judge(case: Case, claimed: bool, before: dict[str, str | None], after: dict[str, str | None]) -> str:
    if case.expected is None:
        return "refused" if not claimed and after == before else "WRONG"
    if claimed:
        want = {n: case.expected.get(n, before.get(n)) for n in after}
        return "correct" if after == want else "WRONG"
    return "refused" if after == before else "WRONG"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--only", help="run one class")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed")
    ap.add_argument("--show-failures", action="store_true", help="print our non-correct cases")
    args = ap.parse_args()
    repo = Path(__file__).resolve().parents[1]
    t0 = time.perf_counter()
    cases = build(args.per_class, repo, seed=args.seed)
    if args.only:
        cases = [c for c in cases if c.klass == args.only]
    from_history = sum(1 for c in cases if c.name.split(":", 1)[1].startswith(("codegen_server/", "tests/", "benchmarks/")))
    print(f"corpus: {len(cases)} patches ({from_history} from this repository's history) in {time.perf_counter() - t0:.1f}s "
          f"({len(RECOVERABLE)} recoverable classes, {len(MUST_REFUSE)} must-refuse classes)")
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"correct": 0, "refused": 0, "WRONG": 0, "not a diff": 0})
    invocations: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    times: dict[str, list[float]] = defaultdict(list)
    runs = {"codegen": 0, "git apply": 0, "patch": 0}
    in_process: list[float] = []  # ours in-process, for its own line (the table's times are processes)
    differ: list[str] = []  # cases where `codegen apply` judged otherwise than the in-process call
    work = Path(tempfile.mkdtemp(prefix="edits-bench-"))
    try:
        for n, case in enumerate(cases):
            names = set(case.before) | set(case.expected or {})
            for tool in TOOLS:
                root = work / f"{n}-{tool.replace(' ', '_')}"
                root.mkdir()
                _materialize(root, case)
                patch_file = work / f"{n}.patch"
                patch_file.write_text(case.answer, encoding="utf-8")
                before = _snapshot(root, names)
                if tool == "codegen":
                    start = time.perf_counter()
                    claimed = _run_ours(root, case.answer)
                    in_process.append(time.perf_counter() - start)
                    twin = work / f"{n}-codegen-process"
                    twin.mkdir()
                    _materialize(twin, case)
                    process_claimed, seconds = _run_ours_as_a_process(twin, patch_file)
                    times[tool].append(seconds)
                    as_process = judge(case, process_claimed, before, _snapshot(twin, names))
                    shutil.rmtree(twin)
                else:
                    claimed, seconds, variant = (_run_git if tool == "git apply" else _run_patch)(root, patch_file)
                    times[tool].append(seconds)
                    if claimed:
                        invocations[tool][variant] += 1
                runs[tool] += 1
                after = _snapshot(root, names)
                verdict = judge(case, claimed, before, after)
                if tool != "codegen" and case.klass in NOT_A_DIFF:
                    verdict = "not a diff" if after == before else "WRONG"
                counts[(case.klass, tool)][verdict] += 1
                if tool == "codegen" and as_process != verdict:
                    differ.append(f"{case.name}: in-process {verdict}, as a process {as_process}")
                if args.show_failures and tool == "codegen" and (verdict == "WRONG" or (verdict == "refused" and case.expected is not None)):
                    print(f"--- {verdict}: {case.name}\n{case.answer[:1500]}")
                    if verdict == "WRONG" and case.expected:
                        for name in names:
                            got, want = after.get(name) or "", case.expected.get(name) or ""
                            print("".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "expected", "got")))
                    if verdict == "refused":
                        try:
                            from codegen_server.edits import format_failures
                            fresh = work / f"{n}-again"
                            fresh.mkdir()
                            _materialize(fresh, case)
                            print(format_failures(plan_patch(case.answer, fresh).failures)[:1500])
                        except EditError as error:
                            print("EditError:", error)
                shutil.rmtree(root)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    classes = [k for k in RECOVERABLE + MUST_REFUSE if any(c.klass == k for c in cases)]
    header = f"{'class':26} {'n':>4} | " + " | ".join(f"{t:^22}" for t in TOOLS)
    print(header)
    print(f"{'':26} {'':>4} | " + " | ".join(f"{'ok':>6} {'refused':>7} {'WRONG':>6}" for _ in TOOLS))
    print("-" * len(header))
    keys = ("rec_ok", "rec_n", "ref_ok", "ref_n", "wrong")
    totals = {t: dict.fromkeys(keys, 0) for t in TOOLS}
    diff_only = {t: dict.fromkeys(keys, 0) for t in TOOLS}  # like for like: answers that are diffs
    for k in classes:
        n = sum(1 for c in cases if c.klass == k)
        row = []
        for t in TOOLS:
            c = counts[(k, t)]
            if c["not a diff"] == n:
                row.append(f"{'not a diff':>21} ")
                continue
            row.append(f"{c['correct']:>6} {c['refused']:>7} {c['WRONG']:>6}")
            for tot in (totals[t], *([diff_only[t]] if k not in NOT_A_DIFF else [])):
                tot["wrong"] += c["WRONG"]
                if k in MUST_REFUSE:
                    tot["ref_ok"] += c["refused"]
                    tot["ref_n"] += n
                else:
                    tot["rec_ok"] += c["correct"]
                    tot["rec_n"] += n
        mark = " (must refuse)" if k in MUST_REFUSE else " (not a diff)" if k in NOT_A_DIFF else ""
        print(f"{k + mark:26.26} {n:>4} | " + " | ".join(row))
    print("-" * len(header))

    def line(label: str, tot: dict[str, int], t: str) -> None:
        rec = 100 * tot["rec_ok"] / max(1, tot["rec_n"])
        ref = 100 * tot["ref_ok"] / max(1, tot["ref_n"])
        mean = 1000 * sum(times[t]) / max(1, runs[t])
        median = 1000 * statistics.median(times[t]) if times[t] else 0.0
        print(f"{label:26} recoverable applied correctly {rec:6.2f}% ({tot['rec_ok']}/{tot['rec_n']})  "
              f"must-refuse refused {ref:6.2f}% ({tot['ref_ok']}/{tot['ref_n']})  WRONG {tot['wrong']:4}  "
              f"time/patch mean {mean:5.2f} ms, median {median:5.2f} ms")

    print(CONDITIONS)
    line("codegen (all answers)", totals["codegen"], "codegen")
    for t in TOOLS:
        line(f"{t} (diff answers)", diff_only[t], t)
    for t in TOOLS[1:]:
        used = ", ".join(f"{v}: {n}" for v, n in sorted(invocations[t].items(), key=lambda kv: -kv[1]))
        print(f"{t} applied with: {used}")
    print(f"codegen in-process (not comparable with the process times above): time/patch mean "
          f"{1000 * statistics.fmean(in_process) if in_process else 0.0:5.2f} ms, median "
          f"{1000 * statistics.median(in_process) if in_process else 0.0:5.2f} ms")
    print(f"codegen apply as a process judged otherwise than in-process: {len(differ)}", *differ[:10], sep="\n  ")
    print(f"total run {time.perf_counter() - t0:.1f}s")
    ours = totals["codegen"]
    met = (ours["rec_ok"] >= 0.99 * ours["rec_n"] and ours["ref_ok"] == ours["ref_n"] and ours["wrong"] == 0)
    print("targets (>=99% recoverable, 100% refused, 0 WRONG):", "MET" if met else "NOT MET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
