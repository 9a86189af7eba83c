"""Do generated JavaScript/TypeScript files fit together? Checked with tree-sitter (the index's grammars).

Two mismatches come from writing files separately: a relative import (``import``, ``export ... from``,
``require``) of a file the project does not have, and a name imported from a project file that does
not export it. Only what can be known from the files alone is checked: packages are not, nor are
the names of a module whose exports cannot be listed (``module.exports = someValue``, ``export *``
from a package).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import tree_sitter as ts

from ..context.languages import grammar, language_for_path

JS_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})
#: What an extensionless relative import may name, in the order resolvers try them.
EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
#: TypeScript (ESM) imports name the emitted ``.js`` file; the source is the ``.ts`` one.
SOURCE_FOR_EMITTED = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
DEFAULT = "default"


@dataclass
class _Import:
    line: int  # 1-based
    source: str  # the specifier as written
    names: list[str]  # imported names; "default" for a default import; none for a namespace or whole import


@dataclass
class _Module:
    exports: set[str] = field(default_factory=set)
    star_sources: list[str] = field(default_factory=list)  # the specifiers of its `export * from`
    #: Its exports cannot all be listed (``module.exports = f``, TypeScript's ``export =``).
    unlisted: bool = False
    #: It uses CommonJS exports: a default import gets ``module.exports`` (bundlers' and Node's interop).
    commonjs: bool = False
    imports: list[_Import] = field(default_factory=list)


def js_fit_problems(files: dict[str, str]) -> list[str]:
    """Where generated JS/TS files do not fit: ``"<path>:<line>: imports <spec>, which is not a file of the
    project"`` and ``"<path>:<line>: imports <name> from <spec>, which does not export it — <file>"``."""
    modules = {path: _read(path, text) for path, text in files.items()
               if language_for_path(path) in JS_LANGUAGES}
    problems: list[str] = []
    for path, module in modules.items():
        for imported in module.imports:
            target = _resolve(path, imported.source, files)
            if target is None:
                continue
            if target == "":
                problems.append(f"{path}:{imported.line}: imports {imported.source}, which is not a file of the project")
                continue
            exports = _all_exports(target, modules, files, set())
            if exports is None:
                continue
            commonjs = modules[target].commonjs
            for name in imported.names:
                if name not in exports and not (name == DEFAULT and commonjs):
                    problems.append(f"{path}:{imported.line}: imports {name} from {imported.source}, which does "
                                    f"not export it — {target}")
    return problems


def _resolve(importer: str, source: str, files: dict[str, str]) -> str | None:
    """The project file a relative specifier names; "" when it names a code file the project lacks;
    None when it is not checked (a package, an asset, a path out of the project, a file not JS/TS)."""
    if not source.startswith(("./", "../")):
        return None
    base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), source))
    if base.startswith("../"):
        return None
    stem, extension = posixpath.splitext(base)
    candidates = [base] + [stem + e for e in SOURCE_FOR_EMITTED.get(extension, ())]
    candidates += [base + e for e in EXTENSIONS] + [f"{base}/index{e}" for e in EXTENSIONS]
    found = next((candidate for candidate in candidates if candidate in files), None)
    if found is not None:
        return found if language_for_path(found) in JS_LANGUAGES else None
    return "" if extension in ("", *EXTENSIONS) else None  # `./styles.css`, `./data.json`: assets, not checked


def _all_exports(path: str, modules: dict[str, _Module], files: dict[str, str], seen: set[str]) -> set[str] | None:
    """The names ``path`` exports, through its ``export * from``; None when they cannot all be listed."""
    module = modules[path]
    if module.unlisted or path in seen:
        return None if module.unlisted else set()
    seen.add(path)
    names = set(module.exports)
    for source in module.star_sources:
        target = _resolve(path, source, files)
        if not target:  # a package's or a missing file's names: not known here
            return None
        more = _all_exports(target, modules, files, seen)
        if more is None:
            return None
        names |= more - {DEFAULT}  # `export *` passes on every name but the default
    return names


# -- one file ---------------------------------------------------------------------------------------

def _read(path: str, text: str) -> _Module:
    language = language_for_path(path)
    assert language is not None
    root = ts.Parser(grammar(language)).parse(text.encode("utf-8")).root_node
    module = _Module()
    for node in root.named_children:
        line = node.start_point.row + 1
        if node.type == "import_statement":
            source = _string(node.child_by_field_name("source"))
            if source is not None:
                module.imports.append(_Import(line, source, _imported_names(node)))
        elif node.type == "export_statement":
            _read_export(node, line, module)
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for declarator in node.named_children:
                _read_require(declarator, line, module)
        elif node.type == "expression_statement":
            _read_commonjs_export(node.named_children[0] if node.named_children else None, module)
    return module


