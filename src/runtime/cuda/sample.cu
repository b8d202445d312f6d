// Sampling on the device (CPU twin: runtime::sample_ranked, sample_ranked.h, which defines the result):
// the next token from one row of logits in device memory, the grammar's mask applied first, with
// greedy, temperature, top-k and top-p; only the token id (4 bytes) has to come back to the host.
//
// Greedy: one pass; each thread keeps the best (value, id) of its ids packed into 64 bits (an
// order-preserving map of the float above, 0xFFFFFFFF - id below, so ties go to the lowest id), warps
// reduce by shuffles and one atomicMax per warp combines them.
// Otherwise: (1) z = logit / T, excluded ids set to -inf and counted out; (2) a stable descending
// radix sort of (z, id) pairs (CUB): ranks by z desc, id asc; (3) weights exp(z - z_max) in double for
// the first min(valid, top_k) ranks, 0 after; (4) an inclusive scan of the weights (CUB, double);
// (5) one thread finds the top-p cut and the drawn rank by binary search over the running sums.
// Steps 1-5 are all enqueued on `stream`; nothing synchronises.
//
// Not done (debt): a radix select instead of the full sort when top_k is small, and a fused
// single-pass kernel for short vocabularies; min-p and the repetition penalty (the host's Sampler has them).
#include <cub/cub.cuh>
#include <cuda_runtime.h>

#include <string>

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"
#include "stencil/errors.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kThreads = 256;
constexpr unsigned kFull = 0xFFFFFFFFu;

__device__ __forceinline__ bool allowed(const float* logits, const uint32_t* mask, int32_t mask_vocab, int32_t i,
                                        float* v) {
  *v = logits[i];
  if (isnan(*v) || *v == -INFINITY) return false;
  return !mask || (i < mask_vocab && ((mask[i >> 5] >> (i & 31)) & 1u));
}

