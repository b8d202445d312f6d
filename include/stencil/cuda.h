// stencil's CUDA entry points: whether the CUDA backend can run here, and apply_token_bitmask on
// logits that live in GPU memory. No CUDA header is needed to include this file: device memory is
// passed as plain pointers and the stream as an opaque pointer (a cudaStream_t, or null for the
// default stream).
//
// Every build has these functions. A build without CUDA (STENCIL_CUDA=OFF, the default when no nvcc
// was found) answers cuda_available() == false and throws stencil::Error("... built without CUDA")
// from apply_token_bitmask_cuda; a CUDA build on a machine without a GPU or driver throws
// stencil::Error("no CUDA device (...)").
//
//   stencil::DeviceBitmaskArgs a;
//   a.logits = d_logits;  a.dtype = stencil::LogitsDtype::kBFloat16;   // (batch, 128256) on the GPU
//   a.n_rows = batch;     a.width = 128256;
//   a.mask = d_mask;      a.mask_vocab_size = vocab.size();            // (batch, bitmask_words(...))
//   stencil::apply_token_bitmask_cuda(a);                               // async on a.stream
//
// Thread-safety: the functions are thread-safe; calls on one stream run in order.
#pragma once

#include <cstdint>
#include <string>

namespace stencil {

// True when this build has the CUDA backend and at least one CUDA device is usable. Never throws.
bool cuda_available() noexcept;
// Why cuda_available() is false: "built without CUDA (STENCIL_CUDA=OFF)" or "no CUDA device
// (cudaGetDeviceCount: ...)"; empty when it is true.
std::string cuda_unavailable_reason();

// Element type of a logits tensor.
enum class LogitsDtype { kFloat32, kFloat16, kBFloat16 };

// Arguments of apply_token_bitmask_cuda. Pointers are device pointers.
struct DeviceBitmaskArgs {
  // (n_rows, row_stride) elements of `dtype`; row r's logits are elements [r * row_stride, r * row_stride + width).
  void* logits = nullptr;
  LogitsDtype dtype = LogitsDtype::kFloat32;
  int32_t n_rows = 0;      // batch size: rows of logits and of the mask
  int32_t width = 0;       // logits per row (a padded vocabulary may be wider than mask_vocab_size)
  int64_t row_stride = 0;  // elements from one row to the next; 0 means width
  // (n_rows, bitmask_words(mask_vocab_size)) 32-bit words, bit (i % 32) of word (i / 32) = token i allowed.
  const uint32_t* mask = nullptr;
  int32_t mask_vocab_size = 0;
  // Optional: only the rows indices[0 .. n_indices) are masked, each with its own mask row (row
  // indices[k] of the logits with row indices[k] of the mask, as XGrammar's kernel does); the other
  // rows are left alone. nullptr: every row. Entries outside [0, n_rows) are skipped.
  const int32_t* indices = nullptr;  // (n_indices,) on the device
  int32_t n_indices = 0;
  void* stream = nullptr;  // cudaStream_t; nullptr: the default stream
};

// The device twin of apply_token_bitmask (bitmask.h), with the same result on every masked row:
// logits whose bit is clear become -infinity, logits at ids >= mask_vocab_size (padding) too, the
// others are unchanged. Enqueued on args.stream and asynchronous like a kernel launch: errors found
// when the work runs surface at the next synchronising CUDA call. Throws ArgumentError for null
// pointers or negative / inconsistent sizes, stencil::Error when CUDA is not available or the launch
// fails (the message names the CUDA call).
void apply_token_bitmask_cuda(const DeviceBitmaskArgs& args);

}  // namespace stencil
