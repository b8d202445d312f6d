// Random valid outputs of a compiled grammar, token by token, without a model: what `stencil
// sample` prints and what the JSONSchemaBench sample-and-validate test checks (one copy, so the
// test checks exactly the command's outputs).
//
// Each step fills the budget-aware mask (so the output can still finish within max_tokens), takes
// EOS with probability 1/kEosOneIn when it is allowed (so outputs end), else a uniformly random
// allowed token. Deterministic for a seed: splitmix64, no std:: distributions (their results differ
// between standard libraries).
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "stencil/bitmask.h"
#include "stencil/compiler.h"
#include "stencil/matcher.h"

namespace stencil::cli {

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

// The k-th (0-based) set bit of the mask; -1 if there are fewer.
inline int32_t nth_allowed(const std::vector<uint32_t>& words, int64_t k) {
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

// Thrown when no token can continue (step 0: the budget is too small for the constraint), or when
// a token in the mask is refused (an engine bug).
struct SampleStuck {
  int64_t step;
  std::string why;
};

// One output of `g` within `max_tokens` tokens (EOS not counted). Throws SampleStuck.
inline std::string sample_one(const CompiledGrammar& g, SplitMix64& rng, int64_t max_tokens) {
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
      throw SampleStuck{step, "no token can continue the output after " + std::to_string(step) + " tokens (budget " +
                                  std::to_string(max_tokens) + ")"};
    }
    const int32_t token = nth_allowed(mask.words, static_cast<int64_t>(rng.below(static_cast<uint64_t>(allowed))));
    if (!m.accept_token(token)) {
      throw SampleStuck{step, "internal error: token " + std::to_string(token) + " was in the mask but not accepted"};
    }
    out.append(vocab.token_bytes(token));
  }
  return out;
}

}  // namespace stencil::cli
