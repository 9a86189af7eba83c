"""Feedback: a reviewer's comments become changes — a comment on a range, a reply in its thread,
or the `codegen:` marker comments written into the code (ai_coder's review loop, gpt-engineer's
feedback that it remembers).

Recipe for a comment on a range:
1. Start a run holding the comment, the range and the run it replies to (its thread).
2. Context: the code around the range (enclosing function and class, what it uses, what calls
   it, the tests that exercise it), then the repo map, within budget — always the code as it is now.
3. Ask the model; the earlier turns of the thread come first, each with what became of it.
4. Read the answer: a change, a question back, or "no change needed" — and any lasting
   preference it proposes to remember.
5. Offer the change through the applier (editor preview, disk, or nothing); record the turn.
6. Remember what the user asked to; with ``verify``, run the tests that cover the change.

Marker comments follow the same steps with every marker in one request; the markers the model
acted on are removed in the same change, the others stay and are reported.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

from ..context.markers import Marker, collect_markers, remove_markers
from ..edits import PatchResult, render_diff
from ..edits.paths import read_workspace_text
from ..edits.types import EditLimits, FileChange
from ..preprompts import answer_formats
from ..store import Run, memory
from .changes import ChangeOutcome, ProposedChange, ask_for_changes, offer_changes
from .context import gather_context
from .host import Applier, Host, WorkflowError
from .thread import Turn, load_thread, outcome_text, save_thread, thread_messages
from .verify import TestCheck, check_tests

CONTEXT_BUDGET = 6000
#: A file with markers is shown whole up to this many lines; a longer one by the markers' surroundings.
WHOLE_FILE_LINES = 400

_DIRECTIVE = re.compile(r"^\s*(?:[-*]\s*)?\**(QUESTION|NO CHANGE|REMEMBER|DONE|NOT DONE)\**\s*:\s*(.*)$",
                        re.IGNORECASE | re.MULTILINE)


@dataclass
class FeedbackResult(ChangeOutcome):
    #: The model's prose about the change, before its diffs.
    explanation: str = ""
    #: A question the model asked back instead of changing anything.
    question: str = ""
    #: Whether the model proposed a change at all.
    changed: bool = False
    #: Lasting preferences the model proposed; the user decides whether to keep them.
    proposed_memory: list[str] = field(default_factory=list)
    #: Preferences added to .codegen/memory.md by this run.
    remembered: list[str] = field(default_factory=list)
    #: The tests after the change (``verify``), or None when they were not run.
    tests: TestCheck | None = None
    #: With marker comments: ``{"acted": [...], "remaining": [...]}``.
    markers: dict | None = None


@dataclass
class _Answer:
    """What an answer says besides its edits."""

    explanation: str
    question: str = ""
    proposed_memory: list[str] = field(default_factory=list)
    done: set[int] = field(default_factory=set)
    not_done: dict[int, str] = field(default_factory=dict)


async def apply_feedback(host: Host, applier: Applier, *, path: str, line_range: tuple[int, int], comment: str,
                         reply_to: str | None = None, remember: bool = False, remember_proposed: bool = False,
                         verify: bool = False, test_command: str | None = None) -> FeedbackResult:
    """Change the code at ``path`` lines ``line_range`` (1-based, inclusive) as ``comment`` asks.

    ``reply_to`` is the runId of the previous turn of the same thread (a feedback or generate run).
    """
    if not comment.strip():
        raise WorkflowError("The feedback comment is empty: say what should change.")
    earlier = await load_thread(host.store.open(reply_to, read_only=True)) if reply_to else []
    run = await host.store.create("feedback", path=path, lines=list(line_range), comment=comment, reply_to=reply_to)
    try:
        where = f"{path}, lines {line_range[0]}-{line_range[1]}"
        context = await _context(host, task=comment, path=path, line_range=line_range, budget=CONTEXT_BUDGET)
        system = await asyncio.to_thread(host.preprompts.system, "feedback", *answer_formats(existing_code=True))
        before = f"What became of your previous answer: {earlier[-1].outcome}\n\n" if earlier else ""
        request = f"{before}Feedback on {where}:\n{comment}\n\nThe code involved, as it is now:\n\n{context}"
        messages = [{"role": "system", "content": system}, *thread_messages(earlier),
                    {"role": "user", "content": request}]

        proposal = await ask_for_changes(host, run, "feedback", messages, require_edit=False, settled=_settled)
        answer = _read_answer(proposal.answer)
        result = await _offer(run, applier, proposal, answer, label=f"codegen: feedback on {where}")
        await save_thread(run, [*earlier, Turn(comment=comment, answer=proposal.answer, where=where,
                                               applied=result.applied, files=[f["path"] for f in result.files],
                                               outcome=outcome_text(result.applied, result.apply, result.reason,
                                                                    [f["path"] for f in result.files],
                                                                    result.changed, result.left_out))])
        return await _finish(host, run, result, remember=[comment] if remember else [],
                             remember_proposed=remember_proposed, verify=verify, test_command=test_command)
    except asyncio.CancelledError:
        await run.update_meta(status="cancelled")
        raise


async def apply_marker_feedback(host: Host, applier: Applier, *, path: str | None = None,
                                remember_proposed: bool = False, verify: bool = False,
                                test_command: str | None = None) -> FeedbackResult:
    """Act on every `codegen:` marker comment in the workspace (or in the file ``path`` only) in one change,
    removing those acted on."""
    markers = await asyncio.to_thread(collect_markers, host.root, dict(host.open_buffers()))
    if path is not None:
        markers = [m for m in markers if m.path == path]
    run = await host.store.create("feedback", markers=[asdict(m) for m in markers])
    if not markers:
        where = path or "the workspace"
        await run.update_meta(status="not-applied", outcome="no marker comments")
        return FeedbackResult(run.id, [], "", False, "none", f"no `codegen:` marker comments in {where}",
                              explanation=f"There are no `codegen:` marker comments in {where}.",
                              markers={"acted": [], "remaining": []})
    try:
        listing = "\n".join(f"{n}. {m.path}, line {m.line + 1}{f' (in {m.scope})' if m.scope else ''}: {m.text}"
                            for n, m in enumerate(markers, 1))
        context = await _marker_context(host, markers)
        system = await asyncio.to_thread(host.preprompts.system, "feedback_markers", *answer_formats(existing_code=True))
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": f"The marker comments:\n{listing}\n\nThe code, as it is now:\n\n{context}"}]

        proposal = await ask_for_changes(host, run, "feedback-markers", messages, require_edit=False, settled=_settled)
        answer = _read_answer(proposal.answer)
        acted, remaining = _acted_on(markers, answer, proposal)
        proposal = await _without_markers(host, proposal, acted)
        result = await _offer(run, applier, proposal, answer, label="codegen: marker comments")
        if not result.applied:
            acted, remaining = [], markers
        notes = [answer.not_done.get(markers.index(m) + 1, "") for m in remaining]
        if result.applied:
            remaining = await _where_now(host, remaining, proposal.patch.changes)
        result.markers = {"acted": [_marker_json(m, host) for m in acted],
                          "remaining": [_marker_json(m, host, note) for m, note in zip(remaining, notes)]}
        return await _finish(host, run, result, remember=[], remember_proposed=remember_proposed, verify=verify,
                             test_command=test_command)
    except asyncio.CancelledError:
        await run.update_meta(status="cancelled")
        raise


async def collect_feedback(host: Host) -> list[dict]:
    """Every `codegen:` marker comment in the workspace: path, uri, line (1-based), range, text, scope."""
    markers = await asyncio.to_thread(collect_markers, host.root, dict(host.open_buffers()))
    return [_marker_json(m, host) for m in markers]


# -- steps --------------------------------------------------------------------------------------

async def _context(host: Host, **request) -> str:
    try:
        context = await asyncio.to_thread(gather_context, host.root, open_files=list(host.open_buffers()), **request)
    except (ValueError, OSError) as error:  # a range outside the file, a file that cannot be read
        raise WorkflowError(str(error)) from None
    return context.text


async def _marker_context(host: Host, markers: list[Marker]) -> str:
    """Each marked file whole when it is short, else the code around each of its markers."""
    buffers = host.open_buffers()
    parts: list[str] = []
    for path in dict.fromkeys(m.path for m in markers):
        text = buffers.get(path)
        if text is None:
            text = await asyncio.to_thread((host.root / path).read_text, encoding="utf-8", errors="replace")
        if text.count("\n") <= WHOLE_FILE_LINES:
            numbered = "\n".join(f"{n:>5}  {line}" for n, line in enumerate(text.splitlines(), 1))
            parts.append(f"{path} (all of it):\n{numbered}")
            continue
        for marker in (m for m in markers if m.path == path):
            parts.append(await _context(host, task=marker.text, path=path,
                                        line_range=(marker.line + 1, marker.end_line + 1),
                                        budget=CONTEXT_BUDGET // max(1, len(markers))))
    return ("(Code is quoted with its line numbers, which are not part of the files.)\n\n"
            + "\n\n".join(parts))


def _settled(answer: str) -> bool:
    """An answer that rightly changes nothing: a question back, no change needed, markers not done."""
    return any(m[1].upper() in ("QUESTION", "NO CHANGE", "DONE", "NOT DONE") for m in _DIRECTIVE.finditer(_prose(answer)))


def _read_answer(answer: str) -> _Answer:
    """The explanation, a question back, proposed preferences, and which markers were done."""
    read = _Answer(explanation=_explanation(answer))
    for match in _DIRECTIVE.finditer(_prose(answer)):
        kind, value = match[1].upper(), match[2].strip()
        if kind == "QUESTION" and value:
            read.question = value
        elif kind == "REMEMBER" and value:
            read.proposed_memory.append(value)
        elif kind == "DONE":
            read.done |= {int(n) for n in re.findall(r"\d+", value)}
        elif kind == "NOT DONE":
            number, _, why = value.partition(" ")
            if number.strip(".,:;").isdigit():
                read.not_done[int(number.strip(".,:;"))] = why.strip(" -—:")
    return read


async def _offer(run: Run, applier: Applier, proposal: ProposedChange, answer: _Answer, *, label: str) -> FeedbackResult:
    """Offer a proposed change; an answer with none (a question, or no change needed) edits nothing."""
    common = {"explanation": answer.explanation, "question": answer.question,
              "proposed_memory": answer.proposed_memory}
    if not proposal.patch.changes and not proposal.patch.failures and not proposal.refused:
        status = "question" if answer.question else "no-change"
        await run.update_meta(status=status, outcome={"applied": False, **common})
        reason = "the model asked a question" if answer.question else "the model proposed no change"
        return FeedbackResult(run.id, [], "", False, "none", reason, [], proposal.usage, **common)
    outcome = await offer_changes(run, applier, proposal, label=label, description=answer.explanation,
                                  explanation=answer.explanation)
    return FeedbackResult(**asdict(outcome), changed=True, **common)


async def _finish(host: Host, run: Run, result: FeedbackResult, *, remember: list[str], remember_proposed: bool,
                  verify: bool, test_command: str | None) -> FeedbackResult:
    """Keep the preferences asked for, check the tests, and record the final outcome."""
    keep = remember + (result.proposed_memory if remember_proposed else [])
    for preference in keep:
        await asyncio.to_thread(memory.remember, host.root, preference)
    result.remembered = keep
    if verify and result.applied:
        host.progress.phase("running the tests the change touches")
        result.tests = await check_tests(host.root, [f["path"] for f in result.files], test_command=test_command)
        if result.tests and result.tests.failed:
            result.reason = (f"the change was applied, and {result.tests.failed} test(s) now fail: "
                             f"{', '.join(result.tests.failing[:5])} — run the fix loop (codegen.fixTests, or "
                             "`codegen fix` from a terminal) to repair")
        elif result.tests and result.tests.error:
            result.reason = f"the change was applied; its tests could not run. {result.tests.error}"
    if keep or result.tests is not None:
        await run.update_meta(remembered=keep, tests=asdict(result.tests) if result.tests else None)
    return result


def _acted_on(markers: list[Marker], answer: _Answer, proposal: ProposedChange) -> tuple[list[Marker], list[Marker]]:
    """Markers the answer carried out: those it lists as done, or (when it lists none) those in files it changed.

    A marker in a file whose change was refused (a blind whole-file rewrite) was not carried out,
    whatever the answer says.
    """
    if answer.done or answer.not_done:
        acted = [m for n, m in enumerate(markers, 1) if n in answer.done and n not in answer.not_done]
    else:
        touched = {c.path for c in proposal.patch.changes}
        acted = [m for m in markers if m.path in touched]
    acted = [m for m in acted if not any(r.startswith(f"{m.path}: ") for r in proposal.refused)]
    return acted, [m for m in markers if m not in acted]


async def _without_markers(host: Host, proposal: ProposedChange, acted: list[Marker]) -> ProposedChange:
    """The proposal with the acted-on marker comments removed (also from files it did not change)."""
    if not acted or proposal.patch.failures or not proposal.patch.changes:
        return proposal
    changes = {c.path: c for c in proposal.patch.changes}
    buffers = host.open_buffers()
    for path in dict.fromkeys(m.path for m in acted):
        change = changes.get(path)
        if change is not None and change.new_text is None:
            continue  # the file is deleted anyway
        if change is None:
            current = buffers.get(path)
            if current is None:
                # As the writer will compare it: bytes decoded, line endings as they are (CRLF stays CRLF).
                current = await asyncio.to_thread(read_workspace_text, host.root, path, EditLimits())
            if current is None:
                continue  # the file is gone since the markers were collected: nothing to remove
            change = FileChange(path, "modify", current, current)
        new_text, _ = remove_markers(change.new_text or "", [m for m in acted if m.path == path])
        changes[path] = replace(change, new_text=new_text)
    kept = [c for c in changes.values() if c.old_text != c.new_text or c.kind != "modify"]
    patch = PatchResult(changes=kept, failures=[], diff=render_diff(kept))
    return replace(proposal, patch=patch)


async def _where_now(host: Host, markers: list[Marker], changes: Sequence[FileChange]) -> list[Marker]:
    """The markers left, where they are after the change (lines above them were added or removed): each
    found again by its file and text, the one nearest its old line; one the change rewrote stays as it was.

    A changed file is read as the change left it: an editor's report of its buffer may not have arrived
    yet (Neovim sends changes after a short debounce), and that buffer would still hold the old lines."""
    texts = dict(host.open_buffers())
    texts.update({c.new_path or c.path: c.new_text for c in changes if c.new_text is not None})
    now = await asyncio.to_thread(collect_markers, host.root, texts)
    taken: set[int] = set()
    found: list[Marker] = []
    for old in markers:
        same = [(abs(m.line - old.line), i) for i, m in enumerate(now)
                if i not in taken and m.path == old.path and m.text == old.text]
        if not same:
            found.append(old)
            continue
        index = min(same)[1]
        taken.add(index)
        found.append(now[index])
    return found


def _marker_json(marker: Marker, host: Host, note: str = "") -> dict:
    entry = {"path": marker.path, "uri": (host.root / marker.path).as_uri(), "line": marker.line + 1,
             "range": {"start": {"line": marker.line, "character": marker.character},
                       "end": {"line": marker.end_line, "character": marker.end_character}},
             "text": marker.text, "scope": marker.scope}
    if note:
        entry["note"] = note
    return entry


def _prose(answer: str) -> str:
    """The answer without its fenced blocks, where directives are not looked for."""
    return re.sub(r"^```.*?^```", "", answer, flags=re.MULTILINE | re.DOTALL)


def _explanation(answer: str) -> str:
    """The prose before the first code block or diff header, without the directive lines."""
    cut = len(answer)
    for marker in ("```", "\n--- ", "\ndiff --git"):
        at = answer.find(marker)
        if at != -1:
            cut = min(cut, at)
    prose = answer[:cut]
    kept = [line for line in prose.splitlines()
            if not (m := _DIRECTIVE.match(line)) or m[1].upper() == "NO CHANGE"]
    text = "\n".join(kept).strip()
    return re.sub(r"^\**NO CHANGE\**\s*:\s*", "", text, flags=re.IGNORECASE)
