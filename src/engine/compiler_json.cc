// The Compiler's JSON entry points: JSON Schema and the builtin JSON grammar,
// through the schema front end (src/schema). Kept apart from compiler.cc so a
// program that only compiles GBNF or regexes does not link the schema compiler.
#include <chrono>
#include <algorithm>

#include "engine/compiled_grammar_impl.h"
#include "schema/json_schema_grammar.h"

namespace stencil {

CompiledGrammar Compiler::compile_builtin_json() const { return compile_builtin_json(state_->options.json); }

CompiledGrammar Compiler::compile_builtin_json(const JsonOptions& json) const {
  const auto t0 = std::chrono::steady_clock::now();
  schema::SchemaGrammar sg = schema::build_any_json_grammar(json);
  // The builtin grammar is compiled once and reused: precompute its masks so no
  // mask pays for a first visit (the flexible and compact layouts have a few
  // hundred states; `pretty` unrolls indentation per depth and stays lazy).
  CompileOptions options = state_->options;
  options.limits.eager_mask_states = std::max(options.limits.eager_mask_states, 1024);
  return engine::compile_ir(std::move(sg.grammar), state_->vocab, state_->sorted, options, std::move(sg.warnings), t0);
}

CompiledGrammar Compiler::compile_json_schema(std::string_view schema) const {
  return compile_json_schema(schema, state_->options.json);
}

CompiledGrammar Compiler::compile_json_schema(std::string_view schema, const JsonOptions& json) const {
  const auto t0 = std::chrono::steady_clock::now();
  schema::SchemaGrammar sg = schema::build_json_schema_grammar(schema, json);
  return engine::compile_ir(std::move(sg.grammar), state_->vocab, state_->sorted, state_->options, std::move(sg.warnings), t0);
}

}  // namespace stencil
