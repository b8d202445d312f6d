// Loading vocabularies and compiling constraints for the `stencil` command (see constraint.h).
#include "cli/constraint.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <unordered_map>

#include "stencil/errors.h"
#ifdef STENCIL_CLI_HAVE_TOKENIZER
#include "stencil/runtime/tokenizer.h"
#endif

namespace stencil::cli {

std::string read_file(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    if (std::cin.bad()) throw Error("cannot read standard input", "-");
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open file", path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error("cannot read file", path);
  return text;
}

Vocabulary byte_vocabulary() {
  std::vector<std::string> tokens;
  tokens.reserve(257);
  for (int b = 0; b < 256; ++b) tokens.push_back(std::string(1, static_cast<char>(b)));
  tokens.push_back("");  // EOS, special
  return Vocabulary::from_tokens(std::move(tokens), {256}, {256});
}

Vocabulary load_vocabulary(const std::string& path) {
  if (path.empty()) return byte_vocabulary();
  return Vocabulary::from_file(path);
}

namespace {

// --regex matches the whole output (docs/cli.md). The regex front end follows JSON Schema's
// `pattern`, where an unanchored pattern matches anywhere, so the pattern is anchored here;
// anchors already present at its ends are accepted inside the group. On an error the user's own
// pattern is compiled again so the reported column points into what they wrote.
CompiledGrammar compile_whole_match_regex(const Compiler& compiler, const std::string& pattern) {
  try {
    return compiler.compile_regex("^(?:" + pattern + ")$");
  } catch (const GrammarError&) {
    compiler.compile_regex(pattern);  // throws with the right column, normally
    throw;
  }
}

}  // namespace

Compiler make_compiler(const Vocabulary& vocab, const ConstraintSpec& spec) {
  CompileOptions options;
  options.json = spec.json;
  return Compiler(vocab, options);
}

CompiledGrammar compile_constraint(const Compiler& compiler, const ConstraintSpec& spec) {
  switch (spec.kind) {
    case ConstraintKind::kGrammar:
      return compiler.compile_grammar(read_file(spec.value));
    case ConstraintKind::kRegex:
      return compile_whole_match_regex(compiler, spec.value);
#ifdef STENCIL_CLI_HAVE_JSON
    case ConstraintKind::kSchema:
      return compiler.compile_json_schema(read_file(spec.value), spec.json);
    case ConstraintKind::kJson:
      // compile_builtin_json() takes the JSON options from the Compiler's own (see make_compiler).
      return compiler.compile_builtin_json();
#else
    case ConstraintKind::kSchema:
    case ConstraintKind::kJson:
      throw Error("--schema and --json are not available in this build (the JSON Schema front end is not linked)");
#endif
    case ConstraintKind::kNone:
      break;
  }
  throw UsageError("a constraint is required");
}

namespace {

#ifdef STENCIL_CLI_HAVE_TOKENIZER
class RealTokenizer : public TextTokenizer {
 public:
  explicit RealTokenizer(Tokenizer t) : tokenizer_(std::move(t)) {}
  std::vector<int32_t> encode(const std::string& text) const override {
    EncodeOptions options;
    options.add_special = false;    // no BOS: this is model output, not a prompt
    options.parse_special = false;  // "<|eot_id|>" inside a document is text
    return tokenizer_.encode(text, options);
  }
  bool is_real() const override { return true; }

 private:
  Tokenizer tokenizer_;
};
#endif

// Greedy longest match over the vocabulary's normal tokens, falling back to single bytes. Not what a
// BPE tokenizer produces, but a valid tokenization, so masks can still be walked.
class GreedyTokenizer : public TextTokenizer {
 public:
  explicit GreedyTokenizer(const Vocabulary& vocab) {
    for (int32_t id = 0; id < vocab.size(); ++id) {
      if (vocab.kind(id) != TokenKind::kNormal) continue;
      std::string_view b = vocab.token_bytes(id);
      if (b.empty()) continue;
      by_bytes_.emplace(std::string(b), id);  // keeps the lowest id for duplicates
      max_len_ = std::max(max_len_, b.size());
    }
  }
  std::vector<int32_t> encode(const std::string& text) const override {
    std::vector<int32_t> out;
    size_t i = 0;
    while (i < text.size()) {
      size_t len = std::min(max_len_, text.size() - i);
      for (; len > 0; --len) {
        auto it = by_bytes_.find(text.substr(i, len));
        if (it != by_bytes_.end()) {
          out.push_back(it->second);
          break;
        }
      }
      if (len == 0) throw Error("the vocabulary has no token for the byte at offset " + std::to_string(i));
      i += len;
    }
    return out;
  }
  bool is_real() const override { return false; }

 private:
  std::unordered_map<std::string, int32_t> by_bytes_;
  size_t max_len_ = 0;
};

}  // namespace

std::unique_ptr<TextTokenizer> make_text_tokenizer(const std::string& path, const Vocabulary& vocab) {
#ifdef STENCIL_CLI_HAVE_TOKENIZER
  if (!path.empty()) return std::make_unique<RealTokenizer>(Tokenizer::from_file(path));
#endif
  return std::make_unique<GreedyTokenizer>(vocab);
}

}  // namespace stencil::cli
