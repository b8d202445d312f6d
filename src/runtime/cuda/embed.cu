// Token embedding lookup (CPU twin: dequantize_row of token_embd rows in CpuSession::forward_batch):
// one thread block per token, threads over the row. Q8_0 rows are value = q * d of their block (the
// split layout of ops.h); float types are converted exactly.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void embed_kernel(WeightType type, const void* data, const unsigned short* scales, int64_t cols,
                             const int32_t* tokens, float* out) {
  const int64_t row = tokens[blockIdx.x];
  float* o = out + static_cast<int64_t>(blockIdx.x) * cols;
  for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
    const int64_t at = row * cols + i;
    float v;
    switch (type) {
      case WeightType::kF32: v = static_cast<const float*>(data)[at]; break;
      case WeightType::kF16: v = __half2float(__ushort_as_half(static_cast<const unsigned short*>(data)[at])); break;
      case WeightType::kBF16:
        v = __uint_as_float(static_cast<uint32_t>(static_cast<const unsigned short*>(data)[at]) << 16);
        break;
      default:  // kQ8_0
        v = static_cast<float>(static_cast<const int8_t*>(data)[at]) *
            __half2float(__ushort_as_half(scales[row * (cols / 32) + i / 32]));
    }
    o[i] = v;
  }
}

}  // namespace

void embed(const DeviceMatrix& table, const int32_t* tokens, int n_tok, float* out, Stream stream) {
  if (n_tok <= 0) return;
  embed_kernel<<<n_tok, kThreads, 0, stream>>>(table.type, table.data, reinterpret_cast<const unsigned short*>(table.scales),
                                               table.cols, tokens, out);
  check_launch("embed_kernel");
}

}  // namespace stencil::runtime::cuda
