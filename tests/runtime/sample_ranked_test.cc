// runtime::sample_ranked, the CPU twin of the CUDA sampling op (cuda/sample.cu), against
// stencil::Sampler, the host's sampler: greedy picks the same token; otherwise the two draw from the
// same distribution (same kept set after top-k / top-p, same probabilities), only the walk order of the
// draw differs. The distribution of sample_ranked is measured exactly enough by sweeping u over a fine
// grid; Sampler's by drawing. Also: masks, padding, NaN / -inf / +inf, and every id excluded.
#include "runtime/sample_ranked.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "stencil/bitmask.h"
#include "stencil/runtime/sampler.h"

namespace stencil::runtime {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Logits with the masked ids set to -inf: what Sampler sees after apply_token_bitmask.
std::vector<float> masked(const std::vector<float>& logits, const std::vector<uint32_t>& mask, int32_t mask_vocab) {
  std::vector<float> out = logits;
  apply_token_bitmask(out, mask, mask_vocab);
  return out;
}

TEST(SampleRanked, GreedyEqualsSampler) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (int trial = 0; trial < 200; ++trial) {
    const int32_t n = 3 + static_cast<int32_t>(rng() % 3000);
    std::vector<float> logits(static_cast<size_t>(n));
    // Rounded values: many ties, so the lowest-id rule is exercised; some -0 / +0 and NaN / -inf.
    for (float& v : logits) v = std::round(normal(rng));
    for (int k = 0; k < 5; ++k) logits[rng() % n] = k == 0 ? -0.0f : k == 1 ? std::nanf("") : -kInf;
    const int32_t mask_vocab = n - static_cast<int32_t>(rng() % 3);
    std::vector<uint32_t> mask(static_cast<size_t>(bitmask_words(std::max(mask_vocab, 1))));
    for (uint32_t& w : mask) w = rng() % 4 == 0 ? 0u : static_cast<uint32_t>(rng());
    const std::vector<float> m = masked(logits, mask, mask_vocab);
    Sampler s({.temperature = 0.0f});
    const SampleResult want = s.sample(m);
    const int32_t got = sample_ranked(logits, mask.data(), mask_vocab, {.temperature = 0.0f}, 0.5);
    EXPECT_EQ(got, want.ok() ? want.token : -1) << "trial " << trial;
    EXPECT_EQ(sample_ranked(m, nullptr, 0, {.temperature = 0.0f}, 0.5), got) << "mask as -inf, trial " << trial;
  }
}

// Probability of each token under sample_ranked, from a sweep of u over a fine grid.
std::vector<double> ranked_distribution(const std::vector<float>& logits, const RankedSampleParams& p) {
  constexpr int kSteps = 200000;
  std::vector<double> f(logits.size(), 0.0);
  for (int i = 0; i < kSteps; ++i) {
    const int32_t t = sample_ranked(logits, nullptr, 0, p, (i + 0.5) / kSteps);
    if (t >= 0) f[static_cast<size_t>(t)] += 1.0 / kSteps;
  }
  return f;
}

std::vector<double> sampler_distribution(const std::vector<float>& logits, const RankedSampleParams& p, int draws) {
  Sampler s({.temperature = p.temperature, .top_k = p.top_k, .top_p = p.top_p, .seed = 11});
  std::vector<double> f(logits.size(), 0.0);
  for (int i = 0; i < draws; ++i) {
    const SampleResult r = s.sample(logits);
    if (r.ok()) f[static_cast<size_t>(r.token)] += 1.0 / draws;
  }
  return f;
}

