"""Reading questions out of the answers models really give to the clarify prompt."""

from __future__ import annotations

import pytest

from codegen_server.workflows.clarify import parse_questions


@pytest.mark.parametrize("answer, questions", [
    ("1. Which database?\n2. Do you need auth?", ["Which database?", "Do you need auth?"]),
    ("Could you clarify a few things?\n\n1. Which database?\n2) Do you need auth?",
     ["Which database?", "Do you need auth?"]),
    ("1. **Storage**: Which database?\n   - PostgreSQL\n   - SQLite\n2. **Auth**: Do you need login?",
     ["Storage: Which database?", "Auth: Do you need login?"]),
    ("Q1: Which database?\nQ2: Do you need auth?", ["Which database?", "Do you need auth?"]),
    ("**1.** Which database?\n**2.** Do you need auth?", ["Which database?", "Do you need auth?"]),
    ("- Which database?\n- Do you need auth?", ["Which database?", "Do you need auth?"]),
    ("I wonder which database you want?\nAnd whether auth is needed?",
     ["I wonder which database you want?", "And whether auth is needed?"]),
])
def test_questions_are_found(answer, questions):
    assert parse_questions(answer) == questions


@pytest.mark.parametrize("answer", [
    "Nothing to clarify.",
    "Nothing more to clarify — I have what I need.",
    "Nothing else to clarify.",
    "No further questions. Ready to generate.",
])
def test_nothing_to_clarify(answer):
    assert parse_questions(answer) == []
