// GGML tensor element types as stored in GGUF files (and the three float types of safetensors):
// their ids, block sizes, byte sizes, names, and scalar conversions / row dequantisation.
//
// The scalar code here is the portable reference; SIMD kernels live in cpu/. This file does not
// know about tensors' names or shapes (model_loader.h does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace stencil::runtime {

// Values are GGML's type ids (the GGUF tensor-info "type" field).
enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ6_K = 14,
  kBF16 = 30,
};

// True for the types this runtime computes with.
bool is_supported_type(uint32_t ggml_type) noexcept;
// "F32", "Q8_0" ...; "type 17" for others.
std::string type_name(uint32_t ggml_type);
// Elements per block (1 for float types, 32 for Q8_0/Q4_0, 256 for K-quants).
int64_t type_block_elems(TensorType t) noexcept;
// Bytes per block.
int64_t type_block_bytes(TensorType t) noexcept;
// Bytes of a row of n elements; -1 when n is not a multiple of the block size.
int64_t row_bytes(TensorType t, int64_t n) noexcept;

// Q8_0 block: 32 signed bytes scaled by one f16 (ggml's block_q8_0, 34 bytes).
constexpr int kQ8Block = 32;
struct BlockQ8_0 {
  uint16_t d;  // f16 scale
  int8_t qs[kQ8Block];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Q4_0 block: 32 4-bit values (stored as q-8), one f16 scale (18 bytes).
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];  // low nibbles: elements 0..15, high nibbles: 16..31
};
static_assert(sizeof(BlockQ4_0) == 18);

// K-quant super-blocks of 256 elements (ggml's block_q4_K / block_q6_K layout).
constexpr int kQK_K = 256;
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];  // 8 6-bit scales and 8 6-bit mins, packed
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

inline float f32_from_bits(uint32_t u) noexcept {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t bits_from_f32(float f) noexcept {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
// IEEE half -> float, exact (subnormals, inf, nan included).
float fp16_to_f32(uint16_t h) noexcept;
// float -> IEEE half, round to nearest even (as F16C's _cvtss_sh with rounding mode 0).
uint16_t f32_to_fp16(float f) noexcept;
inline float bf16_to_f32(uint16_t h) noexcept { return f32_from_bits(static_cast<uint32_t>(h) << 16); }

// Dequantises one row of n elements (n a multiple of the block size) to float.
void dequantize_row(TensorType t, const void* src, float* dst, int64_t n) noexcept;

// Quantises n floats (n % 32 == 0) to Q8_0 blocks with ggml's rule for activations:
// d = amax/127 (stored as f16), q = round-half-even(x * (127/amax)) computed in float.
void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n) noexcept;

}  // namespace stencil::runtime