TEST(SampleRanked, SameDistributionAsSampler) {
  // 16 tokens with distinct probabilities (>= ~1% each where kept) and one masked entry.
  const std::vector<float> logits = {1.0f, 2.5f, 0.3f, -kInf, 2.0f, 1.7f, 0.9f, 3.0f,
                                     0.1f, 1.2f, 2.2f, -0.5f, 0.6f, 1.4f, 2.8f, 0.0f};
  const RankedSampleParams cases[] = {
      {.temperature = 1.0f}, {.temperature = 0.5f}, {.temperature = 2.0f},
      {.temperature = 1.0f, .top_k = 4}, {.temperature = 1.0f, .top_p = 0.6f},
      {.temperature = 0.8f, .top_k = 6, .top_p = 0.9f}, {.temperature = 1.0f, .top_p = 0.0f},
  };
  for (const RankedSampleParams& p : cases) {
    SCOPED_TRACE(::testing::Message() << "T " << p.temperature << " top_k " << p.top_k << " top_p " << p.top_p);
    const std::vector<double> a = ranked_distribution(logits, p);
    const std::vector<double> b = sampler_distribution(logits, p, 100000);
    for (size_t i = 0; i < logits.size(); ++i) {
      EXPECT_NEAR(a[i], b[i], 0.01) << "token " << i;
      EXPECT_EQ(a[i] > 0, b[i] > 0) << "token " << i << " kept by one sampler only";
    }
  }
}

TEST(SampleRanked, TopKAndTopPKeepTheBest) {
  const std::vector<float> logits = {0.0f, 5.0f, 1.0f, 5.0f, 2.0f};  // ranks: 1, 3, 4, 2, 0
  for (double u : {0.0, 0.3, 0.7, 0.999}) {
    EXPECT_EQ(sample_ranked(logits, nullptr, 0, {.temperature = 1.0f, .top_k = 1}, u), 1);  // tie: lowest id
    const int32_t t = sample_ranked(logits, nullptr, 0, {.temperature = 1.0f, .top_k = 2}, u);
    EXPECT_TRUE(t == 1 || t == 3) << t;
    EXPECT_EQ(sample_ranked(logits, nullptr, 0, {.temperature = 1.0f, .top_p = 0.0f}, u), 1);
  }
  // The draw walks rank order: u just above 0 is the best, u near 1 the last kept.
  EXPECT_EQ(sample_ranked(logits, nullptr, 0, {.temperature = 1.0f}, 0.0), 1);
  EXPECT_EQ(sample_ranked(logits, nullptr, 0, {.temperature = 1.0f}, 0.999999), 0);
}

TEST(SampleRanked, MasksPaddingAndSpecialValues) {
  std::vector<float> logits(100, 1.0f);
  std::vector<uint32_t> mask(static_cast<size_t>(bitmask_words(90)), 0u);
  mask[1] = 1u << 7;  // only id 39 allowed
  for (float t : {0.0f, 1.0f}) {
    for (double u : {0.0, 0.5, 0.99}) EXPECT_EQ(sample_ranked(logits, mask.data(), 90, {.temperature = t}, u), 39);
  }
  // Ids >= mask_vocab are excluded even with their bits set (padding of a wider logits row).
  std::fill(mask.begin(), mask.end(), 0xFFFFFFFFu);
  logits[95] = 100.0f;
  EXPECT_EQ(sample_ranked(logits, mask.data(), 90, {.temperature = 0.0f}, 0.5), 0);
  EXPECT_EQ(sample_ranked(logits, nullptr, 0, {.temperature = 0.0f}, 0.5), 95);
  // +inf takes everything (the lowest id among them); NaN and -inf are never picked.
  logits[20] = kInf;
  logits[10] = kInf;
  EXPECT_EQ(sample_ranked(logits, nullptr, 0, {.temperature = 1.0f}, 0.9), 10);
  std::vector<float> bad = {std::nanf(""), -kInf, std::nanf("")};
  for (float t : {0.0f, 1.0f}) EXPECT_EQ(sample_ranked(bad, nullptr, 0, {.temperature = t}, 0.5), -1);
  bad[1] = -3.0f;
  for (float t : {0.0f, 1.0f}) EXPECT_EQ(sample_ranked(bad, nullptr, 0, {.temperature = t}, 0.5), 1);
  std::fill(mask.begin(), mask.end(), 0u);
  EXPECT_EQ(sample_ranked(logits, mask.data(), 90, {.temperature = 1.0f}, 0.5), -1);
  EXPECT_EQ(sample_ranked({}, nullptr, 0, {.temperature = 1.0f}, 0.5), -1);
}

}  // namespace
}  // namespace stencil::runtime
