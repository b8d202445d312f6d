// stencil::Sampler: exact outcomes for fixed seeds (checked against an independent Python
// implementation of xoshiro256**/splitmix64 and the draw), each filter's effect, distribution
// sanity, and that masked (-inf / NaN) entries are never picked.
#include "stencil/runtime/sampler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <vector>

// Counts heap allocations in this test binary, to check that sample() does not allocate.
static std::atomic<long> g_allocations{0};
void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace stencil {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> log_probs(const std::vector<double>& p) {
  std::vector<float> out;
  for (const double v : p) out.push_back(v > 0 ? static_cast<float>(std::log(v)) : -kInf);
  return out;
}

std::vector<double> frequencies(Sampler& s, const std::vector<float>& logits, int draws) {
  std::vector<double> f(logits.size(), 0.0);
  for (int i = 0; i < draws; ++i) {
    const SampleResult r = s.sample(logits);
    EXPECT_TRUE(r.ok());
    if (r.ok()) f[static_cast<size_t>(r.token)] += 1.0 / draws;
  }
  return f;
}

TEST(SamplerTest, PrngMatchesReferenceXoshiro256StarStar) {
  // splitmix64(42) -> xoshiro256** state; first outputs computed independently in Python.
  Sampler s({.seed = 42});
  const uint64_t expected[] = {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull};
  for (const uint64_t e : expected) EXPECT_EQ(s.next_uniform(), static_cast<double>(e >> 11) * 0x1.0p-53);
}

TEST(SamplerTest, ExactOutcomesForFixedSeed) {
  Sampler s({.temperature = 1.0f, .seed = 7});
  const auto logits = log_probs({0.1, 0.2, 0.3, 0.4});
  std::vector<int32_t> got;
  for (int i = 0; i < 12; ++i) got.push_back(s.sample(logits).token);
  EXPECT_EQ(got, (std::vector<int32_t>{3, 1, 3, 3, 3, 3, 0, 1, 2, 1, 2, 3}));
}

TEST(SamplerTest, SameSeedSameOutputDifferentSeedDifferentOutput) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(std::sin(static_cast<double>(i)) * 3.0);
  auto run = [&](uint64_t seed) {
    Sampler s({.temperature = 0.8f, .top_k = 50, .top_p = 0.95f, .min_p = 0.01f, .seed = seed}, 1000);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(logits).token);
    return out;
  };
  EXPECT_EQ(run(123), run(123));
  EXPECT_NE(run(123), run(124));
  // reset() restarts the stream.
  Sampler s({.seed = 5});
  const int32_t a = s.sample(logits).token, b = s.sample(logits).token;
  s.reset(5);
  EXPECT_EQ(s.sample(logits).token, a);
  EXPECT_EQ(s.sample(logits).token, b);
}

TEST(SamplerTest, GreedyPicksArgmaxLowestIdOnTies) {
  Sampler s({.temperature = 0.0f});
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 3.0f, 2.0f}).token, 1);
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 3.0f, 3.0f}).token, 1);
  EXPECT_EQ(s.sample(std::vector<float>{-kInf, -5.0f, -kInf}).token, 1);
  // Negative temperature is greedy too.
  Sampler neg({.temperature = -1.0f});
  EXPECT_EQ(neg.sample(std::vector<float>{0.0f, 0.5f}).token, 1);
}

TEST(SamplerTest, AllMaskedIsAnError) {
  for (const float t : {0.0f, 1.0f}) {
    Sampler s({.temperature = t});
    const std::vector<float> masked(10, -kInf);
    const SampleResult r = s.sample(masked);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status, SampleStatus::kAllMasked);
    EXPECT_EQ(r.token, -1);
    EXPECT_EQ(s.sample(std::span<const float>()).status, SampleStatus::kAllMasked);
    const std::vector<float> nans(4, std::numeric_limits<float>::quiet_NaN());
    EXPECT_EQ(s.sample(nans).status, SampleStatus::kAllMasked);
  }
}