def _imported_names(statement: ts.Node) -> list[str]:
    names: list[str] = []
    clause = next((child for child in statement.named_children if child.type == "import_clause"), None)
    for child in clause.named_children if clause is not None else []:
        if child.type == "identifier":
            names.append(DEFAULT)
        elif child.type == "named_imports":
            names += [_text(spec.child_by_field_name("name")) for spec in child.named_children
                      if spec.type == "import_specifier"]
    return names


def _read_export(node: ts.Node, line: int, module: _Module) -> None:
    if any(child.type == "default" for child in node.children):
        module.exports.add(DEFAULT)  # `export default function main() {}` exports "default", not "main"
        return
    if any(child.type == "=" for child in node.children):  # TypeScript's `export = value`
        module.unlisted = True
        return
    source = _string(node.child_by_field_name("source"))
    clause = next((child for child in node.named_children if child.type == "export_clause"), None)
    if clause is not None:
        specifiers = [child for child in clause.named_children if child.type == "export_specifier"]
        module.exports |= {_text(s.child_by_field_name("alias") or s.child_by_field_name("name")) for s in specifiers}
        if source is not None:
            module.imports.append(_Import(line, source, [_text(s.child_by_field_name("name")) for s in specifiers]))
        return
    namespace = next((child for child in node.named_children if child.type == "namespace_export"), None)
    if namespace is not None:  # `export * as ns from './x'`
        module.exports |= {_text(child) for child in namespace.named_children}
        if source is not None:
            module.imports.append(_Import(line, source, []))
        return
    if source is not None:  # `export * from './x'`
        module.star_sources.append(source)
        module.imports.append(_Import(line, source, []))
        return
    declaration = node.child_by_field_name("declaration")
    if declaration is None:
        return
    if declaration.type in ("lexical_declaration", "variable_declaration"):
        for declarator in declaration.named_children:
            module.exports |= _bound_names(declarator.child_by_field_name("name"))
    else:
        name = declaration.child_by_field_name("name")
        if name is not None:
            module.exports.add(_text(name))


def _bound_names(pattern: ts.Node | None) -> set[str]:
    """The names a declarator binds (``a``, ``{a, b: c}``, ``[x, y]``)."""
    if pattern is None:
        return set()
    if pattern.type in ("identifier", "shorthand_property_identifier_pattern"):
        return {_text(pattern)}
    names: set[str] = set()
    for child in pattern.named_children:
        if pattern.type == "pair_pattern" and child == pattern.child_by_field_name("key"):
            continue
        names |= _bound_names(child)
    return names


def _read_require(declarator: ts.Node, line: int, module: _Module) -> None:
    """``const x = require('./a')`` (a whole import) and ``const {a, b: c} = require('./a')`` (names a, b)."""
    value = declarator.child_by_field_name("value")
    if value is None or value.type != "call_expression" or _text(value.child_by_field_name("function")) != "require":
        return
    arguments = value.child_by_field_name("arguments")
    strings = [child for child in arguments.named_children if child.type == "string"] if arguments else []
    source = _string(strings[0]) if len(strings) == 1 else None
    if source is None:
        return
    pattern = declarator.child_by_field_name("name")
    names: list[str] = []
    if pattern is not None and pattern.type == "object_pattern":
        for child in pattern.named_children:
            if child.type == "shorthand_property_identifier_pattern":
                names.append(_text(child))
            elif child.type == "pair_pattern":
                key = child.child_by_field_name("key")
                if key is not None and key.type == "property_identifier":
                    names.append(_text(key))
    module.imports.append(_Import(line, source, names))


def _read_commonjs_export(expression: ts.Node | None, module: _Module) -> None:
    """``module.exports = {...}``, ``module.exports = f``, ``exports.a = ...``, ``module.exports.a = ...``."""
    if expression is None or expression.type != "assignment_expression":
        return
    left, right = expression.child_by_field_name("left"), expression.child_by_field_name("right")
    target = _text(left) if left is not None else ""
    if target == "module.exports":
        module.commonjs = True
        if right is not None and right.type == "object":
            for child in right.named_children:
                key = child if child.type == "shorthand_property_identifier" else child.child_by_field_name(
                    "key" if child.type == "pair" else "name")
                if key is not None and key.type in ("property_identifier", "shorthand_property_identifier"):
                    module.exports.add(_text(key))
                elif child.type == "spread_element" or key is not None:  # `...other`, `["computed"]: x`
                    module.unlisted = True
        else:
            module.unlisted = True
    elif left is not None and left.type == "member_expression" and target.rsplit(".", 1)[0] in ("exports",
                                                                                                 "module.exports"):
        module.commonjs = True
        module.exports.add(target.rsplit(".", 1)[1])


def _string(node: ts.Node | None) -> str | None:
    """The value of a plain string literal (no escapes to undo in a module specifier), else None."""
    if node is None or node.type != "string":
        return None
    fragments = [child for child in node.named_children if child.type == "string_fragment"]
    return _text(fragments[0]) if len(fragments) == 1 else ("" if not node.named_children else None)


def _text(node: ts.Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""
