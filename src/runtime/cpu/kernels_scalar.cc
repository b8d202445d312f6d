// Portable kernels: plain C++ loops (the compiler may auto-vectorise them for the baseline ISA).
// They define the semantics the SIMD versions must reproduce (up to float summation order).
#include <cmath>

#include "runtime/cpu/kernels.h"

namespace stencil::runtime::cpu {
namespace {

template <typename LoadW>
void gemm_float(const void* w, size_t wrb, const void* x, size_t xrb, float* y, size_t ys, int n_rows, int n_tok,
                int n, LoadW load) {
  for (int t = 0; t < n_tok; ++t) {
    const float* xt = reinterpret_cast<const float*>(static_cast<const char*>(x) + t * xrb);
    for (int r = 0; r < n_rows; ++r) {
      const char* wr = static_cast<const char*>(w) + r * wrb;
      float s = 0;
      for (int k = 0; k < n; ++k) s += load(wr, k) * xt[k];
      y[t * ys + r] = s;
    }
  }
}

void gemm_f32(const void* w, size_t wrb, const void* x, size_t xrb, float* y, size_t ys, int nr, int nt, int n) {
  gemm_float(w, wrb, x, xrb, y, ys, nr, nt, n,
             [](const char* p, int k) { return reinterpret_cast<const float*>(p)[k]; });
}
void gemm_f16(const void* w, size_t wrb, const void* x, size_t xrb, float* y, size_t ys, int nr, int nt, int n) {
  gemm_float(w, wrb, x, xrb, y, ys, nr, nt, n,
             [](const char* p, int k) { return fp16_to_f32(reinterpret_cast<const uint16_t*>(p)[k]); });
}
void gemm_bf16(const void* w, size_t wrb, const void* x, size_t xrb, float* y, size_t ys, int nr, int nt, int n) {
  gemm_float(w, wrb, x, xrb, y, ys, nr, nt, n,
             [](const char* p, int k) { return bf16_to_f32(reinterpret_cast<const uint16_t*>(p)[k]); });
}

void gemm_q8_0(const void* w, size_t wrb, const void* x, size_t xrb, float* y, size_t ys, int nr, int nt, int n) {
  const int nb = n / kQ8Block;
  for (int t = 0; t < nt; ++t) {
    const auto* xb = reinterpret_cast<const BlockQ8_0*>(static_cast<const char*>(x) + t * xrb);
    for (int r = 0; r < nr; ++r) {
      const auto* wb = reinterpret_cast<const BlockQ8_0*>(static_cast<const char*>(w) + r * wrb);
      float s = 0;
      for (int b = 0; b < nb; ++b) {
        int32_t si = 0;
        for (int j = 0; j < kQ8Block; ++j) si += static_cast<int32_t>(wb[b].qs[j]) * xb[b].qs[j];
        s += static_cast<float>(si) * (fp16_to_f32(wb[b].d) * fp16_to_f32(xb[b].d));
      }
      y[t * ys + r] = s;
    }
  }
}

float dot_f32(const float* a, const float* b, int n) {
  float s = 0;
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_f32(float a, const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

void fill_kernels_scalar(KernelTable* t) {
  t->isa = Isa::kScalar;
  t->name = "scalar";
  t->gemm_f32 = gemm_f32;
  t->gemm_f16 = gemm_f16;
  t->gemm_bf16 = gemm_bf16;
  t->gemm_q8_0 = gemm_q8_0;
  t->quantize_q8_0 = quantize_row_q8_0_ref;
  t->dot_f32 = dot_f32;
  t->axpy_f32 = axpy_f32;
}

}  // namespace stencil::runtime::cpu
