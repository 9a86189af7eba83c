"""Bug-locus benchmark: does the model's first request hold the code it has to change?

    .venv/bin/python benchmarks/locus_bench.py                 # run the committed corpus
    .venv/bin/python benchmarks/locus_bench.py --make-corpus   # rebuild benchmarks/locus_cases.json
    .venv/bin/python benchmarks/locus_bench.py --library click,@fastify/busboy   # the deep-call corpus only
    .venv/bin/python benchmarks/locus_bench.py --library Markdown   # the held-out deep-call library

The corpus: single-line slips (a flipped comparison, an off-by-one, and/or, a dropped `not`, a
wrong index) injected inside function bodies of real libraries from their PyPI sdists (pinned
versions, downloaded with pip into benchmarks/.cache), kept only when the library's own tests
catch them. The cases are recorded in benchmarks/locus_cases.json. Two kinds of library: ones
whose tests call the functions directly (semver, more-itertools), and ones whose tests go through
several layers (click's tests drive commands through CliRunner, parsing and dispatch; busboy's feed
a multipart body through the stream parser, dicer and the header parser) - click in Python with
pytest, busboy in JavaScript with `node --test` (slips found with tree-sitter, npm tarball). A third
deep-call library, Markdown (its tests render documents through the whole pipeline: preprocessors,
block parser, tree and inline processors), is held out: its cases were generated after the ranking
and packing changes made while looking at click's and busboy's misses, and nobody tunes on them;
the report shows it apart.

For each case, `codegen fix --max-iterations 1` runs on the failing test module against a
scripted model server, and the FIRST request the server receives is scored: is the mutated line
in it, and how many tokens is it; twice, with the dynamic localization (the failing tests run
under coverage, `workflows/localize.py`) and without it (`--no-coverage`: the static context
alone), with the coverage run's time next to the plain test run's (both from the run's record).
Then `codegen feedback` with a comment on the mutated line:
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
    kind: str = "python"  # "python" (PyPI sdist, pytest) | "node" (npm tarball, node --test)
    pytest_args: str = ""  # what the library's own pytest configuration needs here
    feedback: bool = True  # also score `codegen feedback` (the first corpus only: this task is fix)
    held_out: bool = False  # nobody looked at its cases while tuning codegen: reported apart


# click's setup.cfg turns warnings into errors; this venv's newer pytest and pytest-asyncio warn.
_CLICK_ARGS = "-o pythonpath=src -p no:asyncio -o filterwarnings=ignore::DeprecationWarning"
LIBRARIES = (
    Library("semver", "3.0.2", ("src/semver/version.py",), "tests"),
    Library("more-itertools", "10.5.0", ("more_itertools/recipes.py", "more_itertools/more.py"), "tests"),
    Library("click", "8.1.7", ("src/click/core.py", "src/click/parser.py", "src/click/types.py",
                               "src/click/formatting.py"), "tests", pytest_args=_CLICK_ARGS, feedback=False),
    Library("@fastify/busboy", "3.2.6", ("lib/types/multipart.js", "lib/types/urlencoded.js",
                                         "deps/dicer/lib/Dicer.js", "deps/dicer/lib/HeaderParser.js",
                                         "lib/utils/parseParams.js", "lib/utils/decodeText.js"),
            "test", kind="node", feedback=False),
    # Held out: unittest-style tests (markdown.test_tools.TestCase) that go through the whole
    # pipeline (preprocessors, block parser, tree and inline processors); test_apis.py needs PyYAML,
    # test_legacy.py turns every warning into an error at import (pytest's own collection warnings
    # too). -c setup.cfg: Markdown configures no pytest, and the copy sits inside codegen's checkout,
    # whose pytest configuration would otherwise apply.
    Library("Markdown", "3.7", ("markdown/blockprocessors.py", "markdown/inlinepatterns.py",
                                "markdown/treeprocessors.py", "markdown/extensions/tables.py",
                                "markdown/extensions/toc.py"), "tests",
            pytest_args="-c setup.cfg -p no:asyncio --ignore=tests/test_apis.py --ignore=tests/test_legacy.py",
            feedback=False, held_out=True),
)
CASES_PER_LIBRARY = 10
NODE_TIMEOUT = 120  # seconds for the whole node --test run of a mutated library


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
    """The unpacked sdist or npm tarball (downloaded with pip or npm the first time)."""
    root = CACHE / f"{library.name.replace('/', '+')}-{library.version}"
    if root.is_dir():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    if library.kind == "node":
        name = subprocess.run(["npm", "pack", f"{library.name}@{library.version}", "--pack-destination", str(CACHE)],
                              check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        unpacked = CACHE / f"{root.name}.unpacked"
        unpacked.mkdir()
        with tarfile.open(CACHE / name) as tar:
            tar.extractall(unpacked, filter="data")
        (unpacked / "package").rename(root)
        unpacked.rmdir()
        return root
    archive = CACHE / f"{library.name}-{library.version}.tar.gz"
    if not archive.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(CACHE),
                        f"{library.name}=={library.version}"], check=True, capture_output=True)
        found = [p for p in CACHE.glob("*.tar.gz")
                 if p.name.lower().replace("_", "-").startswith(f"{library.name.lower()}-{library.version}")]
        found[0].rename(archive)
    with tarfile.open(archive) as tar:
        top = tar.getnames()[0].split("/")[0]
        tar.extractall(CACHE, filter="data")
    (CACHE / top).rename(root)
    return root


def pytest_command(module: str, extra: str = "") -> str:
    # -o addopts= drops the projects' coverage options (pytest-cov is not a codegen dependency).
    return " ".join(filter(None, [f"{sys.executable} -m pytest -p no:cacheprovider -o addopts=", extra, module]))


def test_command(library: Library, module: str) -> str:
    return f"node --test {module}" if library.kind == "node" else pytest_command(module, library.pytest_args)


_SWAPS = [(" <= ", " < "), (" < ", " <= "), (" >= ", " > "), (" > ", " >= "), (" == ", " != "), (" != ", " == "),
          (" and ", " or "), (" or ", " and "), ("not ", ""), ("+ 1", "- 1"), ("- 1", "+ 1"),
          ("[0]", "[-1]"), ("[-1]", "[0]"), ("[1:]", "[2:]"), ("[:-1]", "[:-2]")]


_JS_SWAPS = [(" <= ", " < "), (" < ", " <= "), (" >= ", " > "), (" > ", " >= "), (" === ", " !== "),
             (" !== ", " === "), (" && ", " || "), (" || ", " && "), ("(!", "("), ("+ 1", "- 1"), ("- 1", "+ 1"),
             ("[0]", "[1]"), ("[1]", "[0]")]
_JS_FUNCTIONS = {"function_declaration", "function_expression", "function", "arrow_function", "method_definition",
                 "generator_function_declaration"}


def _js_body_lines(source: str) -> set[int]:
    """1-based lines strictly inside JavaScript function bodies (the braces' lines left out)."""
    import tree_sitter
    import tree_sitter_javascript

    tree = tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language())).parse(source.encode())
    lines: set[int] = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        body = node.child_by_field_name("body") if node.type in _JS_FUNCTIONS else None
        if body is not None and body.type == "statement_block":
            lines |= set(range(body.start_point[0] + 2, body.end_point[0] + 1))
    return lines


