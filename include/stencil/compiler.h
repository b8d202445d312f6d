// stencil::Compiler turns a constraint (GBNF grammar, regex, JSON Schema, the
// builtin JSON grammar) into a CompiledGrammar for one Vocabulary.
//
// A CompiledGrammar is immutable: the grammar's automata plus the per-state token
// mask cache. It is cheap to copy (a shared pointer to const) and safe to use
// from any number of threads and Matchers at once.
//
// Thread-safety: Compiler's methods may be called concurrently.
//
//   auto vocab = stencil::Vocabulary::from_tokenizer_json("tokenizer.json");
//   stencil::Compiler compiler(vocab);
//   stencil::CompiledGrammar g = compiler.compile_grammar(R"(root ::= "yes" | "no")");
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stencil/vocabulary.h"

namespace stencil {

// Limits applied while compiling. Hitting one is a LimitError that names it.
struct CompileLimits {
  int32_t max_automaton_states = 200000;  // states over all rules after expansion
  int32_t max_repetition = 10000;         // the largest bound in {m,n} expanded as is (long optional parts are counted instead)
  int32_t max_rules = 100000;
  // Token masks of automaton states are precomputed at compile time when the
  // automaton has at most this many scanning states; otherwise each state's mask
  // data is computed the first time a Matcher reaches it (compile stays fast on
  // huge grammars; the first visit of a state pays instead). compile_builtin_json
  // uses at least 1024.
  int32_t eager_mask_states = 128;
};

enum class WhitespacePolicy : uint8_t {
  kCompact,   // no whitespace at all between JSON tokens
  kPretty,    // one fixed layout: newlines and `indent` spaces per level
  kFlexible,  // any run of whitespace between tokens, bounded (never unbounded)
};

// Options for JSON output (compile_json_schema and compile_builtin_json).
struct JsonOptions {
  WhitespacePolicy whitespace = WhitespacePolicy::kFlexible;
  int32_t indent = 2;                // kPretty: spaces per nesting level
  int32_t max_whitespace_newlines = 1;  // kFlexible: newlines in one run of whitespace
  int32_t max_whitespace_spaces = 16;   // kFlexible: spaces/tabs in one run of whitespace
  // JSON Schema: additionalProperties absent means "no extra properties" (OpenAI strict mode).
  // false restores the JSON Schema default (extra properties allowed).
  bool strict = true;
  // Unsupported keywords are ignored with a warning instead of being an error.
  bool lenient = false;
  // Allow \-escapes in strings (\" \\ \/ \b \f \n \r \t \uXXXX).
  bool allow_escapes = true;
  // `pattern` classes \d \w \s (and complements) produce only what every common regex dialect
  // matches, so validators other than ECMAScript ones (Python's jsonschema) accept the output:
  // \s without U+FEFF, \S without U+0085 or U+001C-U+001F, \D and \W only ASCII. false:
  // ECMAScript exactly, as the JSON Schema spec says (strings only other dialects reject).
  bool portable_patterns = true;
  int32_t max_depth = 64;  // nesting of schemas and $ref expansion
};

struct CompileOptions {
  CompileLimits limits;
  JsonOptions json;
  // Threads that precompute token masks at compile time (the calling thread counts as one).
  // 0: one per hardware thread.
  int32_t threads = 0;
};

struct CompileStats {
  int32_t rules = 0;
  int32_t automaton_states = 0;
  int32_t scanning_states = 0;    // states that read a byte: each gets mask data
  int32_t cached_positions = 0;   // of those, computed at compile time
  int64_t mask_cache_bytes = 0;
  double compile_ms = 0;
};

class CompiledGrammar {
 public:
  const Vocabulary& vocabulary() const noexcept;
  const CompileStats& stats() const noexcept;
  // Warnings collected while compiling (keywords ignored under `lenient` ...).
  const std::vector<std::string>& warnings() const noexcept;
  // The grammar as GBNF text (after lowering from schema/regex), for debugging and golden tests.
  std::string to_gbnf() const;
  int64_t memory_bytes() const noexcept;

  struct Impl;
  const Impl& impl() const noexcept { return *impl_; }
  explicit CompiledGrammar(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<const Impl> impl_;
};

class Compiler {
 public:
  explicit Compiler(Vocabulary vocab, CompileOptions options = {});

  // GBNF (llama.cpp dialect); the start rule is `root`. Throws GrammarError ("line:column").
  CompiledGrammar compile_grammar(std::string_view gbnf) const;
  // An ECMAScript-style regex matched against the whole output. Throws GrammarError.
  CompiledGrammar compile_regex(std::string_view pattern) const;
  // Any JSON value (RFC 8259), with the whitespace policy of options().json (or of `json`).
  CompiledGrammar compile_builtin_json() const;
  CompiledGrammar compile_builtin_json(const JsonOptions& json) const;
  // A JSON Schema (text). Throws SchemaError with a JSON pointer.
  CompiledGrammar compile_json_schema(std::string_view schema) const;
  CompiledGrammar compile_json_schema(std::string_view schema, const JsonOptions& json) const;

  const Vocabulary& vocabulary() const noexcept;
  const CompileOptions& options() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace stencil
