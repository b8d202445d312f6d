// Ranked sampling: the definition of the CUDA backend's sampling op (cuda/sample.cu) and its CPU twin.
//
// The distribution is stencil::Sampler's for the options both support (masking first, then
// temperature -> top-k -> softmax -> top-p; greedy: argmax, ties to the lowest id), but the draw walks
// the candidates in rank order (logit desc, id asc), which a GPU can produce with a stable sort, where
// Sampler walks them in the order of its own selection code. So for the same uniform `u` the two may
// pick different tokens, with the same probabilities. Weights are exp(z - z_max) in double and their
// running sums are double, so the GPU and this function agree on the token except when u lands within
// double rounding of a boundary between two candidates.
//
// Not here: min-p and the repetition penalty (the generator samples on the host when they are set).
#pragma once

#include <cstdint>
#include <span>

namespace stencil::runtime {

struct RankedSampleParams {
  float temperature = 1.0f;  // <= 0: greedy
  int32_t top_k = 0;         // <= 0: off
  float top_p = 1.0f;        // >= 1: off
};

// Picks a token from `logits` (n_vocab floats). Excluded: NaN and -inf logits, and, when `mask` is
// given ((mask_vocab + 31) / 32 words, bit set = allowed), ids whose bit is clear or that are >=
// mask_vocab. Candidates z = logit * (1 / temperature) are ranked by (z desc, id asc; -0 equals +0);
// top-k keeps the first k; weights w = exp(z - z_max) (double); top-p keeps the shortest prefix whose
// weight reaches top_p * total (at least one); the token is the first kept one whose running weight
// exceeds u * (kept weight), the last kept one if rounding leaves none. A +inf z_max (or a -inf one)
// picks the first ranked candidate. Returns -1 when every id is excluded. u in [0, 1).
int32_t sample_ranked(std::span<const float> logits, const uint32_t* mask, int32_t mask_vocab,
                      const RankedSampleParams& params, double u);

}  // namespace stencil::runtime