TEST(SamplerTest, MaskedEntriesAreNeverChosen) {
  std::vector<float> logits(5000);
  for (size_t i = 0; i < logits.size(); ++i) {
    logits[i] = i % 10 == 3 ? static_cast<float>(i % 7) : -kInf;  // 9 of 10 entries masked
  }
  logits[7] = std::numeric_limits<float>::quiet_NaN();
  const SamplerOptions variants[] = {
      {.temperature = 1.0f}, {.temperature = 2.0f, .top_k = 5}, {.temperature = 1.0f, .top_p = 0.5f},
      {.temperature = 1.5f, .min_p = 0.2f}, {.temperature = 1.0f, .repetition_penalty = 1.3f}};
  for (const SamplerOptions& o : variants) {
    Sampler s(o, 5000);
    for (int i = 0; i < 3000; ++i) {
      const SampleResult r = s.sample(logits);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r.token % 10, 3) << "picked a masked entry " << r.token;
      s.accept(r.token);
    }
  }
}

TEST(SamplerTest, DistributionMatchesSoftmax) {
  Sampler s({.temperature = 1.0f, .seed = 1});
  const auto f = frequencies(s, log_probs({0.1, 0.2, 0.3, 0.4}), 200000);
  EXPECT_NEAR(f[0], 0.1, 0.005);
  EXPECT_NEAR(f[1], 0.2, 0.005);
  EXPECT_NEAR(f[2], 0.3, 0.005);
  EXPECT_NEAR(f[3], 0.4, 0.005);
}

TEST(SamplerTest, TemperatureSharpensAndFlattens) {
  // p ∝ exp(logit / T): at T = 0.5 the probabilities {0.25, 0.75} become {0.1, 0.9}.
  Sampler cold({.temperature = 0.5f, .seed = 2});
  const auto f = frequencies(cold, log_probs({0.25, 0.75}), 100000);
  EXPECT_NEAR(f[1], 0.9, 0.005);
  // At T = 2, {0.1, 0.9} becomes {0.25, 0.75}.
  Sampler hot({.temperature = 2.0f, .seed = 3});
  const auto g = frequencies(hot, log_probs({0.1, 0.9}), 100000);
  EXPECT_NEAR(g[1], 0.75, 0.005);
}

TEST(SamplerTest, TopKKeepsTheKBest) {
  Sampler s({.temperature = 1.0f, .top_k = 2, .seed = 4});
  const auto f = frequencies(s, log_probs({0.1, 0.2, 0.3, 0.4}), 100000);
  EXPECT_EQ(f[0], 0.0);
  EXPECT_EQ(f[1], 0.0);
  EXPECT_NEAR(f[2], 3.0 / 7.0, 0.005);
  EXPECT_NEAR(f[3], 4.0 / 7.0, 0.005);
}

TEST(SamplerTest, TopPKeepsTheSmallestPrefixReachingP) {
  // {0.4, 0.3, 0.2, 0.1}: 0.4 < 0.5, 0.4 + 0.3 >= 0.5 -> keep the first two.
  Sampler s({.temperature = 1.0f, .top_p = 0.5f, .seed = 5});
  const auto f = frequencies(s, log_probs({0.4, 0.3, 0.2, 0.1}), 100000);
  EXPECT_NEAR(f[0], 4.0 / 7.0, 0.005);
  EXPECT_NEAR(f[1], 3.0 / 7.0, 0.005);
  EXPECT_EQ(f[2] + f[3], 0.0);
  // A tiny top_p keeps exactly one token.
  Sampler one({.temperature = 1.0f, .top_p = 0.0f, .seed = 6});
  const auto g = frequencies(one, log_probs({0.4, 0.3, 0.2, 0.1}), 1000);
  EXPECT_NEAR(g[0], 1.0, 1e-9);
}

