// The JSON Schema front end: schema text -> grammar IR (grammar/grammar.h) whose
// language is JSON documents valid against the schema, laid out by the
// whitespace policy of JsonOptions. Also the builtin "any JSON value" grammar.
//
// Soundness first: every document the grammar accepts is valid against the schema
// (strict mode additionally forbids properties that `additionalProperties` does not
// mention). Where a keyword cannot be compiled exactly the result is a SchemaError
// naming it and its JSON pointer, or, under `lenient`, the keyword is ignored with
// a warning. See docs/json-schema.md for the supported keywords.
//
//   auto sg = stencil::schema::build_json_schema_grammar(R"({"type":"integer","minimum":0})", {});
//   // sg.grammar's root accepts "0", "17", ...; sg.warnings lists what was ignored.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar.h"
#include "stencil/compiler.h"

namespace stencil::schema {

struct SchemaGrammar {
  grammar::Grammar grammar;
  std::vector<std::string> warnings;
};

// Throws SchemaError (location = JSON pointer, e.g. "/properties/unit/enum") on malformed or
// unsupported schemas, collecting all errors found before failing; LimitError when max_depth
// or another named limit is hit. An OpenAI tool definition
// {"type":"function","function":{"parameters": ...}} compiles its parameters.
SchemaGrammar build_json_schema_grammar(std::string_view schema_json, const JsonOptions& options);

// Any JSON value (RFC 8259) under the whitespace policy: the builtin JSON grammar.
SchemaGrammar build_any_json_grammar(const JsonOptions& options);

}  // namespace stencil::schema
