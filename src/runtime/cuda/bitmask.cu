// apply_token_bitmask on device logits: one thread per logit id, looping over the selected rows.
// A thread reads its mask word (the 32 threads of a warp read the same word: one broadcast load) and
// writes -inf only where the bit is clear, so allowed logits are never read or written. Ids at or
// beyond mask_vocab_size (padding) are always masked, as in the CPU twin (engine/bitmask.cc).
// The logits are handled as raw bits (-inf is 0xFF800000 in float32, 0xFC00 in float16, 0xFF80 in
// bfloat16), so no half-precision header or arithmetic is involved.
#include <cuda_runtime.h>

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"

namespace stencil::runtime::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxGridY = 65535;

template <typename Bits, Bits kNegInf>
__global__ void apply_bitmask_kernel(Bits* logits, int n_rows, int64_t width, int64_t row_stride, const uint32_t* mask,
                                     int32_t mask_vocab_size, int64_t mask_words, const int32_t* indices, int n_sel) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;  // the logit id
  if (i >= width) return;
  for (int s = blockIdx.y; s < n_sel; s += gridDim.y) {
    const int row = indices ? indices[s] : s;
    if (row < 0 || row >= n_rows) continue;
    const bool allowed = i < mask_vocab_size && ((mask[row * mask_words + (i >> 5)] >> (i & 31)) & 1u);
    if (!allowed) logits[row * row_stride + i] = kNegInf;
  }
}

}  // namespace

void apply_token_bitmask(void* logits, int dtype, int n_rows, int64_t width, int64_t row_stride, const uint32_t* mask,
                         int32_t mask_vocab_size, const int32_t* indices, int n_indices, Stream stream) {
  const int n_sel = indices ? n_indices : n_rows;
  if (n_sel <= 0 || width <= 0) return;
  const int64_t mask_words = (static_cast<int64_t>(mask_vocab_size) + 31) / 32;
  const dim3 grid(static_cast<unsigned>((width + kThreads - 1) / kThreads), static_cast<unsigned>(n_sel < kMaxGridY ? n_sel : kMaxGridY));
  if (dtype == 0) {
    apply_bitmask_kernel<uint32_t, 0xFF800000u><<<grid, kThreads, 0, stream>>>(
        static_cast<uint32_t*>(logits), n_rows, width, row_stride, mask, mask_vocab_size, mask_words, indices, n_sel);
  } else if (dtype == 1) {
    apply_bitmask_kernel<uint16_t, 0xFC00u><<<grid, kThreads, 0, stream>>>(
        static_cast<uint16_t*>(logits), n_rows, width, row_stride, mask, mask_vocab_size, mask_words, indices, n_sel);
  } else {
    apply_bitmask_kernel<uint16_t, 0xFF80u><<<grid, kThreads, 0, stream>>>(
        static_cast<uint16_t*>(logits), n_rows, width, row_stride, mask, mask_vocab_size, mask_words, indices, n_sel);
  }
  check_launch("apply_bitmask_kernel");
}

}  // namespace stencil::runtime::cuda