def _js_mutations(text: str) -> list[str]:
    stripped = text.strip()
    if not stripped or stripped.startswith(("//", "/*", "*")):
        return []
    out = []
    for old, new in _JS_SWAPS:
        at = text.find(old)
        before = text[:at]
        if at != -1 and "//" not in before and all(before.count(q) % 2 == 0 for q in "'\"`"):
            out.append(text[:at] + new + text[at + len(old):])
    return out


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


def _failing_tests(root: Path, library: Library) -> set[tuple[str, str]]:
    """(test file, test) pairs that fail in ``root``."""
    if library.kind == "node":
        return _failing_node_tests(root)
    argv = f"{pytest_command(library.tests, library.pytest_args)} -q -rfE --maxfail=50".split()
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return {(m.group(1), m.group(0)) for line in done.stdout.splitlines()
            if (m := re.match(r"^(?:FAILED|ERROR) (\S+?\.py)::\S+", line))}


def _failing_node_tests(root: Path) -> set[tuple[str, str]]:
    """node --test's TAP output: each failing test and the file its ``location`` names."""
    # Test files run side by side: busboy's wait on streams and timers more than they compute.
    done = subprocess.run(["node", "--test", "--test-concurrency=4", "--test-reporter=tap"], cwd=root,
                          capture_output=True, text=True, timeout=NODE_TIMEOUT)
    failing: set[tuple[str, str]] = set()
    name = None
    for line in done.stdout.splitlines():
        if match := re.match(r"^\s*not ok \d+ - (.*)$", line):
            name = match.group(1)
        elif re.match(r"^\s*ok \d+ ", line):
            name = None
        elif name and (match := re.match(r"^\s*location: '(.+?\.[cm]?js):\d+:\d+'", line)):
            failing.add((Path(match.group(1)).relative_to(root).as_posix(), name))
            name = None
    return failing


