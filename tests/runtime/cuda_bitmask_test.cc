// apply_token_bitmask_cuda (include/stencil/cuda.h) against its CPU twin, apply_token_bitmask
// (engine/bitmask.cc): for vocabularies of 32k / 128k / 256k ids, batches of 1 and 64, float32 /
// float16 / bfloat16 logits, with and without row indices, with and without padding (logits wider
// than the mask's vocabulary, rows further apart than their width). The device result must equal the
// CPU result bit for bit, gaps between rows and unselected rows included (tolerance: none; masking
// only writes -inf).
//
// Without a CUDA device the parity tests skip with the reason (cuda_unavailable_reason()); the
// tests of the unavailable path and of argument checks run everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "runtime/tensor_types.h"
#include "stencil/bitmask.h"
#include "stencil/cuda.h"
#include "stencil/errors.h"

#ifdef STENCIL_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace stencil {
namespace {

TEST(CudaBitmask, SaysWhyItIsUnavailable) {
  if (cuda_available()) {
    EXPECT_EQ(cuda_unavailable_reason(), "");
    return;
  }
  const std::string why = cuda_unavailable_reason();
#ifdef STENCIL_HAVE_CUDA
  EXPECT_NE(why.find("no CUDA device"), std::string::npos) << why;
#else
  EXPECT_NE(why.find("built without CUDA"), std::string::npos) << why;
#endif
  // A call that would have work to do fails with that reason (no device memory is touched: the
  // pointers are never dereferenced on the host).
  uint32_t fake = 0;
  DeviceBitmaskArgs a;
  a.logits = &fake;
  a.mask = &fake;
  a.n_rows = 1;
  a.width = 32;
  a.mask_vocab_size = 32;
  try {
    apply_token_bitmask_cuda(a);
    ADD_FAILURE() << "apply_token_bitmask_cuda did not throw without CUDA";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(why.substr(0, 14)), std::string::npos) << e.what();
  }
}

TEST(CudaBitmask, ChecksArgumentsBeforeTheDevice) {
#ifndef STENCIL_HAVE_CUDA
  GTEST_SKIP() << "built without CUDA: every call throws before its arguments are read";
#else
  uint32_t fake = 0;
  DeviceBitmaskArgs a;
  a.logits = &fake;
  a.mask = &fake;
  a.n_rows = 2;
  a.width = 64;
  a.mask_vocab_size = 64;
  DeviceBitmaskArgs bad = a;
  bad.n_rows = -1;
  EXPECT_THROW(apply_token_bitmask_cuda(bad), ArgumentError);
  bad = a;
  bad.row_stride = 10;  // < width
  EXPECT_THROW(apply_token_bitmask_cuda(bad), ArgumentError);
  bad = a;
  bad.logits = nullptr;
  EXPECT_THROW(apply_token_bitmask_cuda(bad), ArgumentError);
  bad = a;
  bad.mask = nullptr;
  EXPECT_THROW(apply_token_bitmask_cuda(bad), ArgumentError);
  bad = a;
  bad.n_indices = 3;  // indices null
  EXPECT_THROW(apply_token_bitmask_cuda(bad), ArgumentError);
  // Nothing to mask: returns without needing a device.
  DeviceBitmaskArgs empty = a;
  empty.n_rows = 0;
  EXPECT_NO_THROW(apply_token_bitmask_cuda(empty));
#endif
}

#ifdef STENCIL_HAVE_CUDA

struct Case {
  int32_t vocab;
  int32_t batch;
  LogitsDtype dtype;
  bool indices;
  bool padding;
};

std::string case_name(const Case& c) {
  const char* dt = c.dtype == LogitsDtype::kFloat32 ? "f32" : c.dtype == LogitsDtype::kFloat16 ? "f16" : "bf16";
  return "v" + std::to_string(c.vocab) + "_b" + std::to_string(c.batch) + "_" + dt + (c.indices ? "_indices" : "") +
         (c.padding ? "_padded" : "");
}

#define ASSERT_CUDA(call)                                                                 \
  do {                                                                                    \
    const cudaError_t e_ = (call);                                                        \
    ASSERT_EQ(e_, cudaSuccess) << #call << ": " << cudaGetErrorName(e_) << ": " << cudaGetErrorString(e_); \
  } while (0)

// Logit element <-> float for the three dtypes (the test keeps every buffer as raw bits).
float to_float(LogitsDtype t, const void* p, size_t i) {
  switch (t) {
    case LogitsDtype::kFloat32: return static_cast<const float*>(p)[i];
    case LogitsDtype::kFloat16: return runtime::fp16_to_f32(static_cast<const uint16_t*>(p)[i]);
    default: return runtime::bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
  }
}
void from_float(LogitsDtype t, void* p, size_t i, float v) {
  switch (t) {
    case LogitsDtype::kFloat32: static_cast<float*>(p)[i] = v; break;
    case LogitsDtype::kFloat16: static_cast<uint16_t*>(p)[i] = runtime::f32_to_fp16(v); break;
    default: static_cast<uint16_t*>(p)[i] = static_cast<uint16_t>(runtime::bits_from_f32(v) >> 16);  // exact for bf16 values
  }
}

class CudaBitmaskParity : public ::testing::TestWithParam<Case> {};

