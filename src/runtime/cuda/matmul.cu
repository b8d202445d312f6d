// y = W . x for every token row: the runtime's matrix products (CPU twin: KernelTable::gemm_* as
// CpuSession::matmul calls them).
//
// One warp per weight row and a group of up to kTok tokens: the warp walks the row once, lane j
// taking elements j, j+32, ..., and multiplies each weight with the kTok activation rows, so a weight
// row is read once per kTok tokens (decode: n_tok = 1, one read). A block holds kWarps rows; the grid
// is (rows / kWarps, n_tok / kTok). Partial sums end in a warp shuffle reduction.
//
// Q8_0 weights (quants and scales split at upload, see ops.h) are read as 4-byte words of quants and
// multiplied with the Q8_0-quantised activations by __dp4a: 8 lanes hold one 32-value block, their
// int32 partial sums are added exactly by shuffles, and one lane adds isum * (d_w * d_x), the CPU
// kernel's per-block formula. Nothing is dequantised to a matrix.
//
// Not done (debt): tensor cores / cuBLAS for long prompts, vectorised loads for the float types.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "runtime/cuda/common.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"
#include "stencil/errors.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kWarps = 4;  // weight rows per thread block
constexpr int kTok = 8;    // token rows per thread block

template <WeightType kType>
__device__ __forceinline__ float load_weight(const void* row, int64_t k) {
  if constexpr (kType == WeightType::kF32) {
    return static_cast<const float*>(row)[k];
  } else if constexpr (kType == WeightType::kF16) {
    return __half2float(__ushort_as_half(static_cast<const unsigned short*>(row)[k]));
  } else {
    return __uint_as_float(static_cast<uint32_t>(static_cast<const unsigned short*>(row)[k]) << 16);
  }
}

template <WeightType kType>
__global__ void matmul_float_kernel(const void* w, int64_t rows, int64_t cols, const float* x, int n_tok, float* y,
                                    int64_t y_stride) {
  const int lane = threadIdx.x & 31;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5);
  if (r >= rows) return;  // per warp: the remaining warps are whole for the shuffles below
  const int t0 = blockIdx.y * kTok;
  const int nt = min(kTok, n_tok - t0);
  const size_t elem = kType == WeightType::kF32 ? 4 : 2;
  const void* wr = static_cast<const char*>(w) + static_cast<size_t>(r) * cols * elem;
  const float* xt = x + static_cast<int64_t>(t0) * cols;
  float acc[kTok];
#pragma unroll
  for (int t = 0; t < kTok; ++t) acc[t] = 0.0f;
  for (int64_t k = lane; k < cols; k += 32) {
    const float wv = load_weight<kType>(wr, k);
#pragma unroll
    for (int t = 0; t < kTok; ++t) {
      if (t < nt) acc[t] += wv * xt[static_cast<int64_t>(t) * cols + k];
    }
  }
#pragma unroll
  for (int t = 0; t < kTok; ++t) {
    const float s = warp_sum(acc[t]);
    if (lane == 0 && t < nt) y[static_cast<int64_t>(t0 + t) * y_stride + r] = s;
  }
}

__global__ void matmul_q8_0_kernel(const int8_t* wq, const unsigned short* wd, int64_t rows, int64_t cols,
                                   const int8_t* xq, const float* xd, int n_tok, float* y, int64_t y_stride) {
  const int lane = threadIdx.x & 31;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5);
  if (r >= rows) return;
  const int t0 = blockIdx.y * kTok;
  const int nt = min(kTok, n_tok - t0);
  const int64_t n4 = cols / 4;   // 4-byte words of quants per row (cols % 32 == 0: rows stay aligned)
  const int64_t nb = cols / 32;  // blocks per row
  const int* w4 = reinterpret_cast<const int*>(wq + r * cols);
  float acc[kTok];
#pragma unroll
  for (int t = 0; t < kTok; ++t) acc[t] = 0.0f;
  // The loop runs the same number of times on every lane (base is warp-uniform), so the shuffles
  // always have the full warp; lanes past the row's end contribute 0.
  for (int64_t base = 0; base < n4; base += 32) {
    const int64_t k4 = base + lane;
    const bool ok = k4 < n4;
    const int64_t b = k4 >> 3;  // lanes 8g .. 8g+7 share block b (base is a multiple of 32)
    const int wv = ok ? w4[k4] : 0;
    const float dw = ok ? __half2float(__ushort_as_half(wd[r * nb + b])) : 0.0f;
#pragma unroll
    for (int t = 0; t < kTok; ++t) {
      if (t < nt) {  // nt is the same for the whole block
        const int* x4 = reinterpret_cast<const int*>(xq + static_cast<int64_t>(t0 + t) * cols);
        int s = ok ? __dp4a(wv, x4[k4], 0) : 0;
        s += __shfl_xor_sync(kFullMask, s, 1);
        s += __shfl_xor_sync(kFullMask, s, 2);
        s += __shfl_xor_sync(kFullMask, s, 4);
        if (ok && (lane & 7) == 0) acc[t] += static_cast<float>(s) * (dw * xd[static_cast<int64_t>(t0 + t) * nb + b]);
      }
    }
  }
#pragma unroll
  for (int t = 0; t < kTok; ++t) {
    const float s = warp_sum(acc[t]);
    if (lane == 0 && t < nt) y[static_cast<int64_t>(t0 + t) * y_stride + r] = s;
  }
}

}  // namespace

void matmul(const DeviceMatrix& w, const float* x, Q8Activations q, int n_tok, float* y, int64_t y_stride,
            Stream stream) {
  if (n_tok <= 0 || w.rows <= 0) return;
  const dim3 grid(static_cast<unsigned>((w.rows + kWarps - 1) / kWarps), static_cast<unsigned>((n_tok + kTok - 1) / kTok));
  const dim3 block(32 * kWarps);
  switch (w.type) {
    case WeightType::kF32:
      matmul_float_kernel<WeightType::kF32><<<grid, block, 0, stream>>>(w.data, w.rows, w.cols, x, n_tok, y, y_stride);
      break;
    case WeightType::kF16:
      matmul_float_kernel<WeightType::kF16><<<grid, block, 0, stream>>>(w.data, w.rows, w.cols, x, n_tok, y, y_stride);
      break;
    case WeightType::kBF16:
      matmul_float_kernel<WeightType::kBF16><<<grid, block, 0, stream>>>(w.data, w.rows, w.cols, x, n_tok, y, y_stride);
      break;
    case WeightType::kQ8_0:
      if (w.cols % 32 != 0) throw Error("CUDA matmul: Q8_0 rows of " + std::to_string(w.cols) + " values (not a multiple of 32)");
      matmul_q8_0_kernel<<<grid, block, 0, stream>>>(static_cast<const int8_t*>(w.data),
                                                     reinterpret_cast<const unsigned short*>(w.scales), w.rows, w.cols,
                                                     q.qs, q.d, n_tok, y, y_stride);
      break;
  }
  check_launch("matmul");
}

}  // namespace stencil::runtime::cuda
