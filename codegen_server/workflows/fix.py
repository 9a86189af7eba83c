"""Fix until tests pass: run the tests, diagnose, plan, apply, re-run — with a checkpoint per iteration.

Recipe (devlooper's loop, with Aider's test feedback):
1. Checkpoint the workspace ("start") and run the project's tests. Green: done.
2. Each iteration, in a conversation of its own (fix_history.py says why):
   a. localize: run the failing tests (and the passing ones of their files) under coverage
      and rank what they ran (localize.py), or say why not; gather context for the failures:
      the failing tests grouped by test function, the tests' code and fixtures, the code they
      call followed through imports and classes with the likeliest culprits quoted whole (the
      coverage ranking's best first, then frames in product code), the runner output trimmed
      to what that does not say, and the repo map; after the first iteration, what was tried
      and what came of it, and the code the model asked to see;
   b. diagnose: the model explains in prose what is wrong (its `SHOW:` requests answered first);
   c. plan: the model answers with edits (diffs), and maybe INSTALL:/RUN: actions;
      its `SHOW:` requests are answered and a whole-file rewrite of a file it was not shown
      whole goes back with the file, hunks that do not apply go back once (changes.py) —
      none of that is an iteration; edits to tests are refused unless allowed; installs and
      commands need the user's consent;
   d. apply the edit (the editor previews it, or the disk takes it), make sure the
      disk holds it, and checkpoint; the disk refuses an edit to a file that makes an
      editor, a shell or git run code unless allowed (the model hears why);
   e. re-run the failing tests first, and the whole suite once they pass.
3. Stop when green, at the iteration limit, at the token budget, when applied changes make no
   progress (the same failures twice, or a state seen before), or when nothing could be applied
   twice in a row although the model had what it asked for. Without success, return the
   workspace to the best state reached (fewest failures) and say so.
Cancelling at any moment returns the workspace to the last checkpoint.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from ..context.failures import FailureTrace, reported_failure
from ..edits import format_failures, render_diff
from ..edits.sensitive import as_dicts, flag_changes
from ..edits.types import FileChange, PatchResult
from ..model import Message
from ..preprompts import answer_formats
from ..store import Run
from ..store.checkpoints import Checkpoint, CheckpointStore
from ..testing import TestCommand, TestRun, check_runnable, detect_test_command, run_tests
from ..testing.process import run_process_tree
from .changes import ask_and_show, ask_for_changes
from .context import gather_context
from .fix_actions import UnsafeInstall, install_command, install_description, is_test_file, parse_plan
from .fix_history import Iteration, history_text, shown_again
from .fix_options import FixOptions
from .host import SKIP_CHANGE, Applier, Host, WorkflowError, as_landed, write_accepted_buffers
from .localize import Localizer
from .show import ShowRequest, parse_request
from .written import record_written, save_start

if TYPE_CHECKING:
    from ..context import ContextResult


@dataclass
class FixResult:
    run_id: str
    green: bool
    #: green | iterations | budget | no-progress | declined | cancelled
    stopped: str
    iterations: list[Iteration]
    failing_at_start: int
    failing_at_end: int
    tests_fixed: int
    tokens_used: int
    checkpoints: list[str]
    restored_to: str | None
    summary: str


@dataclass
class _Best:
    failing: int
    checkpoint: Checkpoint


@dataclass
class _Loop:
    """What the loop knows between iterations."""

    host: Host
    run: Run
    options: FixOptions
    command: TestCommand
    checkpoints: CheckpointStore
    verdict: TestRun
    best: _Best
    last: Checkpoint
    localizer: Localizer
    tokens: int = 0
    iterations: list[Iteration] = field(default_factory=list)
    seen_states: set[str] = field(default_factory=set)
    #: The last run of the whole suite, and when it was ("at the start", "after iteration 2").
    suite: TestRun | None = None
    suite_when: str = "at the start"
    #: Iterations in a row that changed nothing although the model had what it asked for.
    idle: int = 0
    #: The code the model asked to see (shown, or pending when the rounds ran out), shown (again) as it
    #: is now in each later iteration.
    asked: list[ShowRequest] = field(default_factory=list)


async def fix(host: Host, applier: Applier, options: FixOptions | None = None) -> FixResult:
    """Repair the workspace until its tests pass, or stop and say why."""
    options = options or FixOptions()
    command = await asyncio.to_thread(detect_test_command, host.root, options.test_command)
    if command is None:
        raise WorkflowError("No test command found for this workspace: set the test command (the setting "
                            "`fix.testCommand`, or --test-cmd on the command line).", kind="no-test-command",
                            setting="fix.testCommand")
    await asyncio.to_thread(check_runnable, command)  # a missing tool is no failing test: nothing to ask the model
    run = await host.store.create("fix", options=asdict(options), test_command=command.display())
    checkpoints = CheckpointStore(host.root, run.dir)
    start = await save_start(run)
    host.progress.phase(f"running the tests: {command.display()} ({command.source})", 0)
    try:
        verdict = await _run_tests(host, run, command, options, "start")
    except asyncio.CancelledError:  # nothing was changed yet
        await run.update_meta(status="cancelled")
        raise
    loop = _Loop(host, run, options, command, checkpoints, verdict, _Best(_failing(verdict), start), start,
                 Localizer(host, command, options), suite=verdict)
    loop.seen_states.add(start.digest)
    try:
        stopped = "green" if verdict.green else await _iterate_until_done(loop, applier)
    except asyncio.CancelledError:
        await _restore_after_cancel(loop)
        raise
    restored = None
    if stopped != "green" and loop.best.checkpoint.id != loop.last.id:
        host.progress.phase(f"restoring the best state ({loop.best.checkpoint.label})")
        await asyncio.to_thread(checkpoints.restore, loop.best.checkpoint.id)
        restored = loop.best.checkpoint.label
    return await _finish(loop, stopped, restored, _failing(verdict))


async def _iterate_until_done(loop: _Loop, applier: Applier) -> str:
    options = loop.options
    for number in range(1, options.max_iterations + 1):
        if loop.tokens >= options.token_budget:
            return "budget"
        loop.host.progress.phase(f"iteration {number}/{options.max_iterations} — "
                                 f"{_failing(loop.verdict)} failing",
                                 int(100 * (number - 1) / options.max_iterations))
        before = loop.verdict
        iteration = await _one_iteration(loop, applier, number)
        if iteration is None:
            return "declined"
        loop.iterations.append(iteration)
        await loop.run.write_json("iterations.json", {"iterations": [asdict(i) for i in loop.iterations]})
        if loop.verdict.green:
            return "green"
        if not iteration.edited and not iteration.actions:
            # Nothing was changed: the model gets one more try with that news. Progress is only
            # judged on applied changes; an iteration whose requests to see code went unanswered
            # (rounds or budget spent) was the tool's shortfall, not the model's, and does not count.
            if not iteration.unanswered:
                loop.idle += 1
            if loop.idle >= 2:
                return "no-progress"
            continue
        loop.idle = 0
        # Only a whole-suite verdict knows every failure; a red re-run of the failing tests cannot see regressions.
        if not loop.verdict.selected and iteration.failing_after < loop.best.failing:
            loop.best = _Best(iteration.failing_after, loop.last)
        if _failure_signature(loop.verdict) == _failure_signature(before) or loop.last.digest in loop.seen_states:
            return "no-progress"
        loop.seen_states.add(loop.last.digest)
    return "iterations"


async def _one_iteration(loop: _Loop, applier: Applier, number: int) -> Iteration | None:
    """Diagnose, plan, apply, checkpoint, re-run. None when the user declined the edit."""
    host, run = loop.host, loop.run
    before = loop.verdict
    localization = await loop.localizer.localize(loop.verdict)
    await run.write_json(f"localization/{number:02d}.json", localization.ranking())
    context = await asyncio.to_thread(
        gather_context, host.root, task=_failure_report(loop.verdict), test_output=loop.verdict.output,
        reported=_reported(loop), open_files=list(host.open_buffers()), budget=loop.options.context_budget,
        suspects=localization.suspects)
    earlier = await asyncio.to_thread(shown_again, host.root, dict(host.open_buffers()), loop.asked, context.text)
    system = await asyncio.to_thread(host.preprompts.system, "fix", *answer_formats(existing_code=True))
    diagnose = await asyncio.to_thread(host.preprompts.get, "fix_diagnose")
    messages: list[Message] = [{"role": "system", "content": system},
                               {"role": "user", "content": _diagnose_request(loop, context, earlier, diagnose)}]
    diagnosed = await ask_and_show(host, run, f"diagnose-{number}", messages, spend_limit=_left(loop))
    loop.tokens += diagnosed.usage["prompt_tokens"] + diagnosed.usage["completion_tokens"]

    plan_instructions = await asyncio.to_thread(host.preprompts.get, "fix_plan")
    messages.append({"role": "user", "content": plan_instructions})
    proposal = await ask_for_changes(host, run, f"plan-{number}", messages, salvage=True, require_edit=False,
                                     settled=_plans_actions, spend_limit=_left(loop))
    loop.tokens += proposal.usage["prompt_tokens"] + proposal.usage["completion_tokens"]
    plan, patch = parse_plan(proposal.answer), proposal.patch
    answered = time.monotonic()
    # What it was shown, and what it asked for when the rounds ran out, come with the next iteration.
    pending = [parse_request(text) for text in diagnosed.unanswered + proposal.unanswered]
    for request in diagnosed.requests + proposal.requests + [r for r in pending if r is not None]:
        if request not in loop.asked:
            loop.asked.append(request)

    changes, refused = _allowed_changes(patch, loop.options.allow_test_edits)
    refused += proposal.refused
    sensitive = as_dicts(flag_changes(changes))
    if changes:
        decision = await applier.apply(changes, label=f"codegen: fix, iteration {number}",
                                       description=diagnosed.answer)
        if decision.refused:  # a file that runs code, and nobody previews it: nothing written, the model hears why
            refused.append(decision.reason)
            changes = []
        elif not decision.applied and decision.reason == SKIP_CHANGE:
            # Skipped in the review: nothing written, and the run goes on; the model hears it next time.
            refused.append("the user skipped this change in the review: propose a different one")
            changes = []
        elif not decision.applied:
            return None
        else:
            # The tests read the disk: an editor that applied the change to its buffers only (saveAfterApply
            # off) has them written, as the user accepted them (a rejected hunk stays out).
            await asyncio.to_thread(write_accepted_buffers, host.root, changes, host.open_buffers())
            # What the review left out is the model's to hear, and the iteration records what landed.
            changes, left_out = await asyncio.to_thread(as_landed, host.root, changes)
            refused += left_out
            await run.write_text(f"iterations/{number:02d}.patch", render_diff(changes))
    actions = await _run_actions(loop, plan.installs, plan.commands)

    loop.last = await asyncio.to_thread(loop.checkpoints.save, f"iteration {number}")
    # Most of an iteration is the model's; the tests of its change are the last quarter of it.
    loop.verdict = await _verdict(loop, f"iteration-{number}",
                                  int(100 * (number - 0.25) / loop.options.max_iterations))
    new_failures = ([] if loop.verdict.selected else sorted(set(loop.verdict.failing_ids) - set(before.failing_ids)))
    fixed = sorted(set(before.failing_ids) - set(loop.verdict.failing_ids))
    diagnosis = diagnosed.answer
    return Iteration(number, _failing(before), diagnosis, [c.new_path or c.path for c in changes], refused,
                     actions, _failing(loop.verdict), loop.last.id, round(time.monotonic() - answered, 3),
                     proposal.rewritten_files, sensitive, diagnosed.shown + proposal.shown,
                     diagnosed.unanswered + proposal.unanswered, new_failures, fixed,
                     localization.record())


def _left(loop: _Loop) -> int:
    """Tokens the run may still spend."""
    return max(0, loop.options.token_budget - loop.tokens)


def _plans_actions(answer: str) -> bool:
    """A plan without an edit is still a plan when it installs or runs something."""
    plan = parse_plan(answer)
    return bool(plan.installs or plan.commands)


def _allowed_changes(patch: PatchResult, allow_test_edits: bool) -> tuple[list[FileChange], list[str]]:
    refused = []
    if patch.failures:
        refused.append("hunks that did not apply:\n" + format_failures(patch.failures))
    if allow_test_edits:
        return patch.changes, refused
    changes = [c for c in patch.changes if not is_test_file(c.path)]
    refused += [f"{c.path}: tests are not edited to make them pass (fix the code under test)"
                for c in patch.changes if is_test_file(c.path)]
    return changes, refused


async def _run_actions(loop: _Loop, installs: list[str], commands: list[str]) -> list[str]:
    """Install packages and run commands the plan asked for, each only with the user's consent."""
    done, steps = [], []
    for package in installs:
        try:
            argv = install_command(package, loop.command)
        except UnsafeInstall as refusal:  # refused whatever the consent: the model sees why (history)
            done.append(f"install {package}: refused — {refusal}")
            continue
        steps.append((install_description(package, argv), argv, None))
    steps += [(f"run `{c}`", None, c) for c in commands]
    for description, argv, shell in steps:
        if not await loop.host.allowed(description):
            done.append(f"{description}: not allowed")
            continue
        loop.host.progress.phase(description)
        result = await run_process_tree(loop.host.root, argv=argv, shell=shell,
                                        timeout=loop.options.test_timeout)
        done.append(f"{description}: exit {result.exit_code}{' (timed out)' if result.timed_out else ''}")
        await loop.run.write_text(f"actions/{len(done):02d}.log", f"$ {description}\n{result.output}")
    return done


