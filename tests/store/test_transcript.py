"""A run's transcript: what was asked, each call's last message and answer, the outcome — as Markdown."""

from __future__ import annotations

import re

from codegen_server.store import RunStore
from codegen_server.store.transcript import render_transcript


def test_an_answer_holding_fences_stays_one_block_and_the_system_prompt_is_left_out():
    answer = "Change:\n```diff\n--- a/x.py\n+++ b/x.py\n```\nand ```` four too"
    meta = {"id": "20261204-100000-abcdef", "kind": "feedback", "status": "applied", "comment": "fix it",
            "outcome": {"applied": True, "files": [{"path": "x.py", "action": "modify"}], "explanation": "Done."}}
    calls = [{"purpose": "feedback", "request": {"messages": [{"role": "system", "content": "SYSTEM RULES"},
                                                              {"role": "user", "content": "please fix x.py"}]},
              "response": {"content": answer}},
             {"purpose": "retry", "request": {"messages": [{"role": "user", "content": "again"}]},
              "response": {"error": "rate-limited", "message": "429 from the server"}}]
    text = render_transcript(meta, calls)
    assert text.startswith("# codegen feedback — run 20261204-100000-abcdef\n")
    assert "- Applied: yes" in text and "`x.py` (modify)" in text and "- Explanation: Done." in text
    assert "**Comment:** fix it" in text and "SYSTEM RULES" not in text
    fence = "`" * 5  # longer than the answer's longest backtick run (4)
    assert f"{fence}\n{answer}\n{fence}" in text
    assert "**Failed:** rate-limited: 429 from the server" in text
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == ["Asked", "1. feedback", "2. retry"]


async def test_the_store_rewrites_the_transcript_as_the_run_records_questions_answers_and_iterations(tmp_path):
    run = await RunStore(tmp_path).create("fix", test_command="pytest -q")
    transcript = tmp_path / ".codegen" / "runs" / run.id / "transcript.md"
    assert "- Status: running" in transcript.read_text() and "**Test command:** pytest -q" in transcript.read_text()
    await run.write_json("clarify.json", {"rounds": [{"questions": ["Which ops?", "CLI too?"], "answers": ["add", ""]}]})
    assert "- **Q:** Which ops?\n  **A:** add" in transcript.read_text()
    assert "- **Q:** CLI too?\n  **A:** _no answer_" in transcript.read_text()
    await run.write_json("iterations.json", {"iterations": [{"number": 1, "failing_before": 2, "failing_after": 0,
                                                             "diagnosis": "add() subtracts.", "edited": ["ops.py"]}]})
    await run.update_meta(status="green", tests={"passed": 3, "failed": 0, "command": "pytest -q"})
    text = transcript.read_text()
    assert "## Iteration 1" in text and "- Tests failing: 2 before, 0 after" in text and "`ops.py`" in text
    assert "- Status: green" in text and "- Tests: 3 passed, 0 failed with `pytest -q`" in text
