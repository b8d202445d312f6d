// Row-wise addition (CPU twins: the residual adds and the qkv bias loops of CpuSession::forward_batch):
// y[r, i] += x[r, i], with x_stride 0 broadcasting one row (a bias) to every row. One thread per element.
#include <cuda_runtime.h>

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void add_rows_kernel(float* y, int64_t y_stride, const float* x, int64_t x_stride, int64_t total,
                                int64_t width) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int64_t r = idx / width, i = idx % width;
  y[r * y_stride + i] += x[r * x_stride + i];
}

}  // namespace

void add_rows(float* y, int64_t y_stride, const float* x, int64_t x_stride, int n_rows, int64_t width, Stream stream) {
  const int64_t total = static_cast<int64_t>(n_rows) * width;
  if (total <= 0) return;
  add_rows_kernel<<<static_cast<unsigned>((total + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      y, y_stride, x, x_stride, total, width);
  check_launch("add_rows_kernel");
}

}  // namespace stencil::runtime::cuda
