"""Generate: from a prompt (or a clarified run) to files in the workspace.

Recipe:
1. The specification: the clarified spec of run ``run_id`` (from its sealed clarify.json), or the prompt itself.
2. Context: when the workspace already holds code, the files the spec most likely touches, whole,
   with their tests, and a repo map of the rest.
3. Ask the model for the project (whole files for new ones, diffs for existing ones); into an
   existing workspace it may ask to see more code first (`SHOW:` lines). A new, larger project is
   planned first and its files written concurrently (``model.parallel``, generate_parallel.py).
4. Turn the answer into changes with the edits engine; answer its requests to see code, and if
   some diff hunks do not apply, send the precise failures back once (changes.py).
5. Offer the changes through the applier (editor preview, disk, or nothing) and
   record the diff and the outcome in the run.
6. Verify: once applied, run the tests that cover the change when the project has any (the check
   feedback makes, verify.py) and report them in ``tests``; with ``fix`` options, failing tests go
   on into the fix loop (fix.py: its own run, with its checkpoints), reported in ``fix``.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, fields, replace

from ..preprompts import answer_formats
from ..store import Run
from ..store.runs import now_stamp
from .changes import ChangeOutcome, answer_prose, ask_for_changes, offer_changes
from .clarify import spec_text
from .context import gather_context
from .fix import FixResult
from .fix import fix as fix_loop
from .fix_options import FixOptions
from .generate_parallel import propose_new_project
from .host import Applier, Host, WorkflowError
from .verify import TestCheck, check_tests

#: Tokens of context sent with a generate request into an existing workspace: the files the task most
#: likely touches, whole, with their tests, then the repo map.
CONTEXT_BUDGET = 8000


@dataclass
class GenerateResult(ChangeOutcome):
    """What generate returns: the files, the diff, whether they were applied, and what the tests said."""

    #: The tests after the change (when applied and the project has tests), else None.
    tests: TestCheck | None = None
    #: The fix loop the failing tests went on into (``fix`` options given), else None.
    fix: FixResult | None = None


async def generate(host: Host, applier: Applier, *, prompt: str | None = None, run_id: str | None = None,
                   test_command: str | None = None, fix: FixOptions | None = None) -> GenerateResult:
    """Generate the project ``prompt`` (or clarified run ``run_id``) describes, apply it, and run its tests
    (``test_command``, else detected); with ``fix``, failing tests go on into the fix loop."""
    run, spec = await _spec(host, prompt, run_id)
    try:
        outcome = await _generate(host, applier, run, spec)
    except asyncio.CancelledError:
        await run.update_meta(status="cancelled")
        raise
    result = GenerateResult(**{f.name: getattr(outcome, f.name) for f in fields(ChangeOutcome)})
    if not result.applied or result.failures:
        return result
    host.progress.phase("running the tests the change touches")
    result.tests = await check_tests(host.root, [f["path"] for f in result.files], test_command=test_command)
    if result.tests is None:
        return result
    await run.update_meta(tests=asdict(result.tests))
    if result.tests.failed and fix is not None:
        host.progress.phase(f"{result.tests.failed} test(s) fail: on into the fix loop")
        result.fix = await fix_loop(host, applier, replace(fix, test_command=fix.test_command or test_command))
    return result


async def _generate(host: Host, applier: Applier, run: Run, spec: str) -> GenerateResult:
    context = await _workspace_context(host, spec)
    parallel = host.model.settings.parallel
    if not context and parallel > 1:
        proposal = await propose_new_project(host, run, spec, parallel)
    else:
        system = await asyncio.to_thread(host.preprompts.system, "generate",
                                         *answer_formats(existing_code=bool(context)))
        # Said either way: the model should not have to guess whether it writes a project or changes one.
        user = (f"{spec}\n\nThe workspace holds no code yet." if not context
                else f"{spec}\n\nThe workspace already holds this code:\n\n{context}")
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        proposal = await ask_for_changes(host, run, "generate", messages)
    host.progress.phase("applying the changes")
    return await offer_changes(run, applier, proposal, label=_label(spec),
                               description=answer_prose(proposal.answer))


def _label(spec: str, words: int = 8) -> str:
    """The edit's label, which editors show as the preview's title: the command and the prompt's first
    words (the spec starts with the prompt). A run id would mean nothing to the user there."""
    said = spec.split()
    return "codegen: generate" + (f": {' '.join(said[:words])}{' ...' if len(said) > words else ''}" if said else "")


async def _spec(host: Host, prompt: str | None, run_id: str | None) -> tuple[Run, str]:
    if run_id:
        run = host.store.open(run_id)
        state = await run.read_json("clarify.json")
        if not state:
            raise WorkflowError(f"Run {run_id} has no prompt to generate from.")
        spec = spec_text(state)  # the clarified spec, or what there is if not every question was answered
        if prompt:
            spec += f"\n\n{prompt}"
        # What was asked, sealed: a thread that starts from this run reads it back (never spec.md).
        # It starts now as a generate run: ``started`` orders it among the writing runs (undo's default).
        await run.update_meta(kind="generate", status="running", spec=spec, started=now_stamp())
        return run, spec
    if not prompt or not prompt.strip():
        raise WorkflowError("Give a prompt or the runId of a clarified run.")
    run = await host.store.create("generate", prompt=prompt)
    await run.write_text("prompt.txt", prompt)
    return run, prompt


async def _workspace_context(host: Host, spec: str) -> str:
    """The existing code the spec most likely touches, whole (so the first answer can be a diff that
    applies), and a repo map ranked towards the spec; '' for an empty workspace."""
    host.progress.phase("reading the workspace")
    result = await asyncio.to_thread(gather_context, host.root, task=spec, budget=CONTEXT_BUDGET,
                                     open_files=list(host.open_buffers()), whole_files=True)
    return result.text if result.files else ""
