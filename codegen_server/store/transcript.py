"""A run's transcript: what was asked, what the model answered, and what became of it, as Markdown.

Written as ``transcript.md`` in the run's folder for people (an editor opens it with
`window/showDocument`); codegen never reads it back. The run store rewrites it whenever the run
records something (run.json, a model call, clarify rounds, fix iterations), so every kind of run has
one and an editor showing it follows the run as it works. Built only from what the run store sealed,
so it says nothing the run did not record. The model's system
message is left out (it is the shipped preprompt, the same for every run); each call's last request
message and its answer are quoted whole.
"""

from __future__ import annotations

import re
from typing import Any

#: run.json fields that say what the user asked, in the order they are shown.
_ASKED = (("prompt", "Prompt"), ("comment", "Comment"), ("question", "Question"), ("path", "File"),
          ("lines", "Lines"), ("test_command", "Test command"))


def _fenced(text: str, language: str = "") -> str:
    """``text`` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _outcome_lines(outcome: Any) -> list[str]:
    if not isinstance(outcome, dict):
        return [f"- {outcome}"] if outcome else []
    lines: list[str] = []
    if "applied" in outcome:
        lines.append(f"- Applied: {'yes' if outcome['applied'] else 'no'}"
                     + (f" ({outcome['reason']})" if outcome.get("reason") else ""))
    files = [f"`{f['path']}` ({f.get('action', 'change')})" for f in outcome.get("files") or []
             if isinstance(f, dict) and "path" in f]
    if files:
        lines.append(f"- Files: {', '.join(files)}")
    for key in ("explanation", "diagnosis", "summary"):
        if isinstance(outcome.get(key), str) and outcome[key].strip():
            lines.append(f"- {key.capitalize()}: {outcome[key].strip()}")
    return lines


def _questions_lines(clarify: dict) -> list[str]:
    """Each clarify round's questions and the user's answers."""
    lines: list[str] = []
    for number, round_ in enumerate(clarify.get("rounds") or [], 1):
        if not isinstance(round_, dict):
            continue
        lines += ["", f"## Questions, round {number}", ""]
        answers = round_.get("answers")
        for index, question in enumerate(round_.get("questions") or []):
            answer = answers[index] if isinstance(answers, list) and index < len(answers) else None
            shown = "_not answered yet_" if answers is None else (answer or "_no answer_")
            lines += [f"- **Q:** {question}", f"  **A:** {shown}"]
    return lines


def _iteration_lines(iterations: list[Any]) -> list[str]:
    """A fix run's iterations: failing tests before and after, the diagnosis, the files edited."""
    lines: list[str] = []
    for item in iterations:
        if not isinstance(item, dict):
            continue
        lines += ["", f"## Iteration {item.get('number', '?')}", "",
                  f"- Tests failing: {item.get('failing_before', '?')} before, {item.get('failing_after', '?')} after"]
        if item.get("edited"):
            lines.append(f"- Edited: {', '.join(f'`{path}`' for path in item['edited'])}")
        if item.get("refused"):
            lines.append(f"- Not made: {'; '.join(map(str, item['refused']))}")
        if isinstance(item.get("diagnosis"), str) and item["diagnosis"].strip():
            lines.append(f"- Diagnosis: {item['diagnosis'].strip()}")
    return lines


def _tests_line(tests: Any) -> list[str]:
    if not isinstance(tests, dict) or "failed" not in tests:
        return []
    return [f"- Tests: {tests.get('passed', '?')} passed, {tests['failed']} failed"
            + (f" with `{tests['command']}`" if tests.get("command") else "")]


def render_transcript(meta: dict, calls: list[dict], clarify: dict | None = None,
                      iterations: list[Any] | None = None) -> str:
    """The Markdown transcript of a run from its run.json (``meta``), its recorded ``calls``, its
    clarify rounds (clarify.json) and a fix run's ``iterations`` (iterations.json)."""
    kind, run_id = meta.get("kind", "run"), meta.get("id", "?")
    parts = [f"# codegen {kind} — run {run_id}", "",
             f"- Started: {meta.get('created', '?')}; last update: {meta.get('updated', '?')}",
             f"- Status: {meta.get('status', 'running')}"]
    parts += _outcome_lines(meta.get("outcome"))
    parts += _tests_line(meta.get("tests"))
    asked = [(label, meta[key]) for key, label in _ASKED if meta.get(key) not in (None, "", [])]
    if asked:
        parts += ["", "## Asked", ""]
        for label, value in asked:
            value = "–".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"**{label}:** {value}" if "\n" not in value else f"**{label}:**\n\n{_fenced(value)}")
            parts.append("")
    parts += _questions_lines(clarify or {})
    parts += _iteration_lines(iterations or [])
    for number, call in enumerate(calls, 1):
        purpose = call.get("purpose", "call")
        messages = (call.get("request") or {}).get("messages") or []
        last = next((m for m in reversed(messages) if m.get("role") != "system"), None)
        response = call.get("response") or {}
        parts += ["", f"## {number}. {purpose}", ""]
        if last is not None:
            content = last.get("content")
            text = content if isinstance(content, str) else str(content)
            parts += [f"**Sent** ({last.get('role', 'user')}, the last of {len(messages)} messages):", "",
                      _fenced(text), ""]
        if "error" in response:
            parts += [f"**Failed:** {response.get('error')}: {response.get('message', '')}", ""]
        answer = response.get("content") or response.get("partial_content")
        if isinstance(answer, str):
            parts += ["**Answer:**", "", _fenced(answer), ""]
    return "\n".join(parts).rstrip() + "\n"