TEST_P(CudaBitmaskParity, EqualsCpuApply) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  const Case& c = GetParam();
  // Padding: the mask covers vocab - 5 ids (not a multiple of 32), the logits are 123 wider than the
  // vocabulary and rows are 16 elements further apart than their width (the gap must stay untouched).
  const int32_t mask_vocab = c.padding ? c.vocab - 5 : c.vocab;
  const int32_t width = c.padding ? c.vocab + 123 : c.vocab;
  const int64_t stride = c.padding ? width + 16 : width;
  const int32_t words = bitmask_words(mask_vocab);
  const size_t elem = c.dtype == LogitsDtype::kFloat32 ? 4 : 2;
  const size_t n_elems = static_cast<size_t>(c.batch) * stride;

  std::mt19937 rng(c.vocab * 7 + c.batch);
  std::vector<uint8_t> logits(n_elems * elem);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  for (size_t i = 0; i < n_elems; ++i) from_float(c.dtype, logits.data(), i, normal(rng));
  // Masks shaped like real ones: runs of all-allowed and all-disallowed words, and mixed words.
  std::vector<uint32_t> mask(static_cast<size_t>(c.batch) * words);
  for (auto& w : mask) {
    const uint32_t kind = rng() % 10;
    w = kind < 3 ? 0xFFFFFFFFu : kind < 6 ? 0u : static_cast<uint32_t>(rng());
  }
  std::vector<int32_t> indices;
  if (c.indices) {
    for (int32_t r = 0; r < c.batch; r += 3) indices.push_back(r);
    indices.push_back(-1);       // skipped
    indices.push_back(c.batch);  // skipped
  }

  // The CPU twin, row by row, on the float values.
  std::vector<uint8_t> want = logits;
  std::vector<float> row(static_cast<size_t>(width));
  std::vector<bool> selected(static_cast<size_t>(c.batch), !c.indices);
  for (int32_t r : indices) {
    if (r >= 0 && r < c.batch) selected[r] = true;
  }
  for (int32_t r = 0; r < c.batch; ++r) {
    if (!selected[r]) continue;
    const size_t base = static_cast<size_t>(r) * stride;
    for (int32_t i = 0; i < width; ++i) row[i] = to_float(c.dtype, want.data(), base + i);
    apply_token_bitmask(row, std::span<const uint32_t>(mask.data() + static_cast<size_t>(r) * words, words), mask_vocab);
    for (int32_t i = 0; i < width; ++i) from_float(c.dtype, want.data(), base + i, row[i]);
  }

  void *d_logits = nullptr, *d_mask = nullptr, *d_indices = nullptr;
  ASSERT_CUDA(cudaMalloc(&d_logits, logits.size()));
  ASSERT_CUDA(cudaMalloc(&d_mask, mask.size() * 4));
  ASSERT_CUDA(cudaMalloc(&d_indices, std::max<size_t>(1, indices.size()) * 4));
  ASSERT_CUDA(cudaMemcpy(d_logits, logits.data(), logits.size(), cudaMemcpyHostToDevice));
  ASSERT_CUDA(cudaMemcpy(d_mask, mask.data(), mask.size() * 4, cudaMemcpyHostToDevice));
  if (!indices.empty()) ASSERT_CUDA(cudaMemcpy(d_indices, indices.data(), indices.size() * 4, cudaMemcpyHostToDevice));

  DeviceBitmaskArgs a;
  a.logits = d_logits;
  a.dtype = c.dtype;
  a.n_rows = c.batch;
  a.width = width;
  a.row_stride = c.padding ? stride : 0;
  a.mask = static_cast<const uint32_t*>(d_mask);
  a.mask_vocab_size = mask_vocab;
  if (c.indices) {
    a.indices = static_cast<const int32_t*>(d_indices);
    a.n_indices = static_cast<int32_t>(indices.size());
  }
  apply_token_bitmask_cuda(a);
  ASSERT_CUDA(cudaDeviceSynchronize());
  std::vector<uint8_t> got(logits.size());
  ASSERT_CUDA(cudaMemcpy(got.data(), d_logits, got.size(), cudaMemcpyDeviceToHost));
  cudaFree(d_logits);
  cudaFree(d_mask);
  cudaFree(d_indices);

  size_t mismatches = 0, first = 0;
  for (size_t i = 0; i < n_elems; ++i) {
    if (std::memcmp(&got[i * elem], &want[i * elem], elem) != 0 && mismatches++ == 0) first = i;
  }
  EXPECT_EQ(mismatches, 0u) << "first at row " << first / stride << ", id " << first % stride << ": got "
                            << to_float(c.dtype, got.data(), first) << ", want " << to_float(c.dtype, want.data(), first);
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (int32_t vocab : {32000, 128256, 256000}) {
    for (int32_t batch : {1, 64}) {
      for (LogitsDtype dt : {LogitsDtype::kFloat32, LogitsDtype::kFloat16, LogitsDtype::kBFloat16}) {
        for (bool indices : {false, true}) {
          for (bool padding : {false, true}) cases.push_back({vocab, batch, dt, indices, padding});
        }
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Matrix, CudaBitmaskParity, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return case_name(info.param); });

#endif  // STENCIL_HAVE_CUDA

}  // namespace
}  // namespace stencil
