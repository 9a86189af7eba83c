(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(function_signature name: (identifier) @name) @definition.function
(class_declaration name: (_) @name) @definition.class
(abstract_class_declaration name: (_) @name) @definition.class
(interface_declaration name: (_) @name) @definition.interface
(type_alias_declaration name: (_) @name) @definition.type
(enum_declaration name: (_) @name) @definition.enum
(internal_module name: (_) @name) @definition.module
(method_definition name: (_) @name) @definition.method
(method_signature name: (_) @name) @definition.method
(abstract_method_signature name: (_) @name) @definition.method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.function
(program (lexical_declaration (variable_declarator name: (identifier) @name value: (_) @value) @definition.constant))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name value: (_) @value) @definition.constant)))

; CommonJS exports: `exports.add = (a, b) => ...`, `module.exports.add = function (...) {...}`
(expression_statement (assignment_expression
  left: (member_expression object: [(identifier) (member_expression)] @_exports property: (property_identifier) @name)
  right: [(arrow_function) (function_expression)])
  (#match? @_exports "^(module\\.)?exports$")) @definition.function
;
; Functions assigned to a member, as pre-class code writes methods: `Parser.prototype.push = function (data) {...}`.
(expression_statement (assignment_expression
  left: (member_expression object: (_) @_owner property: (property_identifier) @name)
  right: [(arrow_function) (function_expression)])
  (#not-match? @_owner "^(module\\.)?exports$")) @definition.function

; Test blocks (jest, vitest, mocha, node:test), named by their title as written:
; `describe('cart', () => {...})`, `test.describe(...)`, `it.only("adds", ...)`, `test.each(rows)('adds %i', ...)`.
; Options may come between the title and the function: node:test's `test('adds', { timeout: 500 }, (t) => {...})`.
(call_expression
  function: (identifier) @_runner
  arguments: (arguments . [(string) (template_string)] @name [(arrow_function) (function_expression)])
  (#match? @_runner "^(describe|suite|context)$")) @definition.suite
(call_expression
  function: (member_expression object: (identifier) @_runner)
  arguments: (arguments . [(string) (template_string)] @name [(arrow_function) (function_expression)])
  (#match? @_runner "^(describe|suite|context)$")) @definition.suite
(call_expression
  function: (member_expression object: (identifier) @_runner property: (property_identifier) @_how)
  arguments: (arguments . [(string) (template_string)] @name [(arrow_function) (function_expression)])
  (#eq? @_runner "test") (#match? @_how "^(describe|suite)$")) @definition.suite
(call_expression
  function: (identifier) @_runner
  arguments: (arguments . [(string) (template_string)] @name [(arrow_function) (function_expression)])
  (#match? @_runner "^(it|test|specify)$")) @definition.test
(call_expression
  function: (member_expression object: (identifier) @_runner property: (property_identifier) @_how)
  arguments: (arguments . [(string) (template_string)] @name [(arrow_function) (function_expression)])
  (#match? @_runner "^(it|test|specify)$") (#not-match? @_how "^(describe|suite)$")) @definition.test
(call_expression
  function: (call_expression function: (member_expression object: (identifier) @_runner property: (property_identifier) @_each))
  arguments: (arguments . [(string) (template_string)] @name [(arrow_function) (function_expression)])
  (#match? @_runner "^(it|test)$") (#eq? @_each "each")) @definition.test
; node:test's subtests, through the context the test function gets: `await t.test('inner', () => {...})`.
(call_expression
  function: (member_expression object: (identifier) property: (property_identifier) @_how)
  arguments: (arguments . [(string) (template_string)] @name [(arrow_function) (function_expression)])
  (#eq? @_how "test")) @definition.test

(call_expression function: (identifier) @reference)
(call_expression function: (member_expression property: (property_identifier) @reference))
(new_expression constructor: (identifier) @reference)
(extends_clause value: (identifier) @reference)
(implements_clause (type_identifier) @reference)
(type_annotation (type_identifier) @reference)
(import_specifier name: (identifier) @reference)

(import_statement) @import

; CommonJS and re-exports are imports too: `const { a } = require('./x')`, `export { a } from './x'`.
(program (lexical_declaration (variable_declarator value: (call_expression function: (identifier) @_require arguments: (arguments . (string))))) @import (#eq? @_require "require"))
(program (variable_declaration (variable_declarator value: (call_expression function: (identifier) @_require arguments: (arguments . (string))))) @import (#eq? @_require "require"))
(export_statement source: (string)) @import
