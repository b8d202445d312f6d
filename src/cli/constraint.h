// Turning a parsed constraint into a CompiledGrammar: loading the vocabulary (a
// tokenizer.json / GGUF, or the 256 single bytes when no tokenizer is given), reading
// the schema or grammar file, and calling the matching Compiler entry point.
//
// Also the text tokenizer used by `check` and `bench`: the runtime's real Tokenizer
// when the library has it (STENCIL_CLI_HAVE_TOKENIZER), else a greedy longest-match
// over the vocabulary that says on stderr it is not the real tokenization.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "stencil/compiler.h"
#include "stencil/vocabulary.h"

namespace stencil::cli {

// Reads a whole file ("-" is stdin). Throws stencil::Error naming the file.
std::string read_file(const std::string& path);

// A vocabulary of the 256 single bytes plus one EOS id (256), for checking a constraint without a tokenizer.
Vocabulary byte_vocabulary();

// Vocabulary::from_file(path), or byte_vocabulary() when path is empty.
Vocabulary load_vocabulary(const std::string& path);

// A Compiler for `vocab` whose JSON options are the constraint's (--whitespace ... apply to --json too).
Compiler make_compiler(const Vocabulary& vocab, const ConstraintSpec& spec);

// Compiles the constraint with a compiler from make_compiler(..., spec). Throws stencil::Error (GrammarError,
// SchemaError ...).
CompiledGrammar compile_constraint(const Compiler& compiler, const ConstraintSpec& spec);

// Text -> token ids the way a model would see them.
class TextTokenizer {
 public:
  virtual ~TextTokenizer() = default;
  virtual std::vector<int32_t> encode(const std::string& text) const = 0;
  // True when encode() is the tokenizer's own algorithm (not the greedy fallback).
  virtual bool is_real() const = 0;
};

// The real tokenizer from `path` when the library provides one, else the greedy
// longest-match over `vocab`.
std::unique_ptr<TextTokenizer> make_text_tokenizer(const std::string& path, const Vocabulary& vocab);

}  // namespace stencil::cli
