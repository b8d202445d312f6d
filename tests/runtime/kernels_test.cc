// Every SIMD kernel table this CPU supports against the portable scalar table, on random data with
// awkward sizes (row lengths not a multiple of the vector width, row counts not a multiple of the
// 4-row micro-kernel, several tokens). Q8_0 dot products are exact in integers, so only float
// summation order differs: relative error <= 1e-5 of the sum of |products|. Also f16 conversions
// and ggml's Q8_0 activation rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>
#include <vector>

#include "runtime/cpu/kernels.h"

namespace stencil::runtime::cpu {
namespace {

struct Sizes {
  int rows, tokens, n;
};

std::vector<const KernelTable*> simd_tables() {
  std::vector<const KernelTable*> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (const KernelTable* t = kernels_for(isa)) out.push_back(t);
  }
  return out;
}

TEST(KernelsTest, FloatGemmsMatchScalar) {
  const KernelTable& ref = *kernels_for(Isa::kScalar);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  const auto tables = simd_tables();
  if (tables.empty()) GTEST_SKIP() << "no SIMD kernels on this CPU";
  for (const Sizes& s : {Sizes{1, 1, 1}, Sizes{5, 3, 17}, Sizes{8, 1, 64}, Sizes{7, 2, 100}, Sizes{13, 5, 576}}) {
    std::vector<float> x(size_t(s.tokens) * s.n), w(size_t(s.rows) * s.n);
    for (float& v : x) v = nd(rng);
    for (float& v : w) v = nd(rng);
    std::vector<uint16_t> wh(w.size()), wb(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      wh[i] = f32_to_fp16(w[i]);
      wb[i] = static_cast<uint16_t>(bits_from_f32(w[i]) >> 16);
    }
    struct Case {
      const char* name;
      GemmFn KernelTable::*fn;
      const void* w;
      size_t row_bytes;
    } cases[] = {{"f32", &KernelTable::gemm_f32, w.data(), size_t(s.n) * 4},
                 {"f16", &KernelTable::gemm_f16, wh.data(), size_t(s.n) * 2},
                 {"bf16", &KernelTable::gemm_bf16, wb.data(), size_t(s.n) * 2}};
    for (const Case& c : cases) {
      std::vector<float> want(size_t(s.tokens) * s.rows), got(want.size());
      (ref.*c.fn)(c.w, c.row_bytes, x.data(), s.n * 4, want.data(), s.rows, s.rows, s.tokens, s.n);
      for (const KernelTable* t : tables) {
        (t->*c.fn)(c.w, c.row_bytes, x.data(), s.n * 4, got.data(), s.rows, s.rows, s.tokens, s.n);
        for (size_t i = 0; i < want.size(); ++i) {
          EXPECT_NEAR(got[i], want[i], 1e-5 * s.n * 4) << t->name << " " << c.name << " n=" << s.n << " i=" << i;
        }
      }
    }
    EXPECT_NEAR(tables.back()->dot_f32(x.data(), w.data(), s.n), ref.dot_f32(x.data(), w.data(), s.n), 1e-5 * s.n * 4);
    std::vector<float> y1(s.n, 1.0f), y2(s.n, 1.0f);
    ref.axpy_f32(0.5f, x.data(), y1.data(), s.n);
    tables.back()->axpy_f32(0.5f, x.data(), y2.data(), s.n);
    for (int i = 0; i < s.n; ++i) EXPECT_FLOAT_EQ(y1[i], y2[i]);
  }
}

TEST(KernelsTest, Q8GemmMatchesScalar) {
  const KernelTable& ref = *kernels_for(Isa::kScalar);
  const auto tables = simd_tables();
  if (tables.empty()) GTEST_SKIP() << "no SIMD kernels on this CPU";
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  for (const Sizes& s : {Sizes{1, 1, 32}, Sizes{6, 3, 64}, Sizes{9, 2, 576}, Sizes{17, 4, 1536}}) {
    const int nb = s.n / 32;
    std::vector<float> xf(size_t(s.tokens) * s.n), wf(size_t(s.rows) * s.n);
    for (float& v : xf) v = nd(rng);
    for (float& v : wf) v = nd(rng);
    std::vector<BlockQ8_0> x(size_t(s.tokens) * nb), w(size_t(s.rows) * nb);
    for (int t = 0; t < s.tokens; ++t) ref.quantize_q8_0(xf.data() + t * s.n, x.data() + t * nb, s.n);
    for (int r = 0; r < s.rows; ++r) quantize_row_q8_0_ref(wf.data() + r * s.n, w.data() + r * nb, s.n);
    std::vector<float> want(size_t(s.tokens) * s.rows), got(want.size());
    const size_t rb = nb * sizeof(BlockQ8_0);
    ref.gemm_q8_0(w.data(), rb, x.data(), rb, want.data(), s.rows, s.rows, s.tokens, s.n);
    for (const KernelTable* t : tables) {
      t->gemm_q8_0(w.data(), rb, x.data(), rb, got.data(), s.rows, s.rows, s.tokens, s.n);
      for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 * s.n) << t->name << " i=" << i;
    }
  }
}

