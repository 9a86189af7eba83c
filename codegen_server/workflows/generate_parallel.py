"""A new project written in parallel: plan its files, write them concurrently, check that they fit.

One long answer makes the user wait for the whole project at the model's token rate; hosted APIs and
local servers with several slots (vLLM, llama.cpp) answer several requests at once.

Recipe (``model.parallel`` > 1, an empty workspace):
1. Ask for a plan — each file's path, what it owns, and the names, signatures and data shapes other
   files use from it, each file after the files it uses — or, for a small project, the files
   themselves: an answer with files is the project (one call, as without a plan).
2. Ask for the planned files concurrently, ``model.parallel`` calls at a time (the plan's own call
   counting as one while it streams), each with the specification, the plan and the one file it
   writes. A file is asked for as soon as the streamed plan has listed it, with the plan so far;
   files asked for after the plan is complete see all of it. Should the complete plan not begin
   with what was streamed, the files asked for early are dropped and asked for again.
3. Check that the pieces fit (every name a Python file imports from another generated module is defined
   there; every relative import of a JS/TS file names a generated file, and every name it imports is
   exported there: ``fit_js``); where not, ask once for the files involved again, whole, with the mismatches listed.
"""

from __future__ import annotations

import ast
import asyncio
from dataclasses import dataclass, field, replace

from ..edits import render_diff
from ..edits.types import FileChange, PatchResult
from ..model import Message
from ..store import Run
from .changes import ProposedChange, ask_for_changes
from .fit_js import js_fit_problems
from .host import Host, WorkflowError
from .project_plan import PlannedFile, PlanStream, parse_plan, render_plan


@dataclass
class ParallelStats:
    """What the parallel path did, recorded in the run (``parallel``)."""

    planned: list[str] = field(default_factory=list)
    concurrency: int = 1
    #: Files asked for while the plan was still streaming (and kept).
    early: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    refitted: list[str] = field(default_factory=list)


class _FileWriters:
    """One request per planned file, ``concurrency`` at a time with the plan's own call counted while
    it streams; each asks with the plan as it stands when the request goes out."""

    def __init__(self, host: Host, run: Run, spec: str, system: str, concurrency: int) -> None:
        self._host, self._run, self._spec, self._system = host, run, spec, system
        self.gate = asyncio.Semaphore(concurrency)
        self.plan: list[PlannedFile] = []
        self.complete = False
        self.tasks: dict[str, asyncio.Task[ProposedChange]] = {}

    def start(self, planned: PlannedFile) -> None:
        self.plan.append(planned)
        self.tasks[planned.path] = asyncio.ensure_future(self._write(planned))

    async def drop(self) -> None:
        """Cancel every request started, and wait for them to end."""
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        self.plan, self.tasks = [], {}

    async def _write(self, planned: PlannedFile) -> ProposedChange:
        async with self.gate:
            if self.complete:
                listed = "The project is planned as these files, each written by a separate request at the same time:"
            else:
                listed = ("The project is planned as files each written by a separate request at the same time. "
                          "The plan is still being written; these are its files so far, and the files still to "
                          "come use them:")
            request = (f"{self._spec}\n\nThe workspace holds no code yet. {listed}\n\n{render_plan(self.plan)}\n\n"
                       f"Write {planned.path} now, whole, and no other file. Use exactly the names, signatures "
                       "and data shapes the plan gives for the other files.")
            return await ask_for_changes(self._host, self._run, f"generate {planned.path}",
                                         [{"role": "system", "content": self._system},
                                          {"role": "user", "content": request}])


async def propose_new_project(host: Host, run: Run, spec: str, parallel: int) -> ProposedChange:
    """The changes of a new project: planned and written ``parallel`` files at a time (or at once)."""
    system = await asyncio.to_thread(host.preprompts.system, "generate", "generate_plan", "file_format")
    file_system = await asyncio.to_thread(host.preprompts.system, "generate", "file_format")
    messages: list[Message] = [{"role": "system", "content": system},
                               {"role": "user", "content": f"{spec}\n\nThe workspace holds no code yet."}]
    stats = ParallelStats(concurrency=max(1, parallel))
    writers = _FileWriters(host, run, spec, file_system, stats.concurrency)
    streamed = PlanStream()

    def on_text(text: str) -> None:
        for planned in streamed.feed(text):
            if not writers.tasks:
                host.progress.phase(f"writing files as the plan lists them, {stats.concurrency} at a time")
            writers.start(planned)

    try:
        async with writers.gate:  # the plan's call is one of the requests at once
            first = await ask_for_changes(host, run, "generate", messages, require_edit=False,
                                          settled=lambda answer: parse_plan(answer) is not None, on_text=on_text)
        plan = parse_plan(first.answer)
        if first.patch.changes or plan is None or writers.plan != plan[:len(writers.plan)]:
            await writers.drop()  # a small project written at once, no plan, or not the plan streamed
        if first.patch.changes:
            return first
        if plan is None:
            raise WorkflowError("The model's answer held neither files nor a plan of them; nothing to apply. "
                                f"See {run.dir / 'calls'} for what it said.")
        stats.planned, stats.early = [p.path for p in plan], [p.path for p in writers.plan]
        writers.complete = True
        if len(writers.plan) < len(plan):
            host.progress.phase(f"writing {len(plan)} files, {stats.concurrency} at a time")
        for planned in plan[len(writers.plan):]:
            writers.start(planned)
        pieces = await asyncio.gather(*(writers.tasks[p.path] for p in plan))
    except BaseException:
        await writers.drop()  # a failed or cancelled request ends the others: nothing is applied
        raise
    changes: dict[str, FileChange] = {}
    for planned, piece in zip(plan, pieces):
        own = [c for c in piece.patch.changes if c.path == planned.path]
        for change in own or piece.patch.changes[:1]:  # a file written under another name still counts
            changes.setdefault(change.path, change)
    answers = [first.answer, *(p.answer for p in pieces)]
    usage = _total_usage([first, *pieces])
    mismatches = fit_problems({path: c.new_text or "" for path, c in changes.items()})
    stats.mismatches = mismatches
    if mismatches:
        refit = await _refit(host, run, spec, plan, changes, mismatches, file_system)
        for change in refit.patch.changes:
            changes[change.path] = change
        stats.refitted = [c.path for c in refit.patch.changes]
        answers.append(refit.answer)
        usage = _total_usage([first, *pieces, refit])
    await run.update_meta(parallel={"planned": stats.planned, "concurrency": stats.concurrency,
                                    "early": stats.early, "mismatches": stats.mismatches,
                                    "refitted": stats.refitted})
    kept = list(changes.values())
    return replace(first, answer="\n\n".join(answers), usage=usage,
                   patch=PatchResult(changes=kept, failures=[], diff=render_diff(kept)), refused=[])


