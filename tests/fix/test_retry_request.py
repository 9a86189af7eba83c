"""A failed hunk goes back to the model with the whole function around its closest match."""

from __future__ import annotations

from pathlib import Path

from codegen_server.edits import plan_patch
from codegen_server.workflows.changes import retry_request

MODULE = '''\
import math


def area(radius):
    """The area of a circle."""
    if radius < 0:
        raise ValueError("negative radius")
    squared = radius * radius
    return math.pi * squared


def circumference(radius):
    return 2 * math.pi * radius
'''

# The model misremembered two context lines of area(); the hunk cannot be placed.
WRONG_CONTEXT = '''```diff
--- a/geometry.py
+++ b/geometry.py
@@ -6,3 +6,3 @@
     if radius <= 0:
         raise ValueError("radius must be positive")
-    squared = radius * radius
+    squared = radius ** 2
```
'''


def test_the_retry_carries_the_whole_enclosing_function_of_the_closest_match(tmp_path: Path) -> None:
    (tmp_path / "geometry.py").write_text(MODULE)
    patch = plan_patch(WRONG_CONTEXT, tmp_path)
    [failure] = patch.failures
    assert failure.closest_line is not None
    request = retry_request(patch.failures, tmp_path)
    excerpt = request.split("geometry.py around the closest match", 1)[1]
    # All of area(), numbered, from its def line to its return — not a window as long as the hunk.
    for number, line in enumerate(MODULE.splitlines()[3:9], start=4):
        assert f"{number:>5}" in excerpt and line in excerpt
    assert "def circumference" not in excerpt
    assert request.rstrip().endswith("copy context lines exactly from the files.")
    # Without the workspace, the report is the failures alone.
    assert "around the closest match" not in retry_request(patch.failures)
