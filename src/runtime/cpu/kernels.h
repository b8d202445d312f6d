// CPU compute kernels behind one table of function pointers, filled once per process for the best
// instruction set the CPU has (AVX-512 with VNNI, AVX2+FMA+F16C, or portable scalar C++).
//
// The central kernel is a small GEMM over a block of weight rows: for every token t in
// [0, n_tok) and row r in [0, n_rows), y[t * y_stride + r] = dot(W row r, X row t). Weight rows are
// stored in the file's type; activations are float, except for Q8_0 weights, whose activations are
// first quantised to Q8_0 blocks (as llama.cpp does) so the dot product runs on int8.
// Threading is not done here (the caller splits rows across threads).
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/tensor_types.h"

namespace stencil::runtime::cpu {

enum class Isa { kScalar, kAvx2, kAvx512 };

// Decode streams every weight once per token and is bound by memory latency: the gemm kernels
// prefetch the rows this far ahead of the 4-row group they compute (contiguous, so this is also a
// byte distance: 16 rows of SmolLM2-135M's 576-wide Q8_0 matrices are 10 KB). Measured on the
// development machine (bench/forward_benchmark, SmolLM2-135M shapes, Q8_0, 1 thread, tg128,
// median of 4 interleaved runs): 4 rows ahead 108 tok/s, 16 rows ahead 144 tok/s.
inline constexpr int kPrefetchAheadRows = 16;

// w: n_rows rows of w_row_bytes each; x: n_tok rows of x_row_bytes each; n: elements per row.
using GemmFn = void (*)(const void* w, size_t w_row_bytes, const void* x, size_t x_row_bytes, float* y,
                        size_t y_stride, int n_rows, int n_tok, int n);

struct KernelTable {
  Isa isa = Isa::kScalar;
  const char* name = "scalar";
  GemmFn gemm_f32 = nullptr;   // W F32, X F32
  GemmFn gemm_f16 = nullptr;   // W F16, X F32
  GemmFn gemm_bf16 = nullptr;  // W BF16, X F32
  GemmFn gemm_q8_0 = nullptr;  // W Q8_0, X Q8_0
  // x (n floats, n % 32 == 0) -> n/32 Q8_0 blocks, bit-identical to quantize_row_q8_0_ref.
  void (*quantize_q8_0)(const float* x, BlockQ8_0* y, int64_t n) = nullptr;
  float (*dot_f32)(const float* a, const float* b, int n) = nullptr;
  // y[i] += a * x[i]
  void (*axpy_f32)(float a, const float* x, float* y, int n) = nullptr;
};

// The table for the best ISA this CPU supports (checked once), or for `isa` if asked and supported
// (tests compare levels). Returns nullptr if `isa` is not supported here.
const KernelTable& best_kernels();
const KernelTable* kernels_for(Isa isa);

// Per-ISA fillers, each in its own translation unit compiled with that ISA's flags.
void fill_kernels_scalar(KernelTable* t);
void fill_kernels_avx2(KernelTable* t);
void fill_kernels_avx512(KernelTable* t);

}  // namespace stencil::runtime::cpu
