// RoPE in place (CPU twin: CpuSession::rope): one thread per (token, head, pair). The angle is
// position * inv_freq[i] in double and its cos / sin are computed in double, then rounded to float,
// as on the CPU; inv_freq already holds llama3 factors and linear scaling (CudaBackend builds it
// exactly as CpuBackend does). Dimensions n_rot .. head_dim - 1 are left alone.
#include <cuda_runtime.h>

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void rope_kernel(float* x, int64_t total, int n_heads, int head_dim, int half, bool neox, int32_t pos,
                            const double* inv_freq) {
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= total) return;
  const int i = static_cast<int>(idx % half);
  const int64_t th = idx / half;  // token * n_heads + head
  const int64_t t = th / n_heads;
  const double theta = static_cast<double>(pos + t) * inv_freq[i];
  double s, c;
  sincos(theta, &s, &c);
  const float cs = static_cast<float>(c), sn = static_cast<float>(s);
  float* v = x + th * head_dim;
  const int i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
  const float a = v[i0], b = v[i1];
  v[i0] = a * cs - b * sn;
  v[i1] = a * sn + b * cs;
}

}  // namespace

void rope(float* x, int n_tok, int n_heads, int head_dim, int n_rot, bool neox, int32_t pos, const double* inv_freq,
          Stream stream) {
  const int half = n_rot / 2;
  const int64_t total = static_cast<int64_t>(n_tok) * n_heads * half;
  if (total <= 0) return;
  rope_kernel<<<static_cast<unsigned>((total + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      x, total, n_heads, head_dim, half, neox, pos, inv_freq);
  check_launch("rope_kernel");
}

}  // namespace stencil::runtime::cuda