async def _verdict(loop: _Loop, label: str, percentage: int | None = None) -> TestRun:
    """Failing tests first; the whole suite once they pass (kept as the last whole-suite run)."""
    failing = loop.verdict.failing_ids
    verdict = None
    if failing:
        loop.host.progress.phase(f"re-running {len(failing)} failing test(s)", percentage)
        focused = await _run_tests(loop.host, loop.run, loop.command, loop.options, f"{label}-failing", failing)
        if not focused.green or not focused.selected:
            # Still red — that is the verdict — or the runner could not select tests and ran them all.
            verdict = focused
    if verdict is None:
        loop.host.progress.phase("running the whole suite", percentage)
        verdict = await _run_tests(loop.host, loop.run, loop.command, loop.options, label)
    if not verdict.selected:
        loop.suite, loop.suite_when = verdict, f"after {label.replace('-', ' ')}"
    return verdict


async def _run_tests(host: Host, run: Run, command: TestCommand, options: FixOptions, label: str,
                     only: list[str] | None = None) -> TestRun:
    result = await run_tests(host.root, command, timeout=options.test_timeout, only=only or ())
    record = asdict(result)
    record["output"] = _clip(result.output, 50_000)
    await run.write_json(f"tests/{label}.json", record)
    return result


async def _restore_after_cancel(loop: _Loop) -> None:
    """Back to the last checkpoint, so a cancel never leaves a half-made state; the restore itself is shielded."""
    restore = asyncio.ensure_future(asyncio.to_thread(loop.checkpoints.restore, loop.last.id))
    try:
        await asyncio.shield(restore)
    except asyncio.CancelledError:
        await restore
    await loop.run.update_meta(status="cancelled", restored_to=loop.last.label)


