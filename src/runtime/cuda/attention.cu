// Causal grouped-query attention over one layer's KV cache (CPU twin: CpuSession::attention).
//
// One thread block per (query head, token). The query row is staged in shared memory; the scores of
// all n_keys = pos + t + 1 visible keys are kept in shared memory too (thread j computes keys j,
// j + blockDim, ...), then softmax (block max; exp in float; sum in double as on the CPU), then each
// thread produces output dimensions i, i + blockDim, ... as sum_j p_j * v_j[i] (coalesced over i).
// Shared memory grows with the context: (head_dim + pos + n_tok) floats; above the default 48 KB the
// kernel's limit is raised once per size, up to the device's opt-in maximum (an error beyond it).
//
// Not done (debt): a flash-attention style tiled kernel for long contexts and big prefill batches.
#include <cuda_runtime.h>

#include <string>

#include "runtime/cuda/common.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"
#include "stencil/errors.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kThreads = 128;
constexpr size_t kDefaultSmem = 48 * 1024;

__global__ void attention_kernel(const float* q, const float* k_cache, const float* v_cache, float* out, int32_t pos,
                                 int n_head, int group, int head_dim, float scale) {
  extern __shared__ float smem[];
  __shared__ float red_f[32];
  __shared__ double red_d[32];
  float* qs = smem;              // (head_dim)
  float* sc = smem + head_dim;   // (n_keys)
  const int h = blockIdx.x, t = blockIdx.y, g = h / group;
  const int n_keys = pos + t + 1;
  const int64_t q_dim = static_cast<int64_t>(n_head) * head_dim;
  const int64_t kv_dim = static_cast<int64_t>(n_head / group) * head_dim;
  const float* qh = q + t * q_dim + static_cast<int64_t>(h) * head_dim;
  for (int i = threadIdx.x; i < head_dim; i += blockDim.x) qs[i] = qh[i];
  __syncthreads();

  float mx = -INFINITY;
  for (int j = threadIdx.x; j < n_keys; j += blockDim.x) {
    const float* kj = k_cache + j * kv_dim + static_cast<int64_t>(g) * head_dim;
    float s = 0.0f;
    for (int i = 0; i < head_dim; ++i) s += qs[i] * kj[i];
    s *= scale;
    sc[j] = s;
    mx = fmaxf(mx, s);
  }
  mx = block_max(mx, red_f);
  double sum = 0;
  for (int j = threadIdx.x; j < n_keys; j += blockDim.x) {
    const float e = expf(sc[j] - mx);
    sc[j] = e;
    sum += e;
  }
  sum = block_sum(sum, red_d);  // synchronises: every sc[j] is written before the loop below reads it
  const float inv = static_cast<float>(1.0 / sum);

  float* o = out + t * q_dim + static_cast<int64_t>(h) * head_dim;
  const float* vg = v_cache + static_cast<int64_t>(g) * head_dim;
  for (int i = threadIdx.x; i < head_dim; i += blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j < n_keys; ++j) acc += sc[j] * vg[j * kv_dim + i];
    o[i] = acc * inv;
  }
}

}  // namespace

void attention(const float* q, const float* k_cache, const float* v_cache, float* out, int n_tok, int32_t pos,
               int n_head, int n_head_kv, int head_dim, Stream stream) {
  if (n_tok <= 0) return;
  const size_t smem = sizeof(float) * (static_cast<size_t>(head_dim) + static_cast<size_t>(pos) + n_tok);
  if (smem > kDefaultSmem) {
    int device = 0, optin = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cudaDeviceGetAttribute(MaxSharedMemoryPerBlockOptin)");
    // The static shared arrays (32 floats + 32 doubles) count against the same limit.
    if (smem + 32 * (sizeof(float) + sizeof(double)) > static_cast<size_t>(optin)) {
      throw Error("CUDA attention: " + std::to_string(pos + n_tok) + " positions need " + std::to_string(smem) +
                  " bytes of shared memory per block; this device allows " + std::to_string(optin) +
                  " (use a shorter context)");
    }
    check(cudaFuncSetAttribute(attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
          "cudaFuncSetAttribute(attention_kernel, MaxDynamicSharedMemorySize)");
  }
  const float scale = 1.0f / sqrtf(static_cast<float>(head_dim));
  const dim3 grid(n_head, n_tok);
  attention_kernel<<<grid, kThreads, smem, stream>>>(q, k_cache, v_cache, out, pos, n_head, n_head / n_head_kv,
                                                     head_dim, scale);
  check_launch("attention_kernel");
}

}  // namespace stencil::runtime::cuda