TEST(SamplerTest, TopPOnALargeVocabularyIsExact) {
  // 1000 tokens of weight 1 and 19000 of weight e^-10: the mass is 1000 + 0.8626, and top_p = 0.9
  // wants 900.776 of it, so exactly the 901 best survive; ties are broken by id, so those are the
  // 901 lowest ids among the 1000 (ids 0, 20, ..., 18000), and none of the 19000 others.
  std::vector<float> logits(20000, 0.0f);
  for (int i = 0; i < 1000; ++i) logits[static_cast<size_t>(i) * 20] = 10.0f;
  Sampler s({.temperature = 1.0f, .top_p = 0.9f, .seed = 8}, 20000);
  std::vector<int> seen(1000, 0);
  for (int i = 0; i < 5000; ++i) {
    const int32_t t = s.sample(logits).token;
    ASSERT_EQ(t % 20, 0) << t;
    ASSERT_LT(t / 20, 901) << t;
    seen[static_cast<size_t>(t / 20)] = 1;
  }
  int distinct = 0;
  for (const int v : seen) distinct += v;
  EXPECT_GT(distinct, 870);  // 5000 uniform draws over 901 miss about 4 of them
}

TEST(SamplerTest, MinPDropsUnlikelyTokens) {
  // p_max = 0.4, min_p = 0.6 -> floor 0.24: keep 0.4 and 0.3.
  Sampler s({.temperature = 1.0f, .min_p = 0.6f, .seed = 9});
  const auto f = frequencies(s, log_probs({0.4, 0.3, 0.2, 0.1}), 100000);
  EXPECT_NEAR(f[0], 4.0 / 7.0, 0.005);
  EXPECT_EQ(f[2] + f[3], 0.0);
}

TEST(SamplerTest, RepetitionPenaltyOverAWindow) {
  Sampler s({.temperature = 0.0f, .repetition_penalty = 1.1f, .repetition_window = 2});
  const std::vector<float> pos{2.0f, 1.9f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  EXPECT_EQ(s.sample(pos).token, 0);
  s.accept(0);
  EXPECT_EQ(s.sample(pos).token, 1);  // 2.0 / 1.1 = 1.82 < 1.9
  // Negative logits are multiplied: -1.0 * 1.1 = -1.1 < -1.05.
  const std::vector<float> neg{-1.0f, -1.05f, -kInf, -kInf, -kInf, -kInf, -kInf};
  EXPECT_EQ(s.sample(neg).token, 1);
  // Two more tokens push 0 out of the window of 2.
  s.accept(5);
  s.accept(6);
  EXPECT_EQ(s.sample(pos).token, 0);
  // A token repeated in the window is penalised once, not once per occurrence.
  Sampler once({.temperature = 0.0f, .repetition_penalty = 1.1f, .repetition_window = 8});
  for (int i = 0; i < 4; ++i) once.accept(0);
  EXPECT_EQ(once.sample(std::vector<float>{2.0f, 1.7f}).token, 0);  // 1.82 > 1.7
}

TEST(SamplerTest, SampleDoesNotAllocate) {
  constexpr int32_t kVocab = 50000;
  std::vector<float> logits(kVocab);
  for (int32_t i = 0; i < kVocab; ++i) logits[static_cast<size_t>(i)] = i % 3 == 0 ? -kInf : static_cast<float>(std::cos(i) * 4);
  const SamplerOptions variants[] = {{.temperature = 0.0f, .repetition_penalty = 1.2f},
                                     {.temperature = 0.7f, .top_k = 40, .top_p = 0.9f, .min_p = 0.05f,
                                      .repetition_penalty = 1.1f, .repetition_window = 16}};
  for (const SamplerOptions& o : variants) {
    Sampler s(o, kVocab);
    for (int i = 0; i < 20; ++i) s.accept(i * 7);
    const long before = g_allocations.load();
    int32_t sum = 0;
    for (int i = 0; i < 50; ++i) {
      const SampleResult r = s.sample(logits);
      sum += r.token;
      s.accept(r.token);
    }
    const long after = g_allocations.load();
    EXPECT_EQ(after, before) << "sample()/accept() allocated";
    EXPECT_GT(sum, 0);
  }
}

TEST(SamplerTest, PositiveInfinityTakesAllTheMass) {
  Sampler s({.temperature = 1.0f, .seed = 10});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(s.sample(std::vector<float>{0.0f, kInf, 3.0f, kInf}).token, 1);
}

}  // namespace
}  // namespace stencil
