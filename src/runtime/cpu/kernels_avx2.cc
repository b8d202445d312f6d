// AVX2 + FMA + F16C kernels (compiled with -mavx2 -mfma -mf16c; only called when cpuid says so).
// GEMMs use a 4-row x 1-token micro-kernel: each activation vector is loaded once for four weight
// rows; a row group stays in L1 while the token loop runs over it (prompt batches).
#include <immintrin.h>

#include "runtime/cpu/kernels.h"

namespace stencil::runtime::cpu {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Loads 8 weights of each float type as 8 floats.
struct LoadF32 {
  static __m256 load8(const char* p, int k) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p) + k); }
  static float load1(const char* p, int k) { return reinterpret_cast<const float*>(p)[k]; }
};
struct LoadF16 {
  static __m256 load8(const char* p, int k) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(p) + k)));
  }
  static float load1(const char* p, int k) { return _cvtsh_ss(reinterpret_cast<const uint16_t*>(p)[k]); }
};
struct LoadBF16 {
  static __m256 load8(const char* p, int k) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(p) + k));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float load1(const char* p, int k) { return bf16_to_f32(reinterpret_cast<const uint16_t*>(p)[k]); }
};

template <typename L>
void gemm_float(const void* w, size_t wrb, const void* x, size_t xrb, float* y, size_t ys, int nr, int nt, int n) {
  const char* wb = static_cast<const char*>(w);
  const int n8 = n & ~7;
  int r = 0;
  for (; r + 4 <= nr; r += 4) {
    const char* w0 = wb + r * wrb;
    const char* w1 = w0 + wrb;
    const char* w2 = w1 + wrb;
    const char* w3 = w2 + wrb;
    for (int t = 0; t < nt; ++t) {
      const float* xt = reinterpret_cast<const float*>(static_cast<const char*>(x) + t * xrb);
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
      for (int k = 0; k < n8; k += 8) {
        const __m256 xv = _mm256_loadu_ps(xt + k);
        a0 = _mm256_fmadd_ps(L::load8(w0, k), xv, a0);
        a1 = _mm256_fmadd_ps(L::load8(w1, k), xv, a1);
        a2 = _mm256_fmadd_ps(L::load8(w2, k), xv, a2);
        a3 = _mm256_fmadd_ps(L::load8(w3, k), xv, a3);
      }
      float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
      for (int k = n8; k < n; ++k) {
        s0 += L::load1(w0, k) * xt[k];
        s1 += L::load1(w1, k) * xt[k];
        s2 += L::load1(w2, k) * xt[k];
        s3 += L::load1(w3, k) * xt[k];
      }
      float* yt = y + t * ys + r;
      yt[0] = s0;
      yt[1] = s1;
      yt[2] = s2;
      yt[3] = s3;
    }
  }
  for (; r < nr; ++r) {
    const char* w0 = wb + r * wrb;
    for (int t = 0; t < nt; ++t) {
      const float* xt = reinterpret_cast<const float*>(static_cast<const char*>(x) + t * xrb);
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
      int k = 0;
      for (; k + 16 <= n8; k += 16) {
        a0 = _mm256_fmadd_ps(L::load8(w0, k), _mm256_loadu_ps(xt + k), a0);
        a1 = _mm256_fmadd_ps(L::load8(w0, k + 8), _mm256_loadu_ps(xt + k + 8), a1);
      }
      for (; k < n8; k += 8) a0 = _mm256_fmadd_ps(L::load8(w0, k), _mm256_loadu_ps(xt + k), a0);
      float s = hsum(_mm256_add_ps(a0, a1));
      for (k = n8; k < n; ++k) s += L::load1(w0, k) * xt[k];
      y[t * ys + r] = s;
    }
  }
}

