"""Random small Python workspaces for property tests of the reference graph and the ranking."""

from __future__ import annotations

from hypothesis import strategies as st

from codegen_server.context.store import FileRecord
from codegen_server.context.tags import extract

NAMES = ["parse", "render", "Store", "load_all", "_helper", "save", "len", "Widget", "compute_total"]
FILES = ["app/core.py", "app/views.py", "app/store.py", "lib/util.py", "tests/test_core.py"]

# A file is modelled as functions (name -> names its body calls) and one class with methods.
Model = dict[str, list[str]]


def render_file(functions: Model, methods: Model) -> str:
    lines = []
    for name, calls in functions.items():
        lines += [f"def {name}(x):"] + [f"    y = {call}(x)" for call in calls] + ["    return x", ""]
    if methods:
        lines.append("class Holder:")
        for name, calls in methods.items():
            lines += [f"    def {name}(self):"] + [f"        {call}(self)" for call in calls] + ["        pass", ""]
    return "\n".join(lines) + "\n"


def record(path: str, text: str) -> FileRecord:
    return FileRecord(path, 0, len(text), extract("python", text.encode()))


calls = st.lists(st.sampled_from(NAMES), max_size=4)
models = st.tuples(st.dictionaries(st.sampled_from(NAMES), calls, max_size=4),
                   st.dictionaries(st.sampled_from(NAMES), calls, max_size=2))
# An edit: a file gets new call lists for the names it defines (bodies only), or a new model
# altogether (names defined added or removed: the rebuild path), or leaves or rejoins the workspace.
edits = st.tuples(st.sampled_from(FILES), st.sampled_from(["bodies", "bodies", "bodies", "anything", "remove"]),
                  models, st.randoms(use_true_random=False))
