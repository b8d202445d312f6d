// Token bitmasks: the interchange format every mask kernel consumes.
// 32-bit words, bit (i % 32) of word (i / 32) set = token i allowed: the layout
// vLLM, SGLang and XGrammar use, so masks can be handed to their kernels as is.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace stencil {

// Number of 32-bit words for a vocabulary of `vocab_size` ids.
constexpr int32_t bitmask_words(int32_t vocab_size) { return (vocab_size + 31) / 32; }

// An owning bitmask for one sequence. A plain value type.
struct TokenBitmask {
  explicit TokenBitmask(int32_t vocab_size = 0)
      : vocab_size(vocab_size), words(static_cast<size_t>(bitmask_words(vocab_size)), 0u) {}
  bool allowed(int32_t token) const { return (words[token >> 5] >> (token & 31)) & 1u; }
  int32_t count_allowed() const;
  // The allowed ids in increasing order (for tests and debugging).
  std::vector<int32_t> allowed_ids() const;

  int32_t vocab_size;
  std::vector<uint32_t> words;  // (bitmask_words(vocab_size),)
};

// Sets logits[i] to -infinity for every i whose bit is clear; ids at or beyond
// mask_vocab_size (a logit vector wider than the vocabulary: padding) are always
// masked. logits.size() may be larger or smaller than the mask. Vectorised.
void apply_token_bitmask(std::span<float> logits, std::span<const uint32_t> mask, int32_t mask_vocab_size);
inline void apply_token_bitmask(std::span<float> logits, const TokenBitmask& mask) {
  apply_token_bitmask(logits, mask.words, mask.vocab_size);
}

}  // namespace stencil
