// mask_oracle: the C++ side of test_bitmask_parity.py. Prints the next-token bitmask the C++ API
// computes (no Python involved) after each prefix of token sequences read from stdin, so the test
// can compare them word for word with what the bindings write into a numpy array.
//
//   mask_oracle TOKENIZER (schema|grammar|regex|json) CONSTRAINT_FILE < sequences
//
// stdin: one sequence per line, token ids separated by spaces. stdout: for each sequence of n
// tokens, n + 1 lines (the mask before any token, then after each accepted token), each the row's
// 32-bit words in hex separated by spaces. A token the matcher rejects is an error (exit 1): the
// test only feeds tokens the Python side accepted. Compile options are the C++ defaults, which are
// the Python defaults too.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "stencil/stencil.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

stencil::CompiledGrammar compile(const stencil::Compiler& compiler, const std::string& kind, const std::string& text) {
  if (kind == "schema") return compiler.compile_json_schema(text);
  if (kind == "grammar") return compiler.compile_grammar(text);
  if (kind == "regex") return compiler.compile_regex(text);
  if (kind == "json") return compiler.compile_builtin_json();
  throw std::runtime_error("unknown constraint kind '" + kind + "'");
}

void print_mask(stencil::Matcher& matcher, stencil::TokenBitmask& mask) {
  matcher.fill_next_token_bitmask(mask);
  std::string line;
  char word[12];
  for (size_t i = 0; i < mask.words.size(); ++i) {
    std::snprintf(word, sizeof word, i == 0 ? "%x" : " %x", mask.words[i]);
    line += word;
  }
  std::cout << line << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: mask_oracle TOKENIZER (schema|grammar|regex|json) CONSTRAINT_FILE < sequences\n";
    return 2;
  }
  try {
    stencil::Compiler compiler(stencil::Vocabulary::from_file(argv[1]));
    const std::string kind = argv[2];
    const stencil::CompiledGrammar grammar = compile(compiler, kind, kind == "json" ? "" : read_file(argv[3]));
    stencil::TokenBitmask mask(compiler.vocabulary().size());
    std::string line;
    while (std::getline(std::cin, line)) {
      stencil::Matcher matcher(grammar);
      print_mask(matcher, mask);
      std::istringstream ids(line);
      int32_t token;
      while (ids >> token) {
        if (!matcher.accept_token(token)) {
          std::cerr << "mask_oracle: token " << token << " rejected\n";
          return 1;
        }
        print_mask(matcher, mask);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "mask_oracle: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
