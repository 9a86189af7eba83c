(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(class_declaration name: (identifier) @name) @definition.class
(method_definition name: (_) @name) @definition.method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.function
(program (lexical_declaration (variable_declarator name: (identifier) @name value: (_) @value) @definition.constant))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name value: (_) @value) @definition.constant)))
(program (variable_declaration (variable_declarator name: (identifier) @name value: (_) @value) @definition.constant))

; CommonJS exports: `exports.add = (a, b) => ...`, `module.exports.add = function (...) {...}`
(expression_statement (assignment_expression
  left: (member_expression object: [(identifier) (member_expression)] @_exports property: (property_identifier) @name)
  right: [(arrow_function) (function_expression)])
  (#match? @_exports "^(module\\.)?exports$")) @definition.function
;
; Functions assigned to a member, as pre-class JavaScript writes methods: `Dicer.prototype._write = function (data, cb) {...}`,
; `Parser.create = (opts) => ...`. Without them, the lines inside such a method belong to no definition.
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
(class_heritage (identifier) @reference)
(import_specifier name: (identifier) @reference)

(import_statement) @import

; CommonJS and re-exports are imports too: `const { a } = require('./x')`, `export { a } from './x'`.
(program (lexical_declaration (variable_declarator value: (call_expression function: (identifier) @_require arguments: (arguments . (string))))) @import (#eq? @_require "require"))
(program (variable_declaration (variable_declarator value: (call_expression function: (identifier) @_require arguments: (arguments . (string))))) @import (#eq? @_require "require"))
(export_statement source: (string)) @import
