// Scalar reference code for GGML tensor types: sizes, names, half/bfloat conversion, and row
// dequantisation (the layouts are ggml's, re-implemented from the format description).
#include "runtime/tensor_types.h"

#include <cmath>

namespace stencil::runtime {

bool is_supported_type(uint32_t t) noexcept {
  switch (static_cast<TensorType>(t)) {
    case TensorType::kF32:
    case TensorType::kF16:
    case TensorType::kBF16:
    case TensorType::kQ8_0:
    case TensorType::kQ4_0:
    case TensorType::kQ4_K:
    case TensorType::kQ6_K:
      return true;
  }
  return false;
}

std::string type_name(uint32_t t) {
  switch (static_cast<TensorType>(t)) {
    case TensorType::kF32: return "F32";
    case TensorType::kF16: return "F16";
    case TensorType::kBF16: return "BF16";
    case TensorType::kQ8_0: return "Q8_0";
    case TensorType::kQ4_0: return "Q4_0";
    case TensorType::kQ4_K: return "Q4_K";
    case TensorType::kQ6_K: return "Q6_K";
  }
  return "type " + std::to_string(t);
}

int64_t type_block_elems(TensorType t) noexcept {
  switch (t) {
    case TensorType::kQ8_0:
    case TensorType::kQ4_0: return 32;
    case TensorType::kQ4_K:
    case TensorType::kQ6_K: return kQK_K;
    default: return 1;
  }
}

int64_t type_block_bytes(TensorType t) noexcept {
  switch (t) {
    case TensorType::kF32: return 4;
    case TensorType::kF16:
    case TensorType::kBF16: return 2;
    case TensorType::kQ8_0: return sizeof(BlockQ8_0);
    case TensorType::kQ4_0: return sizeof(BlockQ4_0);
    case TensorType::kQ4_K: return sizeof(BlockQ4_K);
    case TensorType::kQ6_K: return sizeof(BlockQ6_K);
  }
  return 0;
}

int64_t row_bytes(TensorType t, int64_t n) noexcept {
  const int64_t be = type_block_elems(t);
  if (n < 0 || n % be != 0) return -1;
  return n / be * type_block_bytes(t);
}

float fp16_to_f32(uint16_t h) noexcept {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in float.
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));
  return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t f32_to_fp16(float f) noexcept {
  const uint32_t x = bits_from_f32(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return sign | (ax > 0x7f800000u ? 0x7e00 : 0x7c00);  // nan / inf
  if (ax >= 0x477ff000u) return sign | 0x7c00;                                 // rounds to >= 65536: inf
  if (ax < 0x38800000u) {
    // Result is subnormal (or zero): round(|f| * 2^24) with ties to even, done exactly in float
    // arithmetic by nearbyint in the default rounding mode.
    const float v = f32_from_bits(ax) * 16777216.0f;
    return sign | static_cast<uint16_t>(std::nearbyint(v));
  }
  // Normal: drop 13 mantissa bits with round-half-even.
  const uint32_t rounded = ax + 0xfffu + ((ax >> 13) & 1u);
  return sign | static_cast<uint16_t>((rounded - 0x38000000u) >> 13);
}

static inline void q4k_scale_min(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void dequantize_row(TensorType t, const void* src, float* y, int64_t n) noexcept {
  switch (t) {
    case TensorType::kF32:
      std::memcpy(y, src, n * 4);
      return;
    case TensorType::kF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(s[i]);
      return;
    }
    case TensorType::kBF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(s[i]);
      return;
    }
    case TensorType::kQ8_0: {
      const auto* b = static_cast<const BlockQ8_0*>(src);
      for (int64_t i = 0; i < n / kQ8Block; ++i) {
        const float d = fp16_to_f32(b[i].d);
        for (int j = 0; j < kQ8Block; ++j) y[i * kQ8Block + j] = d * b[i].qs[j];
      }
      return;
    }
    case TensorType::kQ4_0: {
      const auto* b = static_cast<const BlockQ4_0*>(src);
      for (int64_t i = 0; i < n / 32; ++i) {
        const float d = fp16_to_f32(b[i].d);
        for (int j = 0; j < 16; ++j) {
          y[i * 32 + j] = d * ((b[i].qs[j] & 0xF) - 8);
          y[i * 32 + j + 16] = d * ((b[i].qs[j] >> 4) - 8);
        }
      }
      return;
    }
    case TensorType::kQ4_K: {
      const auto* b = static_cast<const BlockQ4_K*>(src);
      for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = fp16_to_f32(b[i].d);
        const float dmin = fp16_to_f32(b[i].dmin);
        const uint8_t* q = b[i].qs;
        float* out = y + i * kQK_K;
        for (int j = 0, is = 0; j < kQK_K; j += 64, is += 2, q += 32) {
          uint8_t sc, m;
          q4k_scale_min(is, b[i].scales, &sc, &m);
          const float d1 = d * sc, m1 = dmin * m;
          q4k_scale_min(is + 1, b[i].scales, &sc, &m);
          const float d2 = d * sc, m2 = dmin * m;
          for (int l = 0; l < 32; ++l) *out++ = d1 * (q[l] & 0xF) - m1;
          for (int l = 0; l < 32; ++l) *out++ = d2 * (q[l] >> 4) - m2;
        }
      }
      return;
    }
    case TensorType::kQ6_K: {
      const auto* b = static_cast<const BlockQ6_K*>(src);
      for (int64_t i = 0; i < n / kQK_K; ++i) {
        const float d = fp16_to_f32(b[i].d);
        const uint8_t* ql = b[i].ql;
        const uint8_t* qh = b[i].qh;
        const int8_t* sc = b[i].scales;
        float* out = y + i * kQK_K;
        for (int k = 0; k < kQK_K; k += 128, out += 128, ql += 64, qh += 32, sc += 8) {
          for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            out[l] = d * sc[is] * q1;
            out[l + 32] = d * sc[is + 2] * q2;
            out[l + 64] = d * sc[is + 4] * q3;
            out[l + 96] = d * sc[is + 6] * q4;
          }
        }
      }
      return;
    }
  }
}

void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n) noexcept {
  for (int64_t i = 0; i < n / kQ8Block; ++i) {
    float amax = 0;
    for (int j = 0; j < kQ8Block; ++j) amax = std::fmax(amax, std::fabs(x[i * kQ8Block + j]));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQ8Block; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::nearbyint(x[i * kQ8Block + j] * id));
    }
  }
}

}  // namespace stencil::runtime
