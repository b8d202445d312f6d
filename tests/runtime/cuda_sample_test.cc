// The CUDA sampling op (runtime/cuda/sample.cu) against its CPU twin, runtime::sample_ranked: vocabularies
// of 1000 / 32000 / 128256 ids, without and with a mask (a padded one: the mask covers fewer ids than the
// row), greedy and temperature / top-k / top-p combinations, 8 draws each. Logits are rounded to
// quarters, so ties are common (ranked by id), and include -0, NaN and -inf entries.
// Ties check that CUB's descending radix sort is stable (equal logits stay in id order, as in the twin).
// Tolerance: the same token. Both sum the weights in double (in a different order), so they could
// disagree only when u lands within double rounding (~1e-16 relative) of a boundary between two
// candidates; such a case would be reported with its u.
//
// Without a CUDA device the parity tests skip with the reason.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "runtime/sample_ranked.h"
#include "stencil/bitmask.h"
#include "stencil/cuda.h"

#ifdef STENCIL_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "runtime/cuda/ops.h"
#endif

namespace stencil::runtime {
namespace {

TEST(CudaSample, SaysWhetherADeviceIsThere) {
  EXPECT_EQ(cuda_available(), cuda_unavailable_reason().empty()) << cuda_unavailable_reason();
}

#ifdef STENCIL_HAVE_CUDA

#define ASSERT_CUDA(call)                                                                                     \
  do {                                                                                                        \
    const cudaError_t e_ = (call);                                                                            \
    ASSERT_EQ(e_, cudaSuccess) << #call << ": " << cudaGetErrorName(e_) << ": " << cudaGetErrorString(e_); \
  } while (0)

struct Params {
  float temperature;
  int32_t top_k;
  float top_p;
};

class CudaSampleParity : public ::testing::TestWithParam<int32_t> {};

TEST_P(CudaSampleParity, EqualsCpuTwin) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  const int32_t n = GetParam();
  std::mt19937 rng(static_cast<uint32_t>(n));
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(static_cast<size_t>(n));
  for (float& v : logits) v = std::round(normal(rng) * 4.0f) / 4.0f;
  for (int k = 0; k < 30; ++k) logits[rng() % n] = k % 3 == 0 ? -0.0f : k % 3 == 1 ? std::nanf("") : -INFINITY;
  const int32_t mask_vocab = n - 7;
  std::vector<uint32_t> mask(static_cast<size_t>(bitmask_words(mask_vocab)));
  for (uint32_t& w : mask) {
    const uint32_t kind = rng() % 10;
    w = kind < 3 ? 0xFFFFFFFFu : kind < 7 ? 0u : static_cast<uint32_t>(rng());
  }

  void *d_logits = nullptr, *d_mask = nullptr, *d_token = nullptr, *d_scratch = nullptr;
  const size_t scratch = cuda::sample_scratch_bytes(n);
  ASSERT_CUDA(cudaMalloc(&d_logits, logits.size() * 4));
  ASSERT_CUDA(cudaMalloc(&d_mask, mask.size() * 4));
  ASSERT_CUDA(cudaMalloc(&d_token, 4));
  ASSERT_CUDA(cudaMalloc(&d_scratch, scratch));
  ASSERT_CUDA(cudaMemcpy(d_logits, logits.data(), logits.size() * 4, cudaMemcpyHostToDevice));
  ASSERT_CUDA(cudaMemcpy(d_mask, mask.data(), mask.size() * 4, cudaMemcpyHostToDevice));

  const Params grid[] = {{0.0f, 0, 1.0f},  {1.0f, 0, 1.0f},   {0.7f, 0, 1.0f},  {1.0f, 40, 1.0f},
                         {1.0f, 0, 0.9f},  {0.8f, 100, 0.95f}, {1.0f, 0, 0.0f}, {1.5f, 1, 1.0f}};
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  int checked = 0;
  for (bool use_mask : {false, true}) {
    for (const Params& p : grid) {
      for (int draw = 0; draw < 8; ++draw) {
        const double u = uni(rng);
        const int32_t want = sample_ranked(logits, use_mask ? mask.data() : nullptr, use_mask ? mask_vocab : 0,
                                           {.temperature = p.temperature, .top_k = p.top_k, .top_p = p.top_p}, u);
        cuda::sample(static_cast<const float*>(d_logits), n, use_mask ? static_cast<const uint32_t*>(d_mask) : nullptr,
                     use_mask ? mask_vocab : 0, {.temperature = p.temperature, .top_k = p.top_k, .top_p = p.top_p}, u,
                     d_scratch, scratch, static_cast<int32_t*>(d_token), nullptr);
        int32_t got = -2;
        ASSERT_CUDA(cudaMemcpy(&got, d_token, 4, cudaMemcpyDeviceToHost));
        EXPECT_EQ(got, want) << "T " << p.temperature << " top_k " << p.top_k << " top_p " << p.top_p << " mask "
                             << use_mask << " u " << u;
        ++checked;
      }
    }
  }
  // Every id excluded: -1 on both.
  std::vector<uint32_t> none(mask.size(), 0u);
  ASSERT_CUDA(cudaMemcpy(d_mask, none.data(), none.size() * 4, cudaMemcpyHostToDevice));
  for (float t : {0.0f, 1.0f}) {
    cuda::sample(static_cast<const float*>(d_logits), n, static_cast<const uint32_t*>(d_mask), mask_vocab,
                 {.temperature = t}, 0.5, d_scratch, scratch, static_cast<int32_t*>(d_token), nullptr);
    int32_t got = -2;
    ASSERT_CUDA(cudaMemcpy(&got, d_token, 4, cudaMemcpyDeviceToHost));
    EXPECT_EQ(got, -1) << "T " << t;
  }
  EXPECT_THROW(cuda::sample(static_cast<const float*>(d_logits), n, nullptr, 0, {}, 0.5, d_scratch, scratch / 2,
                            static_cast<int32_t*>(d_token), nullptr),
               std::exception);
  cudaFree(d_logits);
  cudaFree(d_mask);
  cudaFree(d_token);
  cudaFree(d_scratch);
  std::printf("[ info ] sample parity, vocab %d: %d draws compared\n", n, checked);
}

INSTANTIATE_TEST_SUITE_P(Vocab, CudaSampleParity, ::testing::Values(1000, 32000, 128256),
                         [](const auto& info) { return "v" + std::to_string(info.param); });

#endif  // STENCIL_HAVE_CUDA

}  // namespace
}  // namespace stencil::runtime