async def _finish(loop: _Loop, stopped: str, restored: str | None, failing_at_start: int) -> FixResult:
    failing_now = loop.best.failing if restored else _failing(loop.verdict)
    fixed = max(0, failing_at_start - failing_now)
    checkpoints = [c.id for c in await asyncio.to_thread(loop.checkpoints.list)]
    result = FixResult(loop.run.id, stopped == "green", stopped, loop.iterations, failing_at_start, failing_now,
                       fixed, loop.tokens, checkpoints, restored, "")
    result.summary = summarize(result)
    outcome = {k: v for k, v in asdict(result).items() if k != "iterations"}
    # The files edited, for a run list (`RunStore.list_runs`): each run kind records them alike.
    edited = sorted({path for iteration in loop.iterations for path in iteration.edited})
    await loop.run.update_meta(status=stopped, outcome={**outcome, "files": [{"path": path} for path in edited]})
    await record_written(loop.run)
    return result


def summarize(result: FixResult) -> str:
    """One paragraph a person reads at the end of a run."""
    count = len(result.iterations)
    reasons = {
        "green": "all tests pass",
        "iterations": "the iteration limit was reached",
        "budget": "the token budget was spent",
        "no-progress": "the model made no progress",
        "declined": "the edit was declined",
        "cancelled": "it was cancelled",
    }
    reason = reasons[result.stopped]
    if result.stopped == "no-progress" and not result.iterations[-1].edited and not result.iterations[-1].actions:
        reason = "nothing could be applied in two iterations in a row"
    text = (f"Stopped after {count} iteration{'s' if count != 1 else ''}: {reason}. "
            f"Failing tests: {result.failing_at_start} at the start, {result.failing_at_end} now "
            f"({result.tests_fixed} fixed). Model tokens used: {result.tokens_used}.")
    if result.restored_to:
        text += f" The workspace was returned to its best state ({result.restored_to})."
    return text


