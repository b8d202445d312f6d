// stencil::Sampler (see include/stencil/runtime/sampler.h for the contract).
//
// One pass over the logits builds the candidate list of unmasked entries, with the repetition
// penalty folded in from a small id-sorted list (no copy of the logits, no per-token map). Greedy
// stops there. Nothing is fully sorted: top-k is a selection plus a sort of k entries, top-p a
// weighted quickselect (expected linear time). The selection code is ours and deterministic, so the
// candidate order at the draw, and hence the token for a given seed, is the same on every platform.
#include "stencil/runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stencil {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Sampler::Sampler(const SamplerOptions& options, int32_t n_vocab) : options_(options) {
  if (options_.repetition_window < 0) options_.repetition_window = 0;
  window_.assign(static_cast<size_t>(options_.repetition_window), -1);
  pen_.reserve(static_cast<size_t>(options_.repetition_window));
  if (n_vocab > 0) cand_.reserve(static_cast<size_t>(n_vocab));
  reset(options_.seed);
}

void Sampler::reset(uint64_t seed) noexcept {
  uint64_t x = seed;
  for (uint64_t& s : state_) s = splitmix64(x);
  window_pos_ = 0;
  window_len_ = 0;
}

uint64_t Sampler::next_u64() noexcept {  // xoshiro256**
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double Sampler::next_uniform() noexcept { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

void Sampler::accept(int32_t token) noexcept {
  if (window_.empty()) return;
  window_[window_pos_] = token;
  window_pos_ = (window_pos_ + 1) % window_.size();
  window_len_ = std::min(window_len_ + 1, window_.size());
}

void Sampler::sort_top(size_t k) noexcept {
  auto better = [](const Candidate& a, const Candidate& b) {
    return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
  };
  k = std::min(k, cand_.size());
  if (k < cand_.size()) {
    std::nth_element(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(k), cand_.end(), better);
  }
  std::sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(k), better);
}

// Weighted quickselect: moves the best-first prefix of cand_ whose mass first reaches `want` to the
// front (in an order fixed by this code, not sorted) and returns its length (>= 1). Expected O(n).
// Invariant: cand_[0, lo) is all better than cand_[lo, hi), its mass `acc` is below `want`, and
// acc + mass(cand_[lo, hi)) reaches it, so the answer lies in (lo, hi].
size_t Sampler::select_mass(double want) noexcept {
  auto better = [](const Candidate& a, const Candidate& b) {
    return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
  };
  if (cand_.empty()) return 0;
  if (!(want > 0)) {  // keep just the best one
    size_t best = 0;
    for (size_t i = 1; i < cand_.size(); ++i) {
      if (better(cand_[i], cand_[best])) best = i;
    }
    std::swap(cand_[0], cand_[best]);
    return 1;
  }
  size_t lo = 0, hi = cand_.size();
  double acc = 0;
  while (hi - lo > 1) {
    std::swap(cand_[lo + (hi - lo) / 2], cand_[hi - 1]);  // pivot at the end of the range
    const Candidate pivot = cand_[hi - 1];
    size_t a_end = lo;
    double mass_a = 0;
    for (size_t i = lo; i + 1 < hi; ++i) {
      if (better(cand_[i], pivot)) {
        mass_a += cand_[i].p;
        std::swap(cand_[i], cand_[a_end++]);
      }
    }
    std::swap(cand_[a_end], cand_[hi - 1]);  // pivot right after the better ones
    if (acc + mass_a >= want) {
      hi = a_end;
    } else if (acc + mass_a + pivot.p >= want) {
      return a_end + 1;
    } else {
      acc += mass_a + pivot.p;
      lo = a_end + 1;
    }
  }
  return hi;
}

SampleResult Sampler::sample(std::span<const float> logits) noexcept {
  const auto n = static_cast<int32_t>(logits.size());
  // Penalised logits of the distinct in-range tokens of the window, sorted by id.
  pen_.clear();
  if (options_.repetition_penalty != 1.0f && options_.repetition_penalty > 0.0f) {
    for (size_t i = 0; i < window_len_; ++i) {
      const int32_t id = window_[i];
      if (id < 0 || id >= n) continue;
      const float v = logits[static_cast<size_t>(id)];
      pen_.emplace_back(id, v > 0 ? v / options_.repetition_penalty : v * options_.repetition_penalty);
    }
    std::sort(pen_.begin(), pen_.end());
    pen_.erase(std::unique(pen_.begin(), pen_.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; }),
               pen_.end());
  }
  const bool greedy = !(options_.temperature > 0.0f);
  const float inv_t = greedy ? 1.0f : 1.0f / options_.temperature;

  // One pass: unmasked candidates (or just the argmax when greedy).
  cand_.clear();
  size_t pi = 0;
  int32_t best = -1;
  float best_v = -std::numeric_limits<float>::infinity();
  for (int32_t i = 0; i < n; ++i) {
    float v = logits[static_cast<size_t>(i)];
    if (pi < pen_.size() && pen_[pi].first == i) v = pen_[pi++].second;
    if (std::isnan(v) || v == -std::numeric_limits<float>::infinity()) continue;
    if (greedy) {
      if (best < 0 || v > best_v) {
        best = i;
        best_v = v;
      }
      continue;
    }
    cand_.push_back({i, v * inv_t, 0.0f});
  }
  if (greedy) return best < 0 ? SampleResult{} : SampleResult{best, SampleStatus::kOk};
  if (cand_.empty()) return {};

  // top-k: keep the k best.
  if (options_.top_k > 0 && static_cast<size_t>(options_.top_k) < cand_.size()) {
    sort_top(static_cast<size_t>(options_.top_k));
    cand_.resize(static_cast<size_t>(options_.top_k));
  }
  // Softmax (unnormalised weights relative to the maximum).
  float max_v = -std::numeric_limits<float>::infinity();
  for (const Candidate& c : cand_) max_v = std::max(max_v, c.logit);
  if (std::isinf(max_v)) {  // +inf entries: they take all the mass; the lowest id wins
    for (const Candidate& c : cand_) {
      if (c.logit == max_v) return {c.id, SampleStatus::kOk};
    }
  }
  double total = 0;
  for (Candidate& c : cand_) {
    c.p = std::exp(c.logit - max_v);
    total += c.p;
  }
  // top-p: the smallest best-first prefix whose mass reaches top_p (at least one token).
  if (options_.top_p < 1.0f) {
    const double want = static_cast<double>(std::max(options_.top_p, 0.0f)) * total;
    const size_t keep = select_mass(want);
    total = 0;
    for (size_t i = 0; i < keep; ++i) total += cand_[i].p;
    cand_.resize(keep);
  }
  // min-p: drop tokens far below the best one (the maximum weight is exp(0) = 1 unless top-p cut it).
  if (options_.min_p > 0.0f) {
    float p_max = 0;
    for (const Candidate& c : cand_) p_max = std::max(p_max, c.p);
    const float floor = options_.min_p * p_max;
    total = 0;
    size_t w = 0;
    for (const Candidate& c : cand_) {
      if (c.p >= floor) {
        cand_[w++] = c;
        total += c.p;
      }
    }
    cand_.resize(w);
  }
  // Draw. The candidate order is deterministic (id order, or the total order of sort_top).
  const double u = next_uniform() * total;
  double acc = 0;
  for (const Candidate& c : cand_) {
    acc += c.p;
    if (u < acc) return {c.id, SampleStatus::kOk};
  }
  return {cand_.back().id, SampleStatus::kOk};  // rounding left u at the very top
}

}  // namespace stencil
