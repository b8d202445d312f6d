// quickstart: the smallest complete use of stencil. Loads a tokenizer.json, compiles a
// JSON Schema, then decodes greedily without a model: at each step the first allowed
// token is taken, until the grammar may end. Prints the text (here {"unit":"celsius"}).
// A real program would pick the token from a model's logits after apply_token_bitmask.
//
//   quickstart path/to/tokenizer.json
#include <cstdio>
#include <string>
#include <vector>

#include "stencil/stencil.h"

int main(int argc, char** argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: %s TOKENIZER_JSON\n", argv[0]), 2;
  try {
    stencil::Vocabulary vocab = stencil::Vocabulary::from_tokenizer_json(argv[1]);
    stencil::Compiler compiler(vocab);
    stencil::JsonOptions json;
    json.whitespace = stencil::WhitespacePolicy::kCompact;
    stencil::CompiledGrammar grammar = compiler.compile_json_schema(
        R"({"type": "object", "properties": {"unit": {"enum": ["celsius", "fahrenheit"]}}, "required": ["unit"]})",
        json);

    stencil::Matcher matcher(grammar);
    stencil::TokenBitmask mask(vocab.size());
    std::string text;
    for (int step = 0; step < 1000 && !matcher.can_terminate(); ++step) {
      matcher.fill_next_token_bitmask(mask);
      std::vector<int32_t> allowed = mask.allowed_ids();
      if (allowed.empty() || !matcher.accept_token(allowed.front())) {
        return std::fprintf(stderr, "no token allowed after: %s\n", text.c_str()), 1;
      }
      text += vocab.token_bytes(allowed.front());
    }
    std::printf("%s\n", text.c_str());
    return matcher.can_terminate() ? 0 : 1;
  } catch (const stencil::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