def _failing_modules(root: Path, library: Library, pristine: set[tuple[str, str]]) -> dict[str, int]:
    """Test file -> how many of its tests fail that did not fail before the slip."""
    modules: dict[str, int] = {}
    for module, _ in _failing_tests(root, library) - pristine:
        modules[module] = modules.get(module, 0) + 1
    return modules


def make_corpus(libraries: tuple[Library, ...] = LIBRARIES, seed: int = 11) -> list[Case]:
    """Inject slips, keep those the library's tests catch (and whose line is unique in the project)."""
    cases: list[Case] = []
    rng = random.Random(seed)
    for library in libraries:
        root = sdist_root(library)
        node = library.kind == "node"
        everything = "\n".join(p.read_text(errors="replace") for p in root.rglob("*.js" if node else "*.py")
                               if "node_modules" not in p.parts)
        pristine = _failing_tests(root, library)  # tests that fail here anyway (this machine, not a slip)
        candidates = []
        for module in library.modules:
            source = (root / module).read_text()
            lines = source.splitlines()
            for number in sorted(_js_body_lines(source) if node else _body_lines(source)):
                for mutated in (_js_mutations if node else _mutations)(lines[number - 1]):
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
                failing = _failing_modules(root, library, pristine)
            except subprocess.TimeoutExpired:
                failing = {}  # a slip that makes the tests hang is not a case (nor a slip a fix loop sees)
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
    feedback_function: bool | None  # None: feedback not scored for this library
    feedback_test: bool | None  # None: not scored, or no test calls the function directly
    feedback_tokens: int | None
    localization: dict  # the fix run's record: method, why, seconds (coverage run), test_seconds (plain run)


