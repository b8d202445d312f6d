// The public CUDA entry points of include/stencil/cuda.h, in a build with STENCIL_CUDA: argument
// checks, then the kernel of bitmask.cu. (cuda_unavailable.cc is the same surface without CUDA.)
#include <cuda_runtime_api.h>

#include <string>

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"
#include "stencil/cuda.h"
#include "stencil/errors.h"

namespace stencil {

bool cuda_available() noexcept { return runtime::cuda::device_count() > 0; }

std::string cuda_unavailable_reason() {
  std::string why;
  if (runtime::cuda::device_count(&why) > 0) return {};
  return "no CUDA device (" + why + ")";
}

void apply_token_bitmask_cuda(const DeviceBitmaskArgs& a) {
  const std::string at = "apply_token_bitmask_cuda";
  if (a.n_rows < 0 || a.width < 0 || a.mask_vocab_size < 0 || a.n_indices < 0) {
    throw ArgumentError("n_rows, width, mask_vocab_size and n_indices must not be negative", at);
  }
  const int64_t stride = a.row_stride == 0 ? a.width : a.row_stride;
  if (stride < a.width) {
    throw ArgumentError("row_stride " + std::to_string(a.row_stride) + " is smaller than width " + std::to_string(a.width), at);
  }
  const int n_sel = a.indices ? a.n_indices : a.n_rows;
  if (n_sel == 0 || a.width == 0) return;  // nothing to mask: no device needed either
  if (!a.logits) throw ArgumentError("logits is null", at);
  if (!a.mask) throw ArgumentError("mask is null", at);
  if (a.n_indices > 0 && !a.indices) throw ArgumentError("n_indices > 0 but indices is null", at);
  int dtype = 0;
  switch (a.dtype) {
    case LogitsDtype::kFloat32: dtype = 0; break;
    case LogitsDtype::kFloat16: dtype = 1; break;
    case LogitsDtype::kBFloat16: dtype = 2; break;
    default: throw ArgumentError("unknown LogitsDtype " + std::to_string(static_cast<int>(a.dtype)), at);
  }
  runtime::cuda::require_device();
  runtime::cuda::apply_token_bitmask(a.logits, dtype, a.n_rows, a.width, stride, a.mask, a.mask_vocab_size, a.indices,
                                     a.n_indices, static_cast<runtime::cuda::Stream>(a.stream));
}

}  // namespace stencil
