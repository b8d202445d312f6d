// Bitmask helpers and apply_token_bitmask: logits of disallowed tokens -> -inf.
// The loop works a 32-bit word (32 logits) at a time; all-ones words, the common
// case inside strings, are skipped without touching the logits.
#include "stencil/bitmask.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

namespace stencil {

int32_t TokenBitmask::count_allowed() const {
  int32_t n = 0;
  for (int32_t w = 0; w < bitmask_words(vocab_size); ++w) {
    uint32_t word = words[static_cast<size_t>(w)];
    if (w == bitmask_words(vocab_size) - 1 && (vocab_size & 31) != 0) word &= (1u << (vocab_size & 31)) - 1;
    n += std::popcount(word);
  }
  return n;
}

std::vector<int32_t> TokenBitmask::allowed_ids() const {
  std::vector<int32_t> out;
  for (int32_t id = 0; id < vocab_size; ++id) {
    if (allowed(id)) out.push_back(id);
  }
  return out;
}

void apply_token_bitmask(std::span<float> logits, std::span<const uint32_t> mask, int32_t mask_vocab_size) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int64_t n = static_cast<int64_t>(logits.size());
  const int64_t covered = std::min<int64_t>({n, static_cast<int64_t>(mask_vocab_size), static_cast<int64_t>(mask.size()) * 32});
  float* out = logits.data();
  int64_t i = 0;
  for (; i + 32 <= covered; i += 32) {
    const uint32_t word = mask[static_cast<size_t>(i >> 5)];
    if (word == 0xFFFFFFFFu) continue;
    if (word == 0) {
      for (int k = 0; k < 32; ++k) out[i + k] = kNegInf;
      continue;
    }
    // Branch-free select on the float bits, so the loop vectorises and random masks cost no mispredictions.
    constexpr uint32_t kNegInfBits = 0xFF800000u;
    for (int k = 0; k < 32; ++k) {
      const uint32_t keep = 0u - ((word >> k) & 1u);
      uint32_t bits;
      std::memcpy(&bits, &out[i + k], 4);
      bits = (bits & keep) | (kNegInfBits & ~keep);
      std::memcpy(&out[i + k], &bits, 4);
    }
  }
  for (; i < covered; ++i) {
    if (!((mask[static_cast<size_t>(i >> 5)] >> (i & 31)) & 1u)) out[i] = kNegInf;
  }
  // Padding beyond the vocabulary (or beyond the mask) is never allowed.
  for (; i < n; ++i) out[i] = kNegInf;
}

}  // namespace stencil