def _localization(root: Path) -> dict:
    """The newest fix run's localization record in ``root`` (empty for codegen before it existed)."""
    runs = sorted((root / ".codegen" / "runs").glob("*/localization/01.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(runs[-1].read_text()) if runs else {}


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


#: The modes of one run: the code on the path, extra `codegen fix` arguments, whether feedback is scored.
MODES = {"codegen": ("current", (), True), "static": ("current", ("--no-coverage",), False),
         "baseline": ("baseline", (), True)}


def run_mode(mode: str, code: Path, cases: list[Case], recorder: Recorder, dump: Path | None = None) -> list[Score]:
    """Every case in one working copy per library (mutate, run fix and feedback, restore)."""
    _, fix_args, with_feedback = MODES[mode]
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
        feedback = None
        try:
            fix = _codegen(code, f"{mode}-fix", recorder, "fix", "--root", str(root), "--max-iterations", "1",
                           "--test-cmd", test_command(library, case.test_module), *fix_args)
            if with_feedback and library.feedback:
                feedback = _codegen(code, f"{mode}-feedback", recorder, "feedback", case.file, COMMENT,
                                    "--lines", f"{case.line}-{case.line}", "--root", str(root), "--dry-run")
        finally:
            path.write_text(pristine)
        fix_text = _request_text(fix)
        _dump(dump, f"case{number:02d}-{mode}-fix", fix)
        localization = _localization(root)
        if feedback is None:
            scores.append(Score(number, case.mutated.strip() in fix_text, count_tokens(fix_text), None, None, None,
                                localization))
            continue
        feedback_text = _request_text(feedback)
        _dump(dump, f"case{number:02d}-{mode}-feedback", feedback)
        function = _enclosing_function(mutated_source, case.line)
        function_text = "\n".join(mutated_source.splitlines()[function.lineno - 1:function.end_lineno]) if function else ""
        tests = _calling_tests(root, library.tests, function.name) if function else []
        scores.append(Score(
            number, case.mutated.strip() in fix_text, count_tokens(fix_text),
            bool(function_text) and shown_whole(function_text, feedback_text),
            any(shown_whole(test, feedback_text) for test in tests) if tests else None,
            count_tokens(feedback_text), localization))
    return scores


def _share(values: list[bool]) -> str:
    return f"{100 * sum(values) / len(values):.0f}% ({sum(values)}/{len(values)})" if values else "–"


def _median(values: list[float]) -> float | None:
    return sorted(values)[len(values) // 2] if values else None


def _table(title: str, results: dict[str, list[Score]]) -> None:
    print(f"\n{title}\n{'':36}" + "".join(f"{mode:>20}" for mode in results))
    rows = [
        ("fix: slipped line in 1st request", lambda s: _share([x.fix_line for x in s])),
        ("fix: 1st request tokens, median", lambda s: str(_median([x.fix_tokens for x in s]))),
        ("fix: 1st request tokens, max", lambda s: str(max(x.fix_tokens for x in s))),
        (f"fix: requests <= {TOKEN_LIMIT} tokens", lambda s: _share([x.fix_tokens <= TOKEN_LIMIT for x in s])),
        ("fix: localized by coverage", lambda s: _share([x.localization.get("method") == "coverage" for x in s])),
        ("feedback: whole function", lambda s: _share([x.feedback_function for x in s if x.feedback_function is not None])),
        ("feedback: a calling test", lambda s: _share([x.feedback_test for x in s if x.feedback_test is not None])),
    ]
    for label, cell in rows:
        print(f"{label:36}" + "".join(f"{cell(scores) if scores else '–':>20}" for scores in results.values()))
    timed = [x.localization for x in results.get("codegen", []) if x.localization.get("tool")]
    if timed:
        coverage, plain = _median([t["seconds"] for t in timed]), _median([t["test_seconds"] for t in timed])
        print(f"{'coverage run s, median (plain run s)':36}{f'{coverage:.1f} ({plain:.1f})':>20}"
              f"   max {max(t['seconds'] for t in timed):.1f} s; budget {max(t['budget'] for t in timed):g} s")
    why = sorted({x.localization.get("why", "") for x in results.get("codegen", []) if x.localization.get("why")})
    for reason in why:
        print(f"  static fallback: {reason}")


def report(cases: list[Case], results: dict[str, list[Score]], seconds: float) -> None:
    """One table per library group, and the deep-call libraries' cases split in halves: the even cases
    of each library were the ones allowed for tuning, the odd ones are held out (reported apart)."""
    def pick(keep) -> dict[str, list[Score]]:
        return {mode: [s for s, c in zip(scores, cases) if keep(c, s)] for mode, scores in results.items()}

    deep = {"click", "@fastify/busboy"}
    index: dict[int, int] = {}
    seen: dict[str, int] = {}
    for number, case in enumerate(cases):
        index[number] = seen.get(case.library, 0)
        seen[case.library] = index[number] + 1
    for library in dict.fromkeys(c.library for c in cases):
        _table(library, pick(lambda c, s, library=library: c.library == library))
    held_out = {lib.name for lib in LIBRARIES if lib.held_out}
    if any(c.library in held_out for c in cases):
        _table(f"held out, never tuned on ({', '.join(sorted(held_out))}): coverage (codegen) vs no coverage (static)",
               pick(lambda c, s: c.library in held_out))
    if any(c.library in deep for c in cases):
        _table("deep-call libraries, held-out half (odd cases)",
               pick(lambda c, s: c.library in deep and index[s.case] % 2 == 1))
        _table("deep-call libraries, tuning half (even cases)",
               pick(lambda c, s: c.library in deep and index[s.case] % 2 == 0))
    for mode, scores in results.items():
        if scores and not any(x.fix_tokens for x in scores):
            print(f"\n{mode}: no case sent a request - that codegen stopped before asking the model (run one "
                  f"case by hand to see why); its column says nothing about its context")
    print(f"\n{len(cases)} cases; static = codegen --no-coverage; baseline = codegen at {BASELINE_REVISION[:12]}; "
          f"{seconds:.0f} s; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make-corpus", action="store_true", help="rebuild benchmarks/locus_cases.json")
    parser.add_argument("--limit", type=int, help="run only the first N cases")
    parser.add_argument("--only", help="run only these cases (comma-separated numbers, from 0)")
    parser.add_argument("--cases", type=Path, default=CASES_FILE, help="the corpus file to run")
    parser.add_argument("--library", help="run (or, with --make-corpus, rebuild) only these libraries (comma-separated)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--details", action="store_true", help="print each case's scores")
    parser.add_argument("--dump", type=Path, help="write each first request to this folder as Markdown")
    args = parser.parse_args()
    chosen = set(args.library.split(",")) if args.library else {lib.name for lib in LIBRARIES}
    if args.make_corpus:
        kept = [Case(**c) for c in json.loads(CASES_FILE.read_text()) if c["library"] not in chosen] \
            if CASES_FILE.exists() else []
        cases = kept + make_corpus(tuple(lib for lib in LIBRARIES if lib.name in chosen))
        order = [lib.name for lib in LIBRARIES]
        cases.sort(key=lambda c: order.index(c.library))  # stable: each library's cases keep their order
        CASES_FILE.write_text(json.dumps([asdict(c) for c in cases], indent=1) + "\n")
        print(f"{len(cases)} cases written to {CASES_FILE.relative_to(REPO)}")
        return 0
    cases = [c for c in (Case(**c) for c in json.loads(args.cases.read_text())) if c.library in chosen][:args.limit]
    if args.only:
        cases = [cases[int(n)] for n in args.only.split(",")]
    started = time.perf_counter()
    recorder = Recorder()
    try:
        code = {"current": REPO, "baseline": baseline_code()}
        modes = [mode for mode in args.modes.split(",") if mode in MODES]
        with ThreadPoolExecutor(len(modes)) as pool:
            futures = {mode: pool.submit(run_mode, mode, code[MODES[mode][0]], cases, recorder, args.dump)
                       for mode in modes}
            results = {mode: future.result() for mode, future in futures.items()}
    finally:
        recorder.server.stop()
    if args.details:
        for case, *scores in zip(cases, *results.values()):
            print(f"{case.library:15} {case.file}:{case.line:<5} {case.mutated.strip()[:50]:52} fix "
                  + " ".join(f"{mode}={s.fix_line!s:5} {s.fix_tokens:>5}" for mode, s in zip(results, scores)))
    report(cases, results, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
