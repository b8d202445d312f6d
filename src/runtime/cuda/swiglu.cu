// SwiGLU's gate (CPU twin: the loop in CpuSession::forward_batch): gate = gate * sigmoid(gate) * up,
// element-wise, in float (expf, not the fast __expf).
#include <cuda_runtime.h>

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void swiglu_kernel(float* gate, const float* up, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float g = gate[i];
  gate[i] = g / (1.0f + expf(-g)) * up[i];
}

}  // namespace

void swiglu(float* gate, const float* up, int64_t n, Stream stream) {
  if (n <= 0) return;
  swiglu_kernel<<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads, 0, stream>>>(gate, up, n);
  check_launch("swiglu_kernel");
}

}  // namespace stencil::runtime::cuda
