// `stencil check`: does a text match the constraint? First byte by byte
// (Matcher::accept_bytes, then can_terminate); with --tokenizer also token by token,
// with the tokenization the real tokenizer produces, each token checked against the
// mask and accepted in turn, then EOS. Exit 0 match, 1 no match (where on stderr),
// 2 usage or input error.
//
// One final "\n" (or "\r\n") is forgiven when the text matches without it, so
// `echo '{...}' | stencil check ...` and files ending in a newline work.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/constraint.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"

namespace stencil::cli {
namespace {

constexpr const char* kHelp =
    "usage: stencil check CONSTRAINT [--tokenizer T] [FILE|-]\n"
    "\n"
    "Checks that the text in FILE (default: standard input) matches the constraint. With\n"
    "--tokenizer it also tokenizes the text as the tokenizer does and checks that every token\n"
    "is allowed by the mask and accepted in sequence, then EOS. One final newline is ignored\n"
    "when the text matches without it.\n"
    "Exit 0: match; 1: no match (the byte offset or token where it failed on stderr); 2: error.\n"
    "\n"
    "constraint: --schema FILE | --grammar FILE | --regex PATTERN | --json\n"
    "            [--no-strict] [--lenient] [--whitespace compact|pretty|flexible]\n"
    "options:\n"
    "  --tokenizer T      tokenizer.json or GGUF file\n";

std::string quoted(std::string_view bytes) {
  return nlohmann::json(std::string(bytes)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct ByteResult {
  bool ok = false;
  size_t offset = 0;   // first rejected byte, or text.size() when the text ends too early
  int32_t needed = 0;  // bytes still needed when it ends too early
};

ByteResult check_bytes(const CompiledGrammar& g, std::string_view text) {
  Matcher m(g);
  if (m.accept_bytes(text) && m.can_terminate()) return {true, text.size(), 0};
  m.reset();
  // Find the first rejected byte in chunks, then byte by byte inside the failing chunk.
  constexpr size_t kChunk = 256;
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = std::min(kChunk, text.size() - i);
    if (m.accept_bytes(text.substr(i, n))) {
      i += n;
      continue;
    }
    for (size_t j = i; j < i + n; ++j) {
      if (!m.accept_bytes(text.substr(j, 1))) return {false, j, 0};
    }
    return {false, i + n, 0};  // unreachable: the chunk failed as a whole
  }
  return {false, text.size(), m.min_bytes_to_end()};
}

std::string describe_position(std::string_view text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "byte offset " + std::to_string(offset) + " (line " + std::to_string(line) + ", column " +
         std::to_string(col) + ")";
}

void report_byte_failure(std::string_view text, const ByteResult& r) {
  if (r.offset < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[r.offset]);
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", b);
    const size_t from = r.offset >= 20 ? r.offset - 20 : 0;
    std::fprintf(stderr, "stencil check: no match at %s: byte %s is not allowed after %s\n",
                 describe_position(text, r.offset).c_str(), hex, quoted(text.substr(from, r.offset - from)).c_str());
  } else {
    std::fprintf(stderr, "stencil check: no match at %s: the text ends too early (at least %d more bytes needed)\n",
                 describe_position(text, r.offset).c_str(), r.needed);
  }
}

// Returns the exit code of the token check (0 or 1), after the bytes matched.
int check_tokens(const CompiledGrammar& g, const std::string& tokenizer_path, const std::string& text) {
  const Vocabulary& vocab = g.vocabulary();
  auto tokenizer = make_text_tokenizer(tokenizer_path, vocab);
  if (!tokenizer->is_real()) {
    std::fprintf(stderr,
                 "stencil check: note: this build has no tokenizer (the runtime's encode); only the bytes were "
                 "checked, not the tokenization\n");
    return 0;
  }
  std::vector<int32_t> ids = tokenizer->encode(text);
  std::string decoded;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab.size()) {
      std::fprintf(stderr, "stencil check: the tokenizer produced id %d, outside the vocabulary (%d ids)\n", id,
                   vocab.size());
      return 1;
    }
    decoded.append(vocab.token_bytes(id));
  }
  if (decoded != text) {
    // SentencePiece tokenizers put a space in front of the text; a model writing after a prompt would
    // not. Check the tokens as they are when the grammar allows that space, else say what was skipped.
    if (decoded == " " + text && check_bytes(g, decoded).ok) {
      std::fprintf(stderr, "stencil check: note: the tokenizer adds a leading space; it is part of the token check\n");
    } else {
      std::fprintf(
          stderr,
          "stencil check: note: the tokenizer's tokens do not spell the text exactly (%s); only the bytes "
          "were checked\n",
          decoded == " " + text ? "it adds a leading space the constraint does not allow" : "a lossy encoding");
      return 0;
    }
  }
  Matcher m(g);
  TokenBitmask mask(vocab.size());
  size_t offset = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    m.fill_next_token_bitmask(mask);
    const bool in_mask = mask.allowed(id);
    const bool accepted = m.accept_token(id);
    if (!in_mask || !accepted) {
      std::fprintf(
          stderr, "stencil check: no match: token %zu of %zu (id %d, %s) at %s is %s, although the bytes match\n",
          i + 1, ids.size(), id, quoted(vocab.token_bytes(id)).c_str(), describe_position(decoded, offset).c_str(),
          in_mask ? "in the mask but not accepted" : (accepted ? "accepted but not in the mask" : "not allowed"));
      return 1;
    }
    offset += vocab.token_bytes(id).size();
  }
  m.fill_next_token_bitmask(mask);
  bool eos_allowed = false;
  for (int32_t id : vocab.eos_ids()) eos_allowed = eos_allowed || mask.allowed(id);
  if (!vocab.eos_ids().empty() && !eos_allowed) {
    std::fprintf(stderr, "stencil check: no match: EOS is not allowed after the last of %zu tokens\n", ids.size());
    return 1;
  }
  std::printf("tokens: %zu, each accepted in sequence, then EOS\n", ids.size());
  return 0;
}

int run(const ParsedArgs& a) {
  require_constraint(a);
  const std::string path = a.positional.empty() ? "-" : a.positional[0];
  const std::string tokenizer = a.value("--tokenizer").value_or("");
  std::string text = read_file(path);
  Vocabulary vocab = load_vocabulary(tokenizer);
  Compiler compiler = make_compiler(vocab, a.constraint);
  CompiledGrammar g = compile_constraint(compiler, a.constraint);
  ByteResult r = check_bytes(g, text);
  if (!r.ok) {
    // Forgive one final newline when the text matches without it.
    size_t cut = 0;
    if (text.size() >= 2 && text.compare(text.size() - 2, 2, "\r\n") == 0) {
      cut = 2;
    } else if (!text.empty() && text.back() == '\n') {
      cut = 1;
    }
    if (cut > 0 && check_bytes(g, std::string_view(text).substr(0, text.size() - cut)).ok) {
      text.resize(text.size() - cut);
      r.ok = true;
    }
  }
  if (!r.ok) {
    report_byte_failure(text, r);
    return 1;
  }
  std::printf("match: %zu bytes\n", text.size());
  if (tokenizer.empty()) return 0;
  return check_tokens(g, tokenizer, text);
}

}  // namespace

const Command& check_command() {
  static const Command c{"check", "does a text match a constraint (bytes, and its real tokenization)", kHelp,
                         CommandSpec{{"--tokenizer"}, {}, 1, true}, run};
  return c;
}

}  // namespace stencil::cli