def _failing(run: TestRun) -> int:
    """How many tests fail; a run that failed without naming a test (collection error, timeout) counts as one."""
    return len(run.failing_ids) or (0 if run.green else 1)


def _failure_signature(run: TestRun) -> tuple:
    return tuple(sorted((f.test_id, f.message.strip()) for f in run.failures)) or (run.exit_code, run.timed_out)


def _failure_report(run: TestRun) -> str:
    """Each failure's full id and location, and its message with its lines (a diff stays a block)."""
    lines: list[str] = []
    for failure in run.failures:
        head = f"- {failure.test_id}" + (f" ({failure.file}:{failure.line})" if failure.file else "")
        message = [line.rstrip() for line in failure.message.strip().splitlines() if line.strip()][:16]
        lines += [f"{head}: {message[0]}"] if len(message) == 1 else [f"{head}:", *(f"    {m}" for m in message)]
    return "\n".join(lines) or f"`{run.command}` failed with exit code {run.exit_code}"


def _test_summary(loop: _Loop) -> str:
    """What the last test run says, and what it covered: a re-run of the tests that failed before is
    not the whole suite, so the last whole-suite run is given too."""
    run = loop.verdict
    counts = (f"{run.passed} passed, {run.failed} failed, {run.errors} errors"
              f"{' (timed out)' if run.timed_out else ''}")
    if not run.selected:
        return f"The tests fail. Command: `{run.command}` — {counts}."
    suite = loop.suite or run
    return (f"The tests fail. Command: `{run.command}`, re-run for just the {len(run.selected)} selected "
            f"test{'s' if len(run.selected) != 1 else ''} that failed before: {counts}. The whole suite, last run "
            f"{loop.suite_when}: {suite.passed} passed, {_failing(suite)} failing.")


def _reported(loop: _Loop) -> list[FailureTrace]:
    """The failures the runner's report lists, for when the engine cannot read them from the output."""
    return [reported_failure(f.test_id, loop.command.kind, f.message, f.file, f.line, f.output)
            for f in loop.verdict.failures]


def _diagnose_request(loop: _Loop, context: ContextResult, earlier: str, instruction: str) -> str:
    """The failures and the code involved; the context engine groups the failures, quotes the
    code, and trims the output, within its budget (`codegen context --test-output` shows the same).
    After the first iteration: what was tried and what came of it, and the code asked for before."""
    run = loop.verdict
    parts = [_test_summary(loop)]
    if not context.failures:
        # The engine could not read failures from the output; the runner's structured report may have.
        parts.append("Failures:\n" + _failure_report(run))
    parts.append(context.text)
    parts.append(earlier)
    parts.append(history_text(loop.iterations))
    parts.append(instruction)
    return "\n\n".join(filter(None, parts))


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"
