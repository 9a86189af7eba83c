"""Bug-locus benchmark: does the model's first request hold the code it has to change?

    .venv/bin/python benchmarks/locus_bench.py                 # run the committed corpus
    .venv/bin/python benchmarks/locus_bench.py --make-corpus   # rebuild benchmarks/locus_cases.json

The corpus: single-line slips (a flipped comparison, an off-by-one, and/or, a dropped `not`, a
wrong index) injected inside function bodies of real libraries from their PyPI sdists (pinned
versions, downloaded with pip into benchmarks/.cache), kept only when the library's own tests
catch them. The cases are recorded in benchmarks/locus_cases.json.

For each case, `codegen fix --max-iterations 1` runs on the failing test module against a
scripted model server, and the FIRST request the server receives is scored: is the mutated line
in it, and how many tokens is it. Then `codegen feedback` with a comment on the mutated line:
is the whole enclosing function in the request, and a test that calls it. The baseline is the
same run with codegen's code as of BASELINE_REVISION (before the focused fix and feedback
context), extracted with `git archive`, in the same run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from codegen_server.context.shown import shown_whole  # noqa: E402
from codegen_server.context.tokens import count_tokens  # noqa: E402
from codegen_server.model.scripted_server import ScriptedModelServer, ScriptStep  # noqa: E402

CACHE = REPO / "benchmarks" / ".cache" / "locus"
CASES_FILE = REPO / "benchmarks" / "locus_cases.json"
#: codegen before the focused fix/feedback context (the last commit before it).
BASELINE_REVISION = "6d5978d3a0dcf7e0ca2b6f93677ed3fc1f5b9e7f"
COMMENT = "this returns the wrong value for the last item"
TOKEN_LIMIT = 8000


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    modules: tuple[str, ...]  # product files mutations go into, relative to the sdist root
    tests: str  # the tests folder


LIBRARIES = (
    Library("semver", "3.0.2", ("src/semver/version.py",), "tests"),
    Library("more-itertools", "10.5.0", ("more_itertools/recipes.py", "more_itertools/more.py"), "tests"),
)
CASES_PER_LIBRARY = 10


@dataclass
class Case:
    library: str
    file: str
    line: int  # 1-based
    original: str
    mutated: str
    test_module: str
    failing: int  # tests the slip makes fail in that module


# -- the corpus ---------------------------------------------------------------------------------

def sdist_root(library: Library) -> Path:
    """The unpacked sdist (downloaded with pip the first time)."""
    root = CACHE / f"{library.name}-{library.version}"
    if root.is_dir():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"{library.name}-{library.version}.tar.gz"
    if not archive.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(CACHE),
                        f"{library.name}=={library.version}"], check=True, capture_output=True)
        found = [p for p in CACHE.glob("*.tar.gz") if p.name.lower().replace("_", "-").startswith(f"{library.name}-{library.version}")]
        found[0].rename(archive)
    with tarfile.open(archive) as tar:
        top = tar.getnames()[0].split("/")[0]
        tar.extractall(CACHE, filter="data")
    (CACHE / top).rename(root)
    return root


def pytest_command(module: str) -> str:
    # -o addopts= drops the projects' coverage options (pytest-cov is not a codegen dependency).
    return f"{sys.executable} -m pytest -p no:cacheprovider -o addopts= {module}"


_SWAPS = [(" <= ", " < "), (" < ", " <= "), (" >= ", " > "), (" > ", " >= "), (" == ", " != "), (" != ", " == "),
          (" and ", " or "), (" or ", " and "), ("not ", ""), ("+ 1", "- 1"), ("- 1", "+ 1"),
          ("[0]", "[-1]"), ("[-1]", "[0]"), ("[1:]", "[2:]"), ("[:-1]", "[:-2]")]


def _body_lines(source: str) -> set[int]:
    """1-based lines inside function bodies, docstrings left out."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]
            for statement in body:
                lines |= set(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
    return lines


def _mutations(text: str) -> list[str]:
    stripped = text.strip()
    if not stripped or stripped.startswith(("#", '"', "'")):
        return []
    out = []
    for old, new in _SWAPS:
        at = text.find(old)
        if at != -1 and text[:at].count('"') % 2 == 0 and text[:at].count("'") % 2 == 0 and "#" not in text[:at]:
            if old == "not " and not re.search(r"(^|\s)not $", text[:at + 4]):
                continue
            out.append(text[:at] + new + text[at + len(old):])
    return out


def _failing_modules(root: Path, tests: str) -> dict[str, int]:
    done = subprocess.run(f"{pytest_command(tests)} -q -rfE --maxfail=50".split(), cwd=root, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    modules: dict[str, int] = {}
    for line in done.stdout.splitlines():
        if match := re.match(r"^(?:FAILED|ERROR) (\S+?\.py)::", line):
            modules[match.group(1)] = modules.get(match.group(1), 0) + 1
    return modules


def make_corpus(seed: int = 11) -> list[Case]:
    """Inject slips, keep those the library's tests catch (and whose line is unique in the project)."""
    cases: list[Case] = []
    rng = random.Random(seed)
    for library in LIBRARIES:
        root = sdist_root(library)
        everything = "\n".join(p.read_text(errors="replace") for p in root.rglob("*.py"))
        candidates = []
        for module in library.modules:
            source = (root / module).read_text()
            lines = source.splitlines()
            for number in sorted(_body_lines(source)):
                for mutated in _mutations(lines[number - 1]):
                    if mutated.strip() and mutated.strip() not in everything:
                        candidates.append((module, number, lines[number - 1], mutated))
        rng.shuffle(candidates)
        kept = 0
        used_lines: set[tuple[str, int]] = set()
        for module, number, original, mutated in candidates:
            if kept >= CASES_PER_LIBRARY:
                break
            if (module, number) in used_lines:
                continue
            path = root / module
            source = path.read_text()
            lines = source.splitlines(keepends=True)
            lines[number - 1] = mutated + "\n"
            path.write_text("".join(lines))
            try:
                failing = _failing_modules(root, library.tests)
            finally:
                path.write_text(source)
            if not failing:
                continue
            test_module, count = max(failing.items(), key=lambda item: (item[1], item[0]))
            cases.append(Case(library.name, module, number, original, mutated, test_module, count))
            used_lines.add((module, number))
            kept += 1
            print(f"  kept {library.name} {module}:{number}  {mutated.strip()}  ({count} failing in {test_module})")
    return cases


# -- running codegen ----------------------------------------------------------------------------

class Recorder:
    """A scripted model that records each request and answers with an error, so a run stops after it."""

    def __init__(self) -> None:
        self.requests: dict[str, list[dict]] = {}
        self.lock = threading.Lock()
        self.server = ScriptedModelServer(self.respond).start()

    def respond(self, body: dict) -> ScriptStep:
        tag = body.get("model", "")
        with self.lock:
            self.requests.setdefault(tag, []).append(body)
        return ScriptStep(status=400, error_message="benchmark: first request recorded")


def baseline_code() -> Path:
    """codegen as of BASELINE_REVISION, extracted from git (the package and its preprompts)."""
    target = CACHE / f"codegen-{BASELINE_REVISION[:12]}"
    if not (target / "codegen_server").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", BASELINE_REVISION, "codegen_server", "preprompts"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _codegen(code: Path, tag: str, recorder: Recorder, *args: str) -> dict:
    """Run one codegen command with ``code`` on the path; the first request it sent to the model."""
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1", "OPENAI_API_KEY": "benchmark",
           "OPENAI_BASE_URL": recorder.server.base_url, "CODEGEN_MODEL": tag}
    with recorder.lock:
        before = len(recorder.requests.get(tag, []))
    # cwd too: `python -m` puts the current folder first on sys.path, before PYTHONPATH.
    subprocess.run([sys.executable, "-m", "codegen_server.cli", *args], cwd=code, env=env, capture_output=True,
                   text=True, timeout=600)
    with recorder.lock:
        sent = recorder.requests.get(tag, [])[before:]
    return sent[0] if sent else {"messages": []}


def _request_text(request: dict) -> str:
    return "\n".join(str(m.get("content") or "") for m in request.get("messages", []))


@dataclass
class Score:
    case: int
    fix_line: bool
    fix_tokens: int
    feedback_function: bool
    feedback_test: bool | None  # None: no test calls the function directly
    feedback_tokens: int


def _enclosing_function(source: str, line: int) -> ast.FunctionDef | None:
    best = None
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= (node.end_lineno or 0):
            if best is None or node.lineno > best.lineno:
                best = node
    return best


def _calling_tests(root: Path, tests: str, name: str) -> list[str]:
    """Source of each test function that calls ``name`` directly (as f(...) or x.f(...))."""
    found = []
    for path in sorted((root / tests).rglob("*.py")):
        source = path.read_text(errors="replace")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
                if any(getattr(c.func, "id", None) == name or getattr(c.func, "attr", None) == name for c in calls):
                    found.append("\n".join(lines[node.lineno - 1:node.end_lineno]))
    return found


def _dump(folder: Path | None, name: str, request: dict) -> None:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        text = "\n\n".join(f"# {m.get('role')}\n\n{m.get('content')}" for m in request.get("messages", []))
        (folder / f"{name}.md").write_text(text)


def run_mode(mode: str, code: Path, cases: list[Case], recorder: Recorder, dump: Path | None = None) -> list[Score]:
    """Every case in one working copy per library (mutate, run fix and feedback, restore)."""
    scores = []
    copies: dict[str, Path] = {}
    for number, case in enumerate(cases):
        library = next(lib for lib in LIBRARIES if lib.name == case.library)
        if case.library not in copies:
            copy = CACHE / "work" / f"{mode}-{case.library}"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(sdist_root(library), copy)
            copies[case.library] = copy
        root = copies[case.library]
        path = root / case.file
        pristine = path.read_text()
        lines = pristine.splitlines(keepends=True)
        if lines[case.line - 1].rstrip("\n") != case.original:
            raise SystemExit(f"case {number}: {case.file}:{case.line} does not hold the recorded original line")
        lines[case.line - 1] = case.mutated + "\n"
        mutated_source = "".join(lines)
        path.write_text(mutated_source)
        try:
            fix = _codegen(code, f"{mode}-fix", recorder, "fix", "--root", str(root), "--max-iterations", "1",
                           "--test-cmd", pytest_command(case.test_module))
            feedback = _codegen(code, f"{mode}-feedback", recorder, "feedback", case.file, COMMENT,
                                "--lines", f"{case.line}-{case.line}", "--root", str(root), "--dry-run")
        finally:
            path.write_text(pristine)
        fix_text, feedback_text = _request_text(fix), _request_text(feedback)
        _dump(dump, f"case{number:02d}-{mode}-fix", fix)
        _dump(dump, f"case{number:02d}-{mode}-feedback", feedback)
        function = _enclosing_function(mutated_source, case.line)
        function_text = "\n".join(mutated_source.splitlines()[function.lineno - 1:function.end_lineno]) if function else ""
        tests = _calling_tests(root, library.tests, function.name) if function else []
        scores.append(Score(
            number, case.mutated.strip() in fix_text, count_tokens(fix_text),
            bool(function_text) and shown_whole(function_text, feedback_text),
            any(shown_whole(test, feedback_text) for test in tests) if tests else None,
            count_tokens(feedback_text)))
    return scores


def _share(values: list[bool]) -> str:
    return f"{100 * sum(values) / len(values):.0f}% ({sum(values)}/{len(values)})" if values else "–"


def report(results: dict[str, list[Score]], seconds: float) -> None:
    print(f"\n{'':34}{'codegen':>22}{'baseline':>22}")
    rows = [
        ("fix: mutated line in 1st request", lambda s: _share([x.fix_line for x in s])),
        ("fix: 1st request tokens, median", lambda s: str(sorted(x.fix_tokens for x in s)[len(s) // 2])),
        ("fix: 1st request tokens, max", lambda s: str(max(x.fix_tokens for x in s))),
        (f"fix: requests <= {TOKEN_LIMIT} tokens", lambda s: _share([x.fix_tokens <= TOKEN_LIMIT for x in s])),
        ("feedback: whole function", lambda s: _share([x.feedback_function for x in s])),
        ("feedback: a calling test", lambda s: _share([x.feedback_test for x in s if x.feedback_test is not None])),
        ("feedback: tokens, max", lambda s: str(max(x.feedback_tokens for x in s))),
    ]
    for label, cell in rows:
        print(f"{label:34}{cell(results['codegen']):>22}{cell(results['baseline']):>22}")
    untested = sum(1 for x in results["codegen"] if x.feedback_test is None)
    print(f"\n{len(results['codegen'])} cases; {untested} with no test calling the function directly (left out of "
          f"'a calling test'); baseline = codegen at {BASELINE_REVISION[:12]}; {seconds:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make-corpus", action="store_true", help="rebuild benchmarks/locus_cases.json")
    parser.add_argument("--limit", type=int, help="run only the first N cases")
    parser.add_argument("--only", help="run only these cases (comma-separated numbers, from 0)")
    parser.add_argument("--details", action="store_true", help="print each case's scores")
    parser.add_argument("--dump", type=Path, help="write each first request to this folder as Markdown")
    args = parser.parse_args()
    if args.make_corpus:
        cases = make_corpus()
        CASES_FILE.write_text(json.dumps([asdict(c) for c in cases], indent=1) + "\n")
        print(f"{len(cases)} cases written to {CASES_FILE.relative_to(REPO)}")
        return 0
    cases = [Case(**c) for c in json.loads(CASES_FILE.read_text())][:args.limit]
    if args.only:
        cases = [cases[int(n)] for n in args.only.split(",")]
    started = time.perf_counter()
    recorder = Recorder()
    try:
        modes = {"codegen": REPO, "baseline": baseline_code()}
        with ThreadPoolExecutor(len(modes)) as pool:
            futures = {mode: pool.submit(run_mode, mode, code, cases, recorder, args.dump) for mode, code in modes.items()}
            results = {mode: future.result() for mode, future in futures.items()}
    finally:
        recorder.server.stop()
    if args.details:
        for case, new, old in zip(cases, results["codegen"], results["baseline"]):
            print(f"{case.library:15} {case.file}:{case.line:<5} {case.mutated.strip()[:50]:52} "
                  f"fix {new.fix_line!s:5}/{old.fix_line!s:5} {new.fix_tokens:>5}/{old.fix_tokens:<5} "
                  f"fb {new.feedback_function!s:5}/{old.feedback_function!s:5} {new.feedback_test!s:5}/{old.feedback_test!s:5}")
    report(results, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
