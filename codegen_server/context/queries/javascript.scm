(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(class_declaration name: (identifier) @name) @definition.class
(method_definition name: (_) @name) @definition.method
(variable_declarator name: (identifier) @name value: [(arrow_function) (function_expression)]) @definition.function
(program (lexical_declaration (variable_declarator name: (identifier) @name value: (_) @value) @definition.constant))
(program (export_statement (lexical_declaration (variable_declarator name: (identifier) @name value: (_) @value) @definition.constant)))
(program (variable_declaration (variable_declarator name: (identifier) @name value: (_) @value) @definition.constant))

(call_expression function: (identifier) @reference)
(call_expression function: (member_expression property: (property_identifier) @reference))
(new_expression constructor: (identifier) @reference)
(class_heritage (identifier) @reference)
(import_specifier name: (identifier) @reference)

(import_statement) @import
