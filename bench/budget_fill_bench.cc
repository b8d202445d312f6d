// Budget-aware fill latency: fill_next_token_bitmask(mask, tokens_left) in a few
// states of the builtin JSON grammar, far from and close to the budget. Prints
// the fastest of 5 calls per case (the machine is shared; the minimum is the
// engine's own cost). Usage: budget_fill_bench TOKENIZER
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "stencil/stencil.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: budget_fill_bench TOKENIZER\n");
    return 2;
  }
  stencil::Vocabulary vocab = stencil::Vocabulary::from_file(argv[1]);
  stencil::CompiledGrammar g = stencil::Compiler(vocab).compile_builtin_json();
  const char* const prefixes[] = {"", "{\"", "{\"a\": ", "{\"a\": \"the quick brown", "{\"a\": 12", "{\"a\": [1, "};
  for (const char* prefix : prefixes) {
    for (int left : {200, 64, 8}) {
      stencil::Matcher m(g);
      m.accept_bytes(prefix);
      stencil::TokenBitmask mask(vocab.size());
      double best = 1e30;
      for (int r = 0; r < 5; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        m.fill_next_token_bitmask(mask.words, left);
        best = std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      }
      std::printf("prefix %-26s tokens left %3d: %10.1f us, %6d allowed\n", ("'" + std::string(prefix) + "'").c_str(),
                  left, best, mask.count_allowed());
    }
  }
  return 0;
}
