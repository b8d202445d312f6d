// Activations -> Q8_0 for the Q8_0 matmul, bit-identical to the CPU's quantize_row_q8_0_ref
// (tensor_types.cc): per block of 32, d = amax / 127 rounded to f16, q = round-half-even(x * (127 / amax)),
// all in IEEE float (nvcc's default -prec-div=true keeps both divisions exact).
// One warp per block of 32 values: lane j holds value j, the block's amax is a warp max.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "runtime/cuda/common.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kThreads = 256;  // 8 warps = 8 blocks of 32 values per thread block

__global__ void quantize_q8_0_kernel(const float* x, int64_t n_blocks_total, int64_t nb, int64_t n, int8_t* qs,
                                     float* d) {
  const int64_t blk = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;  // one per warp
  const int lane = threadIdx.x & 31;
  if (blk >= n_blocks_total) return;  // the whole warp leaves together
  const int64_t t = blk / nb, b = blk % nb;
  const int64_t at = t * n + b * 32 + lane;
  const float v = x[at];
  const float amax = warp_max(fabsf(v));
  const float dv = amax / 127.0f;
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  qs[at] = static_cast<int8_t>(rintf(v * id));
  if (lane == 0) d[t * nb + b] = __half2float(__float2half_rn(dv));
}

}  // namespace

void quantize_q8_0(const float* x, int n_tok, int64_t n, Q8Activations q, Stream stream) {
  if (n_tok <= 0 || n <= 0) return;
  const int64_t nb = n / 32;
  const int64_t total = nb * n_tok;
  const int64_t per_block = kThreads / 32;
  const unsigned grid = static_cast<unsigned>((total + per_block - 1) / per_block);
  quantize_q8_0_kernel<<<grid, kThreads, 0, stream>>>(x, total, nb, n, q.qs, q.d);
  check_launch("quantize_q8_0_kernel");
}

}  // namespace stencil::runtime::cuda
