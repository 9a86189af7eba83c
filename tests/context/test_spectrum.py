"""Spectrum-based ranking: Ochiai's score, and which of equally scored lines comes first."""

from __future__ import annotations

from codegen_server.context.spectrum import Execution, ochiai


def test_equally_scored_lines_rank_those_every_failing_test_ran_first() -> None:
    # Three failing tests, six passing. `core.py:10` is run by all three failing tests and all six
    # passing ones; `edge.py:5` by one failing test alone. Both score 1/sqrt(3), up to float noise
    # (which, unrounded, puts edge.py first).
    executions = [Execution(True, {"pkg/core.py": {10}, "pkg/edge.py": {5} if i == 0 else set()}) for i in range(3)]
    executions += [Execution(False, {"pkg/core.py": {10}}) for _ in range(6)]
    ranked = ochiai(executions)
    assert [(s.path, s.line, s.failed, s.passed) for s in ranked] == [("pkg/core.py", 10, 3, 6), ("pkg/edge.py", 5, 1, 0)]
    assert abs(ranked[0].score - ranked[1].score) < 1e-12


def test_lines_only_failing_tests_run_score_highest_and_test_files_are_no_suspects() -> None:
    executions = [
        Execution(True, {"pkg/a.py": {1, 2, 3}, "tests/test_a.py": {7}}, weight=2),
        Execution(False, {"pkg/a.py": {1, 2}, "tests/test_a.py": {8}}, weight=3),
    ]
    ranked = ochiai(executions)
    assert [(s.line, round(s.score, 3)) for s in ranked] == [(3, 1.0), (1, 0.632), (2, 0.632)]
    assert all(s.path == "pkg/a.py" for s in ranked)
    assert ochiai([Execution(False, {"pkg/a.py": {1}})]) == []


def test_a_line_in_a_prototype_method_ranks_that_method(tmp_path) -> None:
    # Pre-class JavaScript writes methods as assignments; a suspect line inside one belongs to it
    # (before, it belonged to no definition and the method was never quoted).
    from codegen_server.context.index import WorkspaceIndex
    from codegen_server.context.resolve import Resolver
    from codegen_server.context.spectrum import suspect_functions

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/parser.js").write_text(
        "function Parser (cfg) {\n  this.parts = 0\n}\n\n"
        "Parser.prototype.push = function (data) {\n  if (data.length > 1) { this.parts += 1 }\n  return this.parts\n}\n\n"
        "Parser.create = (cfg) => new Parser(cfg)\n\nmodule.exports = Parser\n")
    index = WorkspaceIndex(tmp_path)
    index.refresh()
    resolver = Resolver(index, {"lib/parser.js": index.get("lib/parser.js")})
    ranked = ochiai([Execution(True, {"lib/parser.js": {6, 10}}), Execution(False, {"lib/parser.js": {10}})])
    found = [(resolver.definition(s.target).name, round(s.score, 3)) for s in suspect_functions(resolver, ranked, 3)]
    assert found == [("push", 1.0), ("create", 0.707)]


def test_a_long_suspect_that_does_not_fit_whole_is_quoted_around_its_most_suspicious_lines(tmp_path) -> None:
    # 60 branches, ~1.5k tokens: too long for the budget whole. Its brief form used to be its signature
    # line (a body under 150 lines has no window), which dropped the one line the coverage run pointed at.
    import subprocess
    import sys

    from codegen_server.context import ContextEngine
    from codegen_server.context.spectrum import Suspect

    branches = "".join(f"    elif code == {n}:\n        kind = 'code number {n} of the long list of codes'\n"
                       for n in range(1, 60))
    slip = "    elif code == 56 + 1:  # the slip\n"
    source = "def classify(code):\n    if code == 0:\n        kind = 'zero'\n" + branches + "    return kind\n"
    source = source.replace("    elif code == 56:\n", slip)
    (tmp_path / "codes").mkdir()
    (tmp_path / "codes/__init__.py").write_text("")
    (tmp_path / "codes/table.py").write_text(source)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_table.py").write_text(
        "from codes.table import classify\n\n\ndef test_fifty_six():\n"
        "    assert classify(56) == 'code number 56 of the long list of codes'\n")
    output = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"], cwd=tmp_path,
                            capture_output=True, text=True).stdout
    lines = source.splitlines()
    at = lines.index(slip.rstrip("\n")) + 1
    # The coverage run: the slipped branch's test alone ran that line; the first branches run for every code.
    suspects = [Suspect("codes/table.py", at, 1.0, 1, 0)] + [Suspect("codes/table.py", n, 0.5, 1, 3) for n in (1, 2, 4)]
    text = ContextEngine(tmp_path).build(test_output=output, suspects=suspects, budget=1000).text

    assert "around its most suspicious lines `classify` (codes/table.py:1-" in text, text
    assert f"{at:>5}> {slip.rstrip()}" in text  # the line, marked
    assert "    1  def classify(code):" in text  # its signature
    assert "code == 30" not in text  # not the whole body
