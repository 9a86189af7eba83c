"""Model answers used by the scripted model in end-to-end tests: what a good model would say."""

CLARIFY_QUESTIONS = """A few questions before I start:

1. Which operations should the calculator support?
2. Should it be a library, a command-line tool, or both?
"""

NOTHING_TO_CLARIFY = "Nothing to clarify."

CALC_PROJECT = '''Here is the project.

calc/__init__.py
```python
"""A small calculator library."""

from calc.ops import add, divide, multiply, subtract

__all__ = ["add", "subtract", "multiply", "divide"]
```

calc/ops.py
```python
def add(a: float, b: float) -> float:
    return a + b


def subtract(a: float, b: float) -> float:
    return a - b


def multiply(a: float, b: float) -> float:
    return a * b


def divide(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    return a / b
```

calc/cli.py
```python
import argparse

from calc.ops import add, divide, multiply, subtract

OPERATIONS = {"add": add, "sub": subtract, "mul": multiply, "div": divide}


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(prog="calc")
    parser.add_argument("op", choices=sorted(OPERATIONS))
    parser.add_argument("a", type=float)
    parser.add_argument("b", type=float)
    args = parser.parse_args(argv)
    result = OPERATIONS[args.op](args.a, args.b)
    print(result)
    return result
```

conftest.py
```python
# Makes the project root importable for pytest.
```

tests/test_ops.py
```python
import pytest

from calc import add, divide, multiply, subtract
from calc.cli import main


def test_arithmetic():
    assert add(2, 3) == 5
    assert subtract(2, 3) == -1
    assert multiply(2, 3) == 6
    assert divide(3, 2) == 1.5


def test_divide_by_zero():
    with pytest.raises(ZeroDivisionError):
        divide(1, 0)


def test_cli(capsys):
    assert main(["mul", "4", "2.5"]) == 10
    assert capsys.readouterr().out.strip() == "10.0"
```

README.md
```markdown
# calc
Run the tests with `pytest`.
```

Run `pytest` to check it.
'''

CALC_FILES = ["calc/__init__.py", "calc/ops.py", "calc/cli.py", "conftest.py", "tests/test_ops.py", "README.md"]

# CALC_PROJECT with a bug its own tests catch, and the diff that repairs it.
BROKEN_CALC = CALC_PROJECT.replace("def add(a: float, b: float) -> float:\n    return a + b",
                                   "def add(a: float, b: float) -> float:\n    return a - b")
FIX_ADD = """```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,2 +1,2 @@
 def add(a: float, b: float) -> float:
-    return a - b
+    return a + b
```
"""


#: A small module for review-feedback tests, and a model's answer to "mean() of an empty list".
STATS = '''def mean(values):
    return sum(values) / len(values)


def spread(values):
    return max(values) - min(values)
'''

MEAN_EMPTY_LIST = '''`mean` divides by zero on an empty list; return 0.0 for it instead.

```diff
--- a/stats.py
+++ b/stats.py
@@ -1,2 +1,4 @@
 def mean(values):
+    if not values:
+        return 0.0
     return sum(values) / len(values)
```
'''


#: A one-file project answer that only creates a new file: it applies in a workspace that already holds
#: files (a cloned repository's README.md, say), which CALC_PROJECT would rewrite whole.
NEW_MODULE = '''Here it is.

calc.py
```python
def add(a, b):
    return a + b
```
'''
