// sample_ranked (see sample_ranked.h): the plain CPU formulation of cuda/sample.cu, step for step, so
// that the GPU op has a reference to be tested against. Sorts the whole candidate list: a reference,
// not the fast path (stencil::Sampler is the host's sampler).
#include "runtime/sample_ranked.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace stencil::runtime {

int32_t sample_ranked(std::span<const float> logits, const uint32_t* mask, int32_t mask_vocab,
                      const RankedSampleParams& p, double u) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const auto n = static_cast<int32_t>(logits.size());
  auto allowed = [&](int32_t i) {
    const float v = logits[static_cast<size_t>(i)];
    if (std::isnan(v) || v == kNegInf) return false;
    return !mask || (i < mask_vocab && ((mask[i >> 5] >> (i & 31)) & 1u));
  };
  if (!(p.temperature > 0.0f)) {  // greedy: the first maximum
    int32_t best = -1;
    for (int32_t i = 0; i < n; ++i) {
      if (allowed(i) && (best < 0 || logits[static_cast<size_t>(i)] > logits[static_cast<size_t>(best)])) best = i;
    }
    return best;
  }
  const float inv_t = 1.0f / p.temperature;
  struct Cand {
    float z;
    int32_t id;
  };
  std::vector<Cand> c;
  for (int32_t i = 0; i < n; ++i) {
    if (allowed(i)) c.push_back({logits[static_cast<size_t>(i)] * inv_t + 0.0f, i});  // + 0.0f: -0 -> +0
  }
  if (c.empty()) return -1;
  std::stable_sort(c.begin(), c.end(), [](const Cand& a, const Cand& b) { return a.z > b.z; });  // ids stay ascending
  size_t keep = c.size();
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < keep) keep = static_cast<size_t>(p.top_k);
  const float z_max = c[0].z;
  if (std::isinf(z_max)) return c[0].id;
  std::vector<double> cum(keep);
  double acc = 0;
  for (size_t i = 0; i < keep; ++i) cum[i] = acc += std::exp(static_cast<double>(c[i].z - z_max));
  if (p.top_p < 1.0f) {
    const double want = static_cast<double>(std::max(p.top_p, 0.0f)) * cum[keep - 1];
    keep = static_cast<size_t>(std::lower_bound(cum.begin(), cum.begin() + static_cast<std::ptrdiff_t>(keep), want) -
                               cum.begin()) + 1;
    keep = std::min(keep, cum.size());
  }
  const double target = u * cum[keep - 1];
  const size_t at = static_cast<size_t>(std::upper_bound(cum.begin(), cum.begin() + static_cast<std::ptrdiff_t>(keep), target) -
                                        cum.begin());
  return c[std::min(at, keep - 1)].id;
}

}  // namespace stencil::runtime