// The activation quantiser of every table is bit-identical to the reference (the Q8_0 gemm results
// of the runtime then do not depend on the ISA beyond float summation order).
TEST(KernelsTest, Q8QuantizeIsBitIdenticalToReference) {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd;
  for (int n : {32, 64, 576, 1536}) {
    std::vector<float> x(n);
    for (float& v : x) v = nd(rng);
    // Block 0: amax 127, so id = 1 and these are ties to round half to even.
    const float ties[] = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, -0.0f};
    std::copy(std::begin(ties), std::end(ties), x.begin());
    if (n >= 64) std::fill(x.begin() + 32, x.begin() + 64, 0.0f);  // an all-zero block: d = 0, id = 0
    std::vector<BlockQ8_0> want(n / 32), got(n / 32);
    quantize_row_q8_0_ref(x.data(), want.data(), n);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      const KernelTable* t = kernels_for(isa);
      if (t == nullptr) continue;
      std::fill(got.begin(), got.end(), BlockQ8_0{});
      t->quantize_q8_0(x.data(), got.data(), n);
      for (int b = 0; b < n / 32; ++b) {
        EXPECT_EQ(got[b].d, want[b].d) << t->name << " n=" << n << " block " << b;
        for (int j = 0; j < 32; ++j) {
          EXPECT_EQ(got[b].qs[j], want[b].qs[j]) << t->name << " n=" << n << " block " << b << " j=" << j;
        }
      }
    }
  }
}

TEST(KernelsTest, Fp16ConversionAndQ8Rounding) {
  // Exact round trips and round-half-even at the half-way points.
  const struct {
    float f;
    uint16_t h;
  } cases[] = {{0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3c00}, {-2.0f, 0xc000}, {65504.0f, 0x7bff},
               {1e6f, 0x7c00},  {5.9604645e-8f, 0x0001}, {1.0f + 1.0f / 2048, 0x3c00} /* tie -> even */,
               {1.0f + 3.0f / 2048, 0x3c02} /* tie -> even (up) */, {6.097555e-5f, 0x03ff}};
  for (const auto& c : cases) {
    EXPECT_EQ(f32_to_fp16(c.f), c.h) << c.f;
    if (c.f < 1e5f) EXPECT_EQ(fp16_to_f32(c.h), fp16_to_f32(f32_to_fp16(c.f)));
  }
  EXPECT_TRUE(std::isnan(fp16_to_f32(0x7e00)));
  // Q8_0: amax maps to +-127, and x*127/amax is rounded half to even.
  float x[32] = {};
  x[0] = 2.54f;  // amax: d = 0.02, id = 50
  x[1] = 0.01f;  // 0.5 -> 0 (even)
  x[2] = 0.03f;  // 1.5 -> 2
  x[3] = -2.54f;
  BlockQ8_0 b;
  quantize_row_q8_0_ref(x, &b, 32);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 0);
  EXPECT_EQ(b.qs[2], 2);
  EXPECT_EQ(b.qs[3], -127);
  EXPECT_EQ(b.d, f32_to_fp16(2.54f / 127.0f));
}

}  // namespace
}  // namespace stencil::runtime::cpu
