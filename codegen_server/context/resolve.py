"""Follow what a piece of code calls: names resolved to the definitions they most likely mean.

The index knows every definition by name; a name alone is ambiguous (`parse` is defined in many
files). A call is resolved the way a reader would: through the file's imports (aliases
included, `from m import f as g`, `import { f as g } from './m'`, `const { f } = require('./m')`;
a package's re-exports, one level deep, `export { f } from './m'` too), then methods
through the classes the calling code names, then the same file, then files the caller imports.
"""

from __future__ import annotations

import ast
import posixpath
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from .index import WorkspaceIndex
from .store import FileRecord
from .tags import Definition

MAX_TARGETS = 3  # definitions kept for one name when it stays ambiguous
TEST_FILE = re.compile(r"(^|/)(tests?|spec|__tests__)/|(^|/)(test_[^/]*|[^/]*_test\.\w+|[^/]*\.(test|spec)\.\w+|conftest\.py)$")
CLASS_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "impl"})
VALUE_KINDS = frozenset({"constant", "field", "macro"})  # names of values, not code a call runs
TEST_BLOCK_KINDS = frozenset({"test", "suite"})  # `it('…', () => …)`: named by a title, never called by name
JS_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})
#: What a relative JavaScript/TypeScript import may name: the file with one of these endings, or a folder's index.
JS_ENDINGS = ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".d.ts")
_JS_FROM = re.compile(r"""^(?:import|export)\s+(?:type\s+)?(.*?)\s*\bfrom\s*["']([^"']+)["']""")
_JS_IMPORT_REQUIRE = re.compile(r"""^import\s+(?:type\s+)?([\w$]+)\s*=\s*require\(\s*["']([^"']+)["']""")
_JS_REQUIRE = re.compile(r"""^(?:const|let|var)\s+(.+?)\s*=\s*require\(\s*["']([^"']+)["']\s*\)""")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DISPATCH = re.compile(r"getattr\(\s*[\w.]+\s*,\s*(?:f[\"'](\w+)\{|[\"'](\w+)[\"']\s*\+)")
MAX_DISPATCHED = 6
# Python operators and builtins whose meaning for a class is one of its special methods.
_OPERATORS = [(re.compile(pattern), method) for pattern, method in (
    (r"==", "__eq__"), (r"!=", "__ne__"), (r"[^<=!>]<[^<=]", "__lt__"), (r"<=", "__le__"), (r"[^>=-]>[^>=]", "__gt__"),
    (r">=", "__ge__"), (r"\bhash\(", "__hash__"), (r"\bstr\(|f\"|f'", "__str__"), (r"\brepr\(", "__repr__"),
    (r"\bin\b", "__contains__"), (r"\blen\(", "__len__"), (r"[\w)\]]\[", "__getitem__"), (r"\bfor\b|\blist\(|\biter\(", "__iter__"),
    (r"[^+]\+[^+=]", "__add__"), (r"\bbool\(|\bif\b|\bnot\b", "__bool__"),
)]


def _usage(text: str, name: str) -> tuple[bool, set[str]]:
    """How ``text`` calls ``name``: bare (`f(`), and the receivers written before a dot (`x.f(`)."""
    escaped = re.escape(name)
    bare = re.search(rf"(?<![\w.]){escaped}\s*\(", text) is not None
    receivers = set(re.findall(rf"(\w+)\s*\.\s*{escaped}\b", text))
    dotted = re.search(rf"\.\s*{escaped}\b", text) is not None
    return bare or not dotted, receivers


def is_test_path(path: str) -> bool:
    """True for files that hold tests or test fixtures (tests/, test_*.py, *_test.go, *.test.js, conftest.py)."""
    return bool(TEST_FILE.search(path))


def js_imports(statement: str) -> dict[str, Imported]:
    """Local name -> what it imports, for one JavaScript/TypeScript import, require or re-export statement.

    `import d, { a as b } from './m'`, `import * as ns from './m'`, `import x = require('./m')`,
    `const { a, b: c } = require('./m')`, `const m = require('./m')`, `export { a } from './m'`,
    `export * from './m'`. A default import is taken by its local name (usually the function's own);
    a namespace or a whole required module is the module itself (name None).
    """
    table: dict[str, Imported] = {}
    if match := _JS_FROM.match(statement):
        clause, module = match.groups()
        reexport = statement.startswith("export")
        if clause == "*" and reexport:
            return {f"*{module}": Imported(module, "*")}
        braces = re.search(r"\{(.*?)\}", clause)
        for item in (braces.group(1).split(",") if braces else []):
            original, _, local = item.strip().removeprefix("type ").partition(" as ")
            if original.strip():
                table[(local or original).strip()] = Imported(module, original.strip())
        rest = re.sub(r"\{.*?\}", "", clause)
        if namespace := re.search(r"\*\s*as\s+([\w$]+)", rest):
            table[namespace.group(1)] = Imported(module, None)
        elif (default := re.match(r"^\s*([\w$]+)", rest)) and not reexport:
            table[default.group(1)] = Imported(module, default.group(1))
    elif match := _JS_IMPORT_REQUIRE.match(statement):
        table[match.group(1)] = Imported(match.group(2), None)
    elif match := _JS_REQUIRE.match(statement):
        target, module = match.groups()
        if target.startswith("{"):
            for item in target.strip("{} ").split(","):
                original, _, local = item.partition(":")
                if original.strip():
                    table[(local or original).strip()] = Imported(module, original.strip())
        elif re.fullmatch(r"[\w$]+", target):
            table[target] = Imported(module, None)
    return table


