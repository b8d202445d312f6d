// RMSNorm (CPU twin: CpuSession::rms_norm): one thread block per token row; the sum of squares is
// accumulated in double as on the CPU, the scale and the products in float.
#include <cuda_runtime.h>

#include "runtime/cuda/common.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void rms_norm_kernel(const float* x, const float* w, float* y, int d, float eps) {
  __shared__ double scratch[32];
  const float* xr = x + static_cast<int64_t>(blockIdx.x) * d;
  float* yr = y + static_cast<int64_t>(blockIdx.x) * d;
  double ss = 0;
  for (int i = threadIdx.x; i < d; i += blockDim.x) ss += static_cast<double>(xr[i]) * xr[i];
  ss = block_sum(ss, scratch);
  const float scale = 1.0f / sqrtf(static_cast<float>(ss / d) + eps);
  for (int i = threadIdx.x; i < d; i += blockDim.x) yr[i] = (xr[i] * scale) * w[i];
}

}  // namespace

void rms_norm(const float* x, const float* w, float* y, int n_tok, int d, float eps, Stream stream) {
  if (n_tok <= 0 || d <= 0) return;
  rms_norm_kernel<<<n_tok, kThreads, 0, stream>>>(x, w, y, d, eps);
  check_launch("rms_norm_kernel");
}

}  // namespace stencil::runtime::cuda