// Sum of int8 products of one 32-byte block pair as 8 float lanes (llama.cpp's sign trick: maddubs
// needs an unsigned operand, so |x| times sign(y, x)).
inline __m256 dot_block(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  const __m256i p16 = _mm256_maddubs_epi16(ax, sy);
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

inline __m256i load_qs(const BlockQ8_0& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }

void gemm_q8_0(const void* w, size_t wrb, const void* x, size_t xrb, float* y, size_t ys, int nr, int nt, int n) {
  const int nb = n / kQ8Block;
  const char* wbase = static_cast<const char*>(w);
  int r = 0;
  for (; r + 4 <= nr; r += 4) {
    const auto* w0 = reinterpret_cast<const BlockQ8_0*>(wbase + r * wrb);
    const auto* w1 = reinterpret_cast<const BlockQ8_0*>(wbase + (r + 1) * wrb);
    const auto* w2 = reinterpret_cast<const BlockQ8_0*>(wbase + (r + 2) * wrb);
    const auto* w3 = reinterpret_cast<const BlockQ8_0*>(wbase + (r + 3) * wrb);
    // The four rows are one contiguous region; later groups follow it. Prefetch the group
    // kPrefetchAheadRows ahead while this one is computed (decode is memory-bound: the hardware
    // prefetcher alone leaves gaps).
    const char* next = wbase + (r + kPrefetchAheadRows) * wrb;
    const bool prefetch = r + kPrefetchAheadRows + 4 <= nr;
    for (int t = 0; t < nt; ++t) {
      const auto* xb = reinterpret_cast<const BlockQ8_0*>(static_cast<const char*>(x) + t * xrb);
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
      for (int b = 0; b < nb; ++b) {
        if (prefetch && t == 0) {
          _mm_prefetch(next + b * 4 * sizeof(BlockQ8_0), _MM_HINT_T0);
          _mm_prefetch(next + b * 4 * sizeof(BlockQ8_0) + 64, _MM_HINT_T0);
          _mm_prefetch(next + b * 4 * sizeof(BlockQ8_0) + 128, _MM_HINT_T0);
        }
        const __m256i xv = load_qs(xb[b]);
        const float dx = _cvtsh_ss(xb[b].d);
        a0 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(w0[b].d)), dot_block(xv, load_qs(w0[b])), a0);
        a1 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(w1[b].d)), dot_block(xv, load_qs(w1[b])), a1);
        a2 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(w2[b].d)), dot_block(xv, load_qs(w2[b])), a2);
        a3 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(w3[b].d)), dot_block(xv, load_qs(w3[b])), a3);
      }
      float* yt = y + t * ys + r;
      yt[0] = hsum(a0);
      yt[1] = hsum(a1);
      yt[2] = hsum(a2);
      yt[3] = hsum(a3);
    }
  }
  for (; r < nr; ++r) {
    const auto* w0 = reinterpret_cast<const BlockQ8_0*>(wbase + r * wrb);
    for (int t = 0; t < nt; ++t) {
      const auto* xb = reinterpret_cast<const BlockQ8_0*>(static_cast<const char*>(x) + t * xrb);
      __m256 a0 = _mm256_setzero_ps();
      for (int b = 0; b < nb; ++b) {
        a0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(xb[b].d) * _cvtsh_ss(w0[b].d)),
                             dot_block(load_qs(xb[b]), load_qs(w0[b])), a0);
      }
      y[t * ys + r] = hsum(a0);
    }
  }
}

float dot_f32(const float* a, const float* b, int n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), a1);
  }
  for (; k + 8 <= n; k += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), a0);
  float s = hsum(_mm256_add_ps(a0, a1));
  for (; k < n; ++k) s += a[k] * b[k];
  return s;
}

void axpy_f32(float a, const float* x, float* y, int n) {
  const __m256 av = _mm256_set1_ps(a);
  int k = 0;
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(y + k, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k)));
  for (; k < n; ++k) y[k] += a * x[k];
}

}  // namespace

void fill_kernels_avx2(KernelTable* t) {
  t->isa = Isa::kAvx2;
  t->name = "avx2";
  t->gemm_f32 = gemm_float<LoadF32>;
  t->gemm_f16 = gemm_float<LoadF16>;
  t->gemm_bf16 = gemm_float<LoadBF16>;
  t->gemm_q8_0 = gemm_q8_0;
  t->quantize_q8_0 = quantize_row_q8_0_ref;
  t->dot_f32 = dot_f32;
  t->axpy_f32 = axpy_f32;
}

}  // namespace stencil::runtime::cpu