// Float -> uint32 with the same order (-0 and +0 are made equal first).
__device__ __forceinline__ uint32_t ordered(float f) {
  const uint32_t b = __float_as_uint(f + 0.0f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__global__ void argmax_kernel(const float* logits, int32_t n, const uint32_t* mask, int32_t mask_vocab,
                              unsigned long long* best) {
  unsigned long long mine = 0;  // 0: none (every allowed value packs above it)
  for (int32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    float v;
    if (!allowed(logits, mask, mask_vocab, i, &v)) continue;
    const unsigned long long packed =
        (static_cast<unsigned long long>(ordered(v)) << 32) | (0xFFFFFFFFu - static_cast<uint32_t>(i));
    mine = packed > mine ? packed : mine;
  }
  for (int o = 16; o > 0; o >>= 1) {
    const unsigned long long other = __shfl_xor_sync(kFull, mine, o);
    mine = other > mine ? other : mine;
  }
  if ((threadIdx.x & 31) == 0 && mine != 0) atomicMax(best, mine);
}

__global__ void argmax_finish_kernel(const unsigned long long* best, int32_t* token) {
  *token = *best == 0 ? -1 : static_cast<int32_t>(0xFFFFFFFFu - static_cast<uint32_t>(*best & 0xFFFFFFFFull));
}

__global__ void prepare_kernel(const float* logits, int32_t n, const uint32_t* mask, int32_t mask_vocab, float inv_t,
                               float* keys, int32_t* ids, int32_t* n_valid) {
  const int32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  const bool in = i < n;
  float v = 0;
  const bool ok = in && allowed(logits, mask, mask_vocab, i, &v);
  if (in) {
    keys[i] = ok ? v * inv_t + 0.0f : -INFINITY;  // + 0.0f: -0 sorts as +0 (the CPU twin's comparison)
    ids[i] = i;
  }
  const unsigned votes = __ballot_sync(kFull, ok);
  if ((threadIdx.x & 31) == 0 && votes) atomicAdd(n_valid, __popc(votes));
}

__global__ void weights_kernel(const float* keys_sorted, int32_t n, const int32_t* n_valid, int32_t top_k,
                               double* w) {
  const int32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  int32_t keep = *n_valid;
  if (top_k > 0 && top_k < keep) keep = top_k;
  w[i] = i < keep ? exp(static_cast<double>(keys_sorted[i] - keys_sorted[0])) : 0.0;
}

// First index in cum[0, len) whose value is >= x (strict: > x), len if none.
__device__ int32_t bound(const double* cum, int32_t len, double x, bool strict) {
  int32_t lo = 0, hi = len;
  while (lo < hi) {
    const int32_t mid = lo + (hi - lo) / 2;
    if (strict ? cum[mid] > x : cum[mid] >= x) hi = mid; else lo = mid + 1;
  }
  return lo;
}

__global__ void draw_kernel(const float* keys_sorted, const int32_t* ids_sorted, const double* cum,
                            const int32_t* n_valid, int32_t top_k, float top_p, double u, int32_t* token) {
  const int32_t nv = *n_valid;
  if (nv == 0) {
    *token = -1;
    return;
  }
  if (isinf(keys_sorted[0])) {  // +inf takes all the mass (or nothing but -inf is left): the first ranked
    *token = ids_sorted[0];
    return;
  }
  int32_t keep = top_k > 0 && top_k < nv ? top_k : nv;
  if (top_p < 1.0f) {
    const double want = static_cast<double>(fmaxf(top_p, 0.0f)) * cum[keep - 1];
    keep = min(keep, bound(cum, keep, want, false) + 1);
  }
  const int32_t at = bound(cum, keep, u * cum[keep - 1], true);
  *token = ids_sorted[at < keep ? at : keep - 1];
}

// The scratch layout, 256-byte aligned pieces.
struct Layout {
  size_t keys, keys_sorted, ids, ids_sorted, w, cum, n_valid, best, temp, temp_bytes, total;
};

size_t align(size_t x) { return (x + 255) & ~size_t{255}; }

Layout layout(int32_t n) {
  size_t sort_bytes = 0, scan_bytes = 0;
  check(cub::DeviceRadixSort::SortPairsDescending(nullptr, sort_bytes, static_cast<const float*>(nullptr),
                                                  static_cast<float*>(nullptr), static_cast<const int32_t*>(nullptr),
                                                  static_cast<int32_t*>(nullptr), n),
        "cub::DeviceRadixSort::SortPairsDescending (size query)");
  check(cub::DeviceScan::InclusiveSum(nullptr, scan_bytes, static_cast<const double*>(nullptr),
                                      static_cast<double*>(nullptr), n),
        "cub::DeviceScan::InclusiveSum (size query)");
  Layout l{};
  const size_t nf = align(sizeof(float) * n), ni = align(sizeof(int32_t) * n), nd = align(sizeof(double) * n);
  size_t at = 0;
  l.keys = at, at += nf;
  l.keys_sorted = at, at += nf;
  l.ids = at, at += ni;
  l.ids_sorted = at, at += ni;
  l.w = at, at += nd;
  l.cum = at, at += nd;
  l.n_valid = at, at += 256;
  l.best = at, at += 256;
  l.temp = at;
  l.temp_bytes = align(sort_bytes > scan_bytes ? sort_bytes : scan_bytes);
  l.total = at + l.temp_bytes;
  return l;
}

}  // namespace

size_t sample_scratch_bytes(int32_t n_vocab) { return n_vocab > 0 ? layout(n_vocab).total : 0; }

void sample(const float* logits, int32_t n_vocab, const uint32_t* mask, int32_t mask_vocab, const SampleParams& p,
            double u, void* scratch, size_t scratch_bytes, int32_t* token, Stream stream) {
  if (n_vocab <= 0) {
    check(cudaMemsetAsync(token, 0xFF, sizeof(int32_t), stream), "cudaMemsetAsync (sampled token)");  // -1
    return;
  }
  const Layout l = layout(n_vocab);
  if (scratch_bytes < l.total) {
    throw Error("CUDA sample: scratch of " + std::to_string(scratch_bytes) + " bytes, " + std::to_string(l.total) +
                " needed (sample_scratch_bytes)");
  }
  char* s = static_cast<char*>(scratch);
  const unsigned blocks = static_cast<unsigned>((n_vocab + kThreads - 1) / kThreads);
  if (!(p.temperature > 0.0f)) {
    auto* best = reinterpret_cast<unsigned long long*>(s + l.best);
    check(cudaMemsetAsync(best, 0, sizeof(unsigned long long), stream), "cudaMemsetAsync (argmax)");
    argmax_kernel<<<blocks < 1024 ? blocks : 1024, kThreads, 0, stream>>>(logits, n_vocab, mask, mask_vocab, best);
    check_launch("argmax_kernel");
    argmax_finish_kernel<<<1, 1, 0, stream>>>(best, token);
    check_launch("argmax_finish_kernel");
    return;
  }
  auto* keys = reinterpret_cast<float*>(s + l.keys);
  auto* keys_sorted = reinterpret_cast<float*>(s + l.keys_sorted);
  auto* ids = reinterpret_cast<int32_t*>(s + l.ids);
  auto* ids_sorted = reinterpret_cast<int32_t*>(s + l.ids_sorted);
  auto* w = reinterpret_cast<double*>(s + l.w);
  auto* cum = reinterpret_cast<double*>(s + l.cum);
  auto* n_valid = reinterpret_cast<int32_t*>(s + l.n_valid);
  void* temp = s + l.temp;
  size_t temp_bytes = l.temp_bytes;
  check(cudaMemsetAsync(n_valid, 0, sizeof(int32_t), stream), "cudaMemsetAsync (candidate count)");
  prepare_kernel<<<blocks, kThreads, 0, stream>>>(logits, n_vocab, mask, mask_vocab, 1.0f / p.temperature, keys, ids,
                                                  n_valid);
  check_launch("prepare_kernel");
  check(cub::DeviceRadixSort::SortPairsDescending(temp, temp_bytes, keys, keys_sorted, ids, ids_sorted, n_vocab, 0,
                                                  static_cast<int>(sizeof(float) * 8), stream),
        "cub::DeviceRadixSort::SortPairsDescending");
  weights_kernel<<<blocks, kThreads, 0, stream>>>(keys_sorted, n_vocab, n_valid, p.top_k, w);
  check_launch("weights_kernel");
  temp_bytes = l.temp_bytes;
  check(cub::DeviceScan::InclusiveSum(temp, temp_bytes, w, cum, n_vocab, stream), "cub::DeviceScan::InclusiveSum");
  draw_kernel<<<1, 1, 0, stream>>>(keys_sorted, ids_sorted, cum, n_valid, p.top_k, p.top_p, u, token);
  check_launch("draw_kernel");
}

}  // namespace stencil::runtime::cuda
