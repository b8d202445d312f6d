// AVX-512 (F/BW/VL) + VNNI kernels (compiled with those flags; only called when cpuid says so).
// Float GEMMs run 16 lanes wide, 4 rows x 1 token per micro-kernel. Q8_0 dot products use
// vpdpbusd on 256-bit halves (one Q8_0 block is 32 bytes), with llama.cpp's sign trick
// (|x| as the unsigned operand, sign(y, x) as the signed one).
#include <immintrin.h>

#include "runtime/cpu/kernels.h"

namespace stencil::runtime::cpu {
namespace {

inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

struct LoadF32 {
  static __m512 load16(const char* p, int k) { return _mm512_loadu_ps(reinterpret_cast<const float*>(p) + k); }
  static __m512 loadn(const char* p, int k, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(p) + k);
  }
};
struct LoadF16 {
  static __m512 load16(const char* p, int k) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const uint16_t*>(p) + k)));
  }
  static __m512 loadn(const char* p, int k, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(p) + k));
  }
};
struct LoadBF16 {
  static __m512 load16(const char* p, int k) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const uint16_t*>(p) + k));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 loadn(const char* p, int k, __mmask16 m) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, reinterpret_cast<const uint16_t*>(p) + k);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

template <typename L>
void gemm_float(const void* w, size_t wrb, const void* x, size_t xrb, float* y, size_t ys, int nr, int nt, int n) {
  const char* wb = static_cast<const char*>(w);
  const int n16 = n & ~15;
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - n16)) - 1);
  int r = 0;
  for (; r + 4 <= nr; r += 4) {
    const char* w0 = wb + r * wrb;
    const char* w1 = w0 + wrb;
    const char* w2 = w1 + wrb;
    const char* w3 = w2 + wrb;
    // Prefetch a group of 4 rows kPrefetchAheadRows ahead (contiguous), spread over the k loop.
    const char* next = wb + (r + kPrefetchAheadRows) * wrb;
    const bool prefetch = r + kPrefetchAheadRows + 4 <= nr && n16 > 0;
    const size_t step = prefetch ? 4 * wrb / (n16 / 16) : 0;
    for (int t = 0; t < nt; ++t) {
      const float* xt = reinterpret_cast<const float*>(static_cast<const char*>(x) + t * xrb);
      __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
      for (int k = 0; k < n16; k += 16) {
        if (prefetch && t == 0) {
          const char* p = next + (k / 16) * step;
          for (size_t o = 0; o < step + 64; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
        }
        const __m512 xv = _mm512_loadu_ps(xt + k);
        a0 = _mm512_fmadd_ps(L::load16(w0, k), xv, a0);
        a1 = _mm512_fmadd_ps(L::load16(w1, k), xv, a1);
        a2 = _mm512_fmadd_ps(L::load16(w2, k), xv, a2);
        a3 = _mm512_fmadd_ps(L::load16(w3, k), xv, a3);
      }
      if (tail) {
        const __m512 xv = _mm512_maskz_loadu_ps(tail, xt + n16);
        a0 = _mm512_fmadd_ps(L::loadn(w0, n16, tail), xv, a0);
        a1 = _mm512_fmadd_ps(L::loadn(w1, n16, tail), xv, a1);
        a2 = _mm512_fmadd_ps(L::loadn(w2, n16, tail), xv, a2);
        a3 = _mm512_fmadd_ps(L::loadn(w3, n16, tail), xv, a3);
      }
      float* yt = y + t * ys + r;
      yt[0] = _mm512_reduce_add_ps(a0);
      yt[1] = _mm512_reduce_add_ps(a1);
      yt[2] = _mm512_reduce_add_ps(a2);
      yt[3] = _mm512_reduce_add_ps(a3);
    }
  }
  for (; r < nr; ++r) {
    const char* w0 = wb + r * wrb;
    for (int t = 0; t < nt; ++t) {
      const float* xt = reinterpret_cast<const float*>(static_cast<const char*>(x) + t * xrb);
      __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
      int k = 0;
      for (; k + 32 <= n16; k += 32) {
        a0 = _mm512_fmadd_ps(L::load16(w0, k), _mm512_loadu_ps(xt + k), a0);
        a1 = _mm512_fmadd_ps(L::load16(w0, k + 16), _mm512_loadu_ps(xt + k + 16), a1);
      }
      for (; k < n16; k += 16) a0 = _mm512_fmadd_ps(L::load16(w0, k), _mm512_loadu_ps(xt + k), a0);
      if (tail) a1 = _mm512_fmadd_ps(L::loadn(w0, n16, tail), _mm512_maskz_loadu_ps(tail, xt + n16), a1);
      y[t * ys + r] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    }
  }
}