@dataclass(frozen=True)
class Target:
    """One definition: its file and its index in that file's definitions."""

    path: str
    index: int


@dataclass(frozen=True)
class Imported:
    """A name a file imports: from which module, and under which original name (None: the module itself)."""

    module: str
    name: str | None
    level: int = 0  # leading dots of a relative import


class Resolver:
    """Name resolution over one snapshot of the index."""

    def __init__(self, index: WorkspaceIndex, records: dict[str, FileRecord]) -> None:
        self.index = index
        self.records = records
        self.definers: dict[str, list[Target]] = {}
        for path, record in records.items():
            for i, definition in enumerate(record.tags.definitions):
                self.definers.setdefault(definition.name, []).append(Target(path, i))
        self._lines: dict[str, list[str]] = {}
        self._imports: dict[str, dict[str, Imported]] = {}
        self._module_files: dict[tuple[str, str, int], list[str]] = {}

    # -- reading ---------------------------------------------------------------------------------
    def lines(self, path: str) -> list[str]:
        """The file's current lines (editor buffer first)."""
        if path not in self._lines:
            source = self.index.source(path)
            self._lines[path] = source.decode("utf-8", "replace").splitlines() if source is not None else []
        return self._lines[path]

    def definition(self, target: Target) -> Definition:
        return self.records[target.path].tags.definitions[target.index]

    def parent_name(self, target: Target) -> str | None:
        definition = self.definition(target)
        if definition.parent < 0:
            return None
        return self.records[target.path].tags.definitions[definition.parent].name

    def names_used(self, path: str, first: int, last: int) -> list[str]:
        """Names referenced (called, decorated, subclassed) on lines first..last (0-based), in order of use."""
        record = self.records.get(path)
        if record is None:
            return []
        found = [(min(l for l in lines if first <= l <= last), name)
                 for name, lines in record.tags.references.items() if any(first <= l <= last for l in lines)]
        return [name for _, name in sorted(found)]

    def values_used(self, path: str, first: int, last: int) -> list[str]:
        """Functions and classes lines first..last (0-based) pass around without calling them there
        (`map(capitalize)`, `key=sort_key`): names the file imports or defines at top level."""
        record = self.records.get(path)
        if record is None:
            return []
        called = set(self.names_used(path, first, last))
        local = {d.name for d in record.tags.definitions if d.parent < 0 and d.kind not in VALUE_KINDS | TEST_BLOCK_KINDS}
        known = local | {name for name in self.imports(path) if not name.startswith("*")}
        return sorted((self.words_in(path, first, last) & known) - called)

    def words_in(self, path: str, first: int, last: int) -> set[str]:
        """Every identifier written on lines first..last (0-based): the class in `Version.parse(...)` too."""
        return set(_WORD.findall("\n".join(self.lines(path)[first:last + 1])))

    def operator_methods(self, path: str, first: int, last: int, classes: set[str]) -> list[Target]:
        """Methods of ``classes`` that the operators on lines first..last run (`a < b` runs `__lt__`)."""
        text = "\n".join(self.lines(path)[first:last + 1])
        wanted = [method for pattern, method in _OPERATORS if pattern.search(text)]
        return [t for method in wanted for t in self.definers.get(method, ())
                if self.parent_name(t) in classes and not t.path.endswith(".pyi")]

    def dispatched(self, path: str, first: int, last: int, classes: set[str]) -> list[Target]:
        """Methods called by a name built at run time: `getattr(obj, "bump_" + part)()` may run any `bump_*`."""
        text = "\n".join(self.lines(path)[first:last + 1])
        found: list[Target] = []
        for match in _DISPATCH.finditer(text):
            prefix = match.group(1) or match.group(2)
            for name, targets in self.definers.items():
                if name.startswith(prefix) and name != prefix:
                    found += [t for t in targets if self.parent_name(t) in classes and not t.path.endswith(".pyi")
                              and t not in found]
        return found[:MAX_DISPATCHED]

    # -- imports ---------------------------------------------------------------------------------
    def imports(self, path: str) -> dict[str, Imported]:
        """Local name -> what it imports, for a Python, JavaScript or TypeScript file (others: empty)."""
        if path in self._imports:
            return self._imports[path]
        table: dict[str, Imported] = {}
        record = self.records.get(path)
        if record is not None and record.tags.language in JS_LANGUAGES:
            for _, statement in record.tags.imports:
                table.update(js_imports(statement))
        if record is not None and record.tags.language == "python":
            for _, statement in record.tags.imports:
                try:
                    tree = ast.parse(statement)
                except SyntaxError:
                    continue  # a statement cut short by the index's length cap
                for node in tree.body:
                    if isinstance(node, ast.Import):
                        for alias in node.names:
                            local = alias.asname or alias.name.split(".")[0]
                            table[local] = Imported(alias.name if alias.asname else local, None)
                    elif isinstance(node, ast.ImportFrom):
                        for alias in node.names:
                            if alias.name == "*":
                                table[f"*{node.module}"] = Imported(node.module or "", "*", node.level)
                            else:
                                table[alias.asname or alias.name] = Imported(node.module or "", alias.name, node.level)
        self._imports[path] = table
        return table

    def module_files(self, module: str, from_path: str, level: int = 0) -> list[str]:
        """Workspace files a module name means, seen from ``from_path`` (relative imports included)."""
        key = (module, from_path, level)
        if key in self._module_files:
            return self._module_files[key]
        parts = [p for p in module.split(".") if p]
        found: list[str] = []
        if self._is_js(from_path):
            found = self._js_module_files(module, from_path)
        elif level:
            base = PurePosixPath(from_path).parent
            for _ in range(level - 1):
                base = base.parent
            stem = "/".join([str(base)] * (str(base) not in ("", ".")) + parts)
            candidates = [f"{stem}.py", f"{stem}/__init__.py"] if parts else [f"{base}/__init__.py".lstrip("./")]
            found = [c for c in candidates if c in self.records]
        elif parts:
            tail = "/".join(parts)
            found = [p for p in self.records
                     if p == f"{tail}.py" or p == f"{tail}/__init__.py"
                     or p.endswith(f"/{tail}.py") or p.endswith(f"/{tail}/__init__.py")]
        self._module_files[key] = found
        return found

    def _is_js(self, path: str) -> bool:
        record = self.records.get(path)
        return record is not None and record.tags.language in JS_LANGUAGES

    def _js_module_files(self, specifier: str, from_path: str) -> list[str]:
        """The workspace file a relative import names (`./money` is money.ts, money.js or money/index.*;
        TypeScript's `./money.js` may mean money.ts); packages (bare names) are not workspace files."""
        if not specifier.startswith("."):
            return []
        base = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), specifier))
        stems = [base]
        stem, dot, ending = base.rpartition(".")
        if dot and ending in ("js", "jsx", "mjs", "cjs"):
            stems.append(stem)  # TypeScript imports its own modules by the name they compile to
        for candidate in stems:
            for ending in JS_ENDINGS:
                for path in (candidate + ending, f"{candidate}/index{ending}" if ending else None):
                    if path and path in self.records:
                        return [path]
        return []

    def _defined_in(self, name: str, files: list[str], depth: int = 1) -> list[Target]:
        """Definitions of ``name`` in ``files`` (constants aside), following their re-exports ``depth`` levels."""
        targets = [t for t in self.definers.get(name, ()) if t.path in files and self.definition(t).parent < 0
                   and self.definition(t).kind not in VALUE_KINDS | TEST_BLOCK_KINDS]
        if targets or depth <= 0:
            return targets
        for path in files:
            table = self.imports(path)
            imported = table.get(name)
            if imported is not None and imported.name is not None:
                targets += self._defined_in(imported.name, self.module_files(imported.module, path, imported.level),
                                            depth - 1)
            for star in (i for key, i in table.items() if key.startswith("*")):
                targets += self._defined_in(name, self.module_files(star.module, path, star.level), depth - 1)
        return targets

    def imported_files(self, path: str) -> set[str]:
        """Files ``path`` imports from, with the files those packages re-export from (one level)."""
        files: set[str] = set()
        for imported in self.imports(path).values():
            direct = self.module_files(imported.module, path, imported.level)
            if imported.name not in (None, "*") and not self._is_js(path):
                # `from pkg import mod` may name a submodule.
                direct = direct + self.module_files(f"{imported.module}.{imported.name}", path, imported.level)
            files.update(direct)
            for file in direct:
                for again in self.imports(file).values():
                    files.update(self.module_files(again.module, file, again.level))
        return files

    # -- resolution ------------------------------------------------------------------------------
    def resolve(self, name: str, from_path: str, classes: set[str] = frozenset(), text: str | None = None) -> list[Target]:
        """The definitions ``name`` most likely means when used in ``from_path``.

        ``classes`` are class names the calling code mentions (or its own class): a method of
        one of them beats a namesake elsewhere. ``text`` is the calling code: how the name is
        called there (`f(...)`, `module.f(...)`, `obj.f(...)`, `Class.f(...)`) narrows it further.
        """
        table = self.imports(from_path)
        bare, receivers = _usage(text, name) if text is not None else (True, set())
        imported = table.get(name)
        if bare and imported is not None and imported.name not in (None, "*"):
            files = self.module_files(imported.module, from_path, imported.level)
            targets = self._defined_in(imported.name, files)
            if targets:
                return targets[:MAX_TARGETS]
        for receiver in receivers:  # `mi.take(...)` with `import more_itertools as mi`
            module = table.get(receiver)
            if module is not None and module.name is None:
                targets = self._defined_in(name, self.module_files(module.module, from_path, module.level))
                if targets:
                    return targets[:MAX_TARGETS]
        candidates = [t for t in self.definers.get(name, ()) if self._callable_from(t, from_path)]
        if not candidates:
            return []
        near = self.imported_files(from_path)
        scored = []
        for target in candidates:
            score = 0.0
            parent = self.parent_name(target)
            if parent is not None and parent in receivers:
                score += 6  # `Class.method(...)`
            if parent is not None and parent in classes:
                score += 4
            if receivers and not bare:
                score += 1 if parent is not None else -1  # `obj.f(...)` means a method
            if target.path == from_path:
                score += 3
            if target.path in near:
                score += 2
            if is_test_path(target.path) and not is_test_path(from_path):
                score -= 2
            if target.path.endswith(".pyi"):
                score -= 3  # a stub declares what the module next to it defines
            scored.append((score, target))
        best = max(score for score, _ in scored)
        if best <= 0 and len(candidates) > MAX_TARGETS:
            return []  # a common name nothing ties to this caller: guessing would add noise
        return [t for score, t in sorted(scored, key=lambda item: -item[0]) if score == best][:MAX_TARGETS]

    def _callable_from(self, target: Target, from_path: str) -> bool:
        """Top-level definitions and members of classes; functions nested in functions only from their own file."""
        definition = self.definition(target)
        if definition.kind in VALUE_KINDS or definition.kind in TEST_BLOCK_KINDS:
            return False
        if definition.parent < 0:
            return True
        parent = self.records[target.path].tags.definitions[definition.parent]
        return parent.kind in CLASS_KINDS or target.path == from_path

    def class_names(self, names: list[str]) -> set[str]:
        """Which of ``names`` are classes somewhere in the workspace."""
        return {n for n in names if any(self.definition(t).kind in CLASS_KINDS for t in self.definers.get(n, ()))}

    def enclosing(self, path: str, line: int) -> Target | None:
        """The innermost definition containing ``line`` (0-based) in ``path``, if any."""
        record = self.records.get(path)
        if record is None:
            return None
        best = None
        for i, d in enumerate(record.tags.definitions):
            if d.line <= line <= d.end_line and d.kind not in ("constant", "field"):
                best = i  # definitions are in start order, so the last match is the innermost
        return Target(path, best) if best is not None else None

    def enclosing_test(self, path: str, line: int) -> Target | None:
        """The test around ``line``: the innermost test block (`it('…', () => …)`), else the enclosing function."""
        record = self.records.get(path)
        if record is None:
            return None
        blocks = [i for i, d in enumerate(record.tags.definitions) if d.kind == "test" and d.line <= line <= d.end_line]
        return Target(path, blocks[-1]) if blocks else self.enclosing_function(path, line)

    def is_test(self, target: Target) -> bool:
        """Whether a definition is test code: in a test file, a test block, or a Rust `#[test]` function
        or `mod tests` member next to the code it tests."""
        if is_test_path(target.path):
            return True
        definitions = self.records[target.path].tags.definitions
        definition = definitions[target.index]
        if definition.kind in TEST_BLOCK_KINDS:
            return True
        if self.records[target.path].tags.language != "rust":
            return False
        lines = self.lines(target.path)
        if 0 < definition.line < len(lines) and lines[definition.line - 1].strip().startswith(("#[test", "#[tokio::test")):
            return True
        parent = definition.parent
        while parent >= 0:
            if definitions[parent].kind == "module" and definitions[parent].name == "tests":
                return True
            parent = definitions[parent].parent
        return False

    def enclosing_function(self, path: str, line: int) -> Target | None:
        """The innermost function or method containing ``line``, else the innermost definition."""
        record = self.records.get(path)
        if record is None:
            return None
        inner = self.enclosing(path, line)
        target = inner
        while target is not None:
            definition = self.definition(target)
            if definition.kind in ("function", "method"):
                return target
            target = Target(path, definition.parent) if definition.parent >= 0 else None
        return inner
