// `stencil sample`: random valid outputs of a constraint with a real vocabulary and
// no model. Each step fills the budget-aware mask (so every sample can still finish
// within --max-tokens), takes EOS with probability 1/5 when it is allowed (so outputs
// end), else a uniformly random allowed token, and accepts it. Prints one line per
// sample: the output as a JSON string literal (invalid UTF-8 shown as U+FFFD).
//
// Deterministic for a seed: splitmix64, no std:: distributions (their results differ
// between standard libraries).
#include <bit>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/constraint.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"

namespace stencil::cli {
namespace {

constexpr const char* kHelp =
    "usage: stencil sample CONSTRAINT --tokenizer T [--count N] [--seed S] [--max-tokens M]\n"
    "\n"
    "Prints N random outputs that match the constraint, built token by token from the\n"
    "tokenizer's vocabulary with exact masks (no model). Each line is one output as a JSON\n"
    "string literal. The same seed gives the same outputs.\n"
    "\n"
    "constraint: --schema FILE | --grammar FILE | --regex PATTERN | --json\n"
    "            [--no-strict] [--lenient] [--whitespace compact|pretty|flexible]\n"
    "options:\n"
    "  --tokenizer T      tokenizer.json or GGUF file (required)\n"
    "  --count N          number of outputs (default 1)\n"
    "  --seed S           random seed (default 0)\n"
    "  --max-tokens M     token budget per output, EOS not counted (default 256); every output\n"
    "                     is complete within it (budget-aware masks)\n";

constexpr int64_t kDefaultMaxTokens = 256;
// Probability of taking EOS when the grammar allows it, as a 1/kEosOneIn chance.
constexpr uint64_t kEosOneIn = 5;

struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for our n).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
};

// The k-th (0-based) set bit of the mask.
int32_t nth_allowed(const std::vector<uint32_t>& words, int64_t k) {
  for (size_t w = 0; w < words.size(); ++w) {
    const int c = std::popcount(words[w]);
    if (k < c) {
      uint32_t bits = words[w];
      for (int64_t i = 0; i < k; ++i) bits &= bits - 1;
      return static_cast<int32_t>(w * 32 + static_cast<size_t>(std::countr_zero(bits)));
    }
    k -= c;
  }
  return -1;
}

// One output; throws Error when the grammar cannot finish within the budget.
std::string sample_one(const CompiledGrammar& g, SplitMix64& rng, int64_t max_tokens) {
  const Vocabulary& vocab = g.vocabulary();
  Matcher m(g);
  TokenBitmask mask(vocab.size());
  std::string out;
  for (int64_t step = 0;; ++step) {
    const int32_t left = static_cast<int32_t>(std::max<int64_t>(0, max_tokens - step));
    m.fill_next_token_bitmask(std::span<uint32_t>(mask.words), left);
    int32_t eos = -1;
    for (int32_t id : vocab.eos_ids()) {
      if (mask.allowed(id)) {
        if (eos < 0) eos = id;
        mask.words[id >> 5] &= ~(1u << (id & 31));  // EOS is chosen separately below
      }
    }
    int64_t allowed = 0;
    for (uint32_t w : mask.words) allowed += std::popcount(w);
    if (eos >= 0 && (allowed == 0 || rng.below(kEosOneIn) == 0)) break;
    if (allowed == 0) {
      if (m.can_terminate()) break;  // a vocabulary without EOS ids: stop where the grammar may end
      throw Error("no token can continue the output after " + std::to_string(step) + " tokens (budget " +
                  std::to_string(max_tokens) + "); raise --max-tokens");
    }
    const int32_t token = nth_allowed(mask.words, static_cast<int64_t>(rng.below(static_cast<uint64_t>(allowed))));
    if (!m.accept_token(token)) {
      throw Error("internal error: token " + std::to_string(token) + " was in the mask but not accepted");
    }
    out.append(vocab.token_bytes(token));
  }
  return out;
}

int run(const ParsedArgs& a) {
  require_constraint(a);
  auto tokenizer = a.value("--tokenizer");
  if (!tokenizer) throw UsageError("--tokenizer is required");
  const int64_t count = a.int_value("--count", 1, 0, 1000000);
  const int64_t seed = a.int_value("--seed", 0, 0, INT64_MAX);
  const int64_t max_tokens = a.int_value("--max-tokens", kDefaultMaxTokens, 1, 1 << 24);
  Vocabulary vocab = load_vocabulary(*tokenizer);
  Compiler compiler = make_compiler(vocab, a.constraint);
  CompiledGrammar g = compile_constraint(compiler, a.constraint);
  SplitMix64 rng{static_cast<uint64_t>(seed)};
  for (int64_t i = 0; i < count; ++i) {
    const std::string text = sample_one(g, rng, max_tokens);
    std::cout << nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  std::cout.flush();
  return 0;
}

}  // namespace

const Command& sample_command() {
  static const Command c{"sample", "random valid outputs of a constraint (no model needed)", kHelp,
                         CommandSpec{{"--tokenizer", "--count", "--seed", "--max-tokens"}, {}, 0, true}, run};
  return c;
}

}  // namespace stencil::cli