async def _refit(host: Host, run: Run, spec: str, plan: list[PlannedFile], changes: dict[str, FileChange],
                 mismatches: list[str], system: str) -> ProposedChange:
    """Ask once for the files involved in ``mismatches`` again, whole, so that they fit."""
    involved = sorted({m.split(":", 1)[0] for m in mismatches} | {m.rsplit(" ", 1)[-1] for m in mismatches
                                                                    if m.rsplit(" ", 1)[-1] in changes})
    shown = "\n\n".join(f"{path}\n```\n{changes[path].new_text or ''}```" for path in involved if path in changes)
    request = (f"{spec}\n\nThe project was planned as:\n\n{render_plan(plan)}\n\nIts files were written separately, "
               "and these do not fit together:\n" + "\n".join(f"- {m}" for m in mismatches)
               + f"\n\nThe files involved, as written:\n\n{shown}\n\nWrite again, whole, the files that must "
               "change so that every import resolves and every name used is defined.")
    host.progress.phase(f"fitting {len(involved)} files together")
    return await ask_for_changes(host, run, "generate-fit", [{"role": "system", "content": system},
                                                             {"role": "user", "content": request}],
                                 require_edit=False)


def _total_usage(proposals: list[ProposedChange]) -> dict:
    total: dict = {"prompt_tokens": 0, "completion_tokens": 0}
    for proposal in proposals:
        for key in ("prompt_tokens", "completion_tokens"):
            total[key] += int(proposal.usage.get(key) or 0)
        if proposal.usage.get("estimated"):
            total["estimated"] = True
    return total


# -- do the pieces fit? ---------------------------------------------------------------------------

def _module_names(path: str) -> list[str]:
    """The names a Python file is imported by (``pkg/mod.py`` → ``pkg.mod``; also without a ``src/``)."""
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    names = [".".join(parts)] if parts else []
    if len(parts) > 1 and parts[0] == "src":
        names.append(".".join(parts[1:]))
    return names


def _defined(tree: ast.Module) -> set[str]:
    """The top-level names a module defines (functions, classes, assignments, its own imports)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {n.id for target in node.targets for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.If, ast.Try)):  # names defined under `if TYPE_CHECKING:`/`try:` count too
            names |= _defined(ast.Module(body=[*node.body, *getattr(node, "orelse", [])], type_ignores=[]))
    return names


def fit_problems(files: dict[str, str]) -> list[str]:
    """Where generated files do not fit: the Python ones' below, then the JS/TS ones' (``js_fit_problems``)."""
    return python_fit_problems(files) + js_fit_problems(files)


def python_fit_problems(files: dict[str, str]) -> list[str]:
    """Where generated Python files do not fit: ``"<path>:<line>: imports <name> from <module>, which does not
    define it — <module file>"``. Imports of modules that are not generated files are not checked."""
    trees: dict[str, ast.Module] = {}
    for path, text in files.items():
        if path.endswith(".py"):
            try:
                trees[path] = ast.parse(text)
            except SyntaxError:
                continue
    modules = {name: path for path in trees for name in _module_names(path)}
    problems: list[str] = []
    for path, tree in trees.items():
        package = _module_names(path)[-1].split(".") if path.endswith("__init__.py") else \
            _module_names(path)[-1].split(".")[:-1]
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            target = modules.get(module)
            if target is None:
                continue
            defined = _defined(trees[target])
            for alias in node.names:
                if alias.name != "*" and alias.name not in defined and f"{module}.{alias.name}" not in modules:
                    problems.append(f"{path}:{node.lineno}: imports {alias.name} from {module}, which does not "
                                    f"define it — {target}")
    return problems
