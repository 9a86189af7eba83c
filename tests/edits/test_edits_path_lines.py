"""Whole-file blocks under the path styles models use in practice."""

from __future__ import annotations

import pytest

from codegen_server.edits import plan_patch

BLOCK = "```python\nx = 1\n```\n"


@pytest.mark.parametrize("answer", [
    "calc/ops.py\n" + BLOCK,
    "### calc/ops.py\n" + BLOCK,
    "### `calc/ops.py`\n" + BLOCK,
    "**`calc/ops.py`**\n" + BLOCK,
    "calc/ops.py:\n" + BLOCK,
    "File: calc/ops.py\n" + BLOCK,
    "1. `calc/ops.py`\n" + BLOCK,
    "2) **calc/ops.py**\n" + BLOCK,
    "- calc/ops.py\n" + BLOCK,
    "```python calc/ops.py\nx = 1\n```\n",
    "Project layout:\n```\ncalc/\n  ops.py\n```\n\ncalc/ops.py\n" + BLOCK,
])
def test_path_line_styles(tmp_path, answer):
    result = plan_patch(answer, tmp_path)
    assert [(c.path, c.kind, c.new_text) for c in result.changes] == [("calc/ops.py", "create", "x = 1\n")]


@pytest.mark.parametrize("first_line", ["# calc/ops.py", "// calc/ops.py", "/* calc/ops.py */"])
def test_a_path_comment_on_the_first_line_names_the_file(tmp_path, first_line):
    result = plan_patch(f"```\n{first_line}\nx = 1\n```\n", tmp_path)
    # The comment stays: it is part of what the model wrote as the file.
    assert [(c.path, c.new_text) for c in result.changes] == [("calc/ops.py", f"{first_line}\nx = 1\n")]


@pytest.mark.parametrize("answer", [
    "Create `calc/ops.py` with:\n" + BLOCK,        # a sentence that mentions a path is not a path line
    "```python\n# utils.py\nx = 1\n```\n",          # a bare name in a comment may be just a comment
])
def test_prose_and_bare_comments_are_not_taken_for_paths(tmp_path, answer):
    result = plan_patch(answer, tmp_path)
    assert not result.changes