// Integer dot of one block pair as 8 int32 lanes, converted to float.
inline __m256 dot_block(__m256i ax, __m256i sx_neg_mask_src, __m256i y) {
  // ax = |x|; sign(y, x): negate y where x < 0 (and zero where x == 0, harmless: |x| is 0 there).
  const __m256i sy = _mm256_sign_epi8(y, sx_neg_mask_src);
  return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy));
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
        const __m256i ax = _mm256_abs_epi8(xv);
        const float dx = _cvtsh_ss(xb[b].d);
        a0 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(w0[b].d)), dot_block(ax, xv, load_qs(w0[b])), a0);
        a1 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(w1[b].d)), dot_block(ax, xv, load_qs(w1[b])), a1);
        a2 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(w2[b].d)), dot_block(ax, xv, load_qs(w2[b])), a2);
        a3 = _mm256_fmadd_ps(_mm256_set1_ps(dx * _cvtsh_ss(w3[b].d)), dot_block(ax, xv, load_qs(w3[b])), a3);
      }
      float* yt = y + t * ys + r;
      yt[0] = hsum256(a0);
      yt[1] = hsum256(a1);
      yt[2] = hsum256(a2);
      yt[3] = hsum256(a3);
    }
  }
  for (; r < nr; ++r) {
    const auto* w0 = reinterpret_cast<const BlockQ8_0*>(wbase + r * wrb);
    for (int t = 0; t < nt; ++t) {
      const auto* xb = reinterpret_cast<const BlockQ8_0*>(static_cast<const char*>(x) + t * xrb);
      __m256 a0 = _mm256_setzero_ps();
      for (int b = 0; b < nb; ++b) {
        const __m256i xv = load_qs(xb[b]);
        a0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(xb[b].d) * _cvtsh_ss(w0[b].d)),
                             dot_block(_mm256_abs_epi8(xv), xv, load_qs(w0[b])), a0);
      }
      y[t * ys + r] = hsum256(a0);
    }
  }
}

// Activations -> Q8_0, bit-identical to quantize_row_q8_0_ref for finite x: the same float
// amax, d and id, and x * id rounded half to even (vcvtps2dq in the default rounding mode is
// nearbyint); |x * id| <= 127, so the saturating narrowing never clips.
void quantize_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t i = 0; i < n / kQ8Block; ++i) {
    const __m512 v0 = _mm512_loadu_ps(x + i * kQ8Block);
    const __m512 v1 = _mm512_loadu_ps(x + i * kQ8Block + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1)));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[i].d = f32_to_fp16(d);
    const __m512 vid = _mm512_set1_ps(id);
    const __m128i q0 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, vid)));
    const __m128i q1 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, vid)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs), q0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs + 16), q1);
  }
}

float dot_f32(const float* a, const float* b, int n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  int k = 0;
  for (; k + 32 <= n; k += 32) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k + 16), _mm512_loadu_ps(b + k + 16), a1);
  }
  for (; k + 16 <= n; k += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), a0);
  if (k < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - k)) - 1);
    a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

void axpy_f32(float a, const float* x, float* y, int n) {
  const __m512 av = _mm512_set1_ps(a);
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    _mm512_storeu_ps(y + k, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + k), _mm512_loadu_ps(y + k)));
  }
  if (k < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - k)) - 1);
    _mm512_mask_storeu_ps(y + k, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + k), _mm512_maskz_loadu_ps(m, y + k)));
  }
}

}  // namespace

void fill_kernels_avx512(KernelTable* t) {
  t->isa = Isa::kAvx512;
  t->name = "avx512";
  t->gemm_f32 = gemm_float<LoadF32>;
  t->gemm_f16 = gemm_float<LoadF16>;
  t->gemm_bf16 = gemm_float<LoadBF16>;
  t->gemm_q8_0 = gemm_q8_0;
  t->quantize_q8_0 = quantize_q8_0;
  t->dot_f32 = dot_f32;
  t->axpy_f32 = axpy_f32;
}

}  // namespace stencil::runtime::cpu
