// The CUDA ops of the runtime: one host entry point per op, one op per .cu file (named after it).
// Plain C++: device memory is passed as plain pointers, the stream as CUstream_st* (what cudaStream_t
// points to), so callers need no CUDA header. Every entry point enqueues its kernel(s) on `stream`,
// checks the launch (stencil::Error naming the kernel) and returns without synchronising.
//
// Each op has a CPU twin in cpu/cpu_backend.cc (or engine/bitmask.cc) that defines its result; the
// numerics follow it (double sums where the CPU sums in double, Q8_0 activations quantised with the
// same rule), so the two backends agree to float rounding (tests/runtime/cuda_backend_test.cc).
// Shapes are row-major; "(a, b)" below means a rows of b elements.
#pragma once

#include <cstddef>
#include <cstdint>

struct CUstream_st;

namespace stencil::runtime::cuda {

using Stream = CUstream_st*;

// A weight matrix as the kernels read it: (rows, cols), y = W . x computes one output per row.
enum class WeightType { kF32, kF16, kBF16, kQ8_0 };
struct DeviceMatrix {
  WeightType type = WeightType::kF32;
  // kF32/kF16/kBF16: (rows, cols) elements. kQ8_0: (rows, cols) int8 quants: ggml's Q8_0 blocks
  // split at upload into their quants (here) and their scales (below), so rows stay 4-byte aligned.
  const void* data = nullptr;
  const uint16_t* scales = nullptr;  // kQ8_0 only: (rows, cols / 32) f16 block scales
  int64_t rows = 0;
  int64_t cols = 0;
};

// Activations quantised to Q8_0 for a Q8_0 matmul (CPU twin: KernelTable::quantize_q8_0, bit for bit).
struct Q8Activations {
  int8_t* qs = nullptr;  // (n_tok, n)
  float* d = nullptr;    // (n_tok, n / 32): the f16-rounded scale of each block, as float
};

// quantize_q8_0.cu: x (n_tok, n) -> q, with n % 32 == 0.
void quantize_q8_0(const float* x, int n_tok, int64_t n, Q8Activations q, Stream stream);

// matmul.cu: y[t * y_stride + r] = dot(W row r, x row t) for t < n_tok, r < w.rows; x is (n_tok, w.cols)
// floats for float weights, q (quantize_q8_0 of x) for kQ8_0 weights.
void matmul(const DeviceMatrix& w, const float* x, Q8Activations q, int n_tok, float* y, int64_t y_stride,
            Stream stream);

// rms_norm.cu: y (n_tok, d) = x / sqrt(mean(x^2) + eps) * w, the sum of squares in double.
void rms_norm(const float* x, const float* w, float* y, int n_tok, int d, float eps, Stream stream);

// rope.cu: rotates x (n_tok, n_heads, head_dim) in place at positions pos .. pos + n_tok - 1 by
// theta_i = position * inv_freq[i] (inv_freq: (n_rot / 2) doubles on the device, scaling folded in).
// neox pairs (i, i + n_rot/2), otherwise (2i, 2i+1) (RopeStyle).
void rope(float* x, int n_tok, int n_heads, int head_dim, int n_rot, bool neox, int32_t pos, const double* inv_freq,
          Stream stream);

// attention.cu: causal grouped-query attention of q (n_tok, n_head * head_dim) at positions pos ..
// pos + n_tok - 1 over the cache rows 0 .. pos + t of k_cache / v_cache ((n_ctx, n_head_kv * head_dim)
// of one layer) -> out (n_tok, n_head * head_dim). Query head h reads kv head h / (n_head / n_head_kv).
// Scores are kept in shared memory: throws stencil::Error when pos + n_tok keys do not fit the device.
void attention(const float* q, const float* k_cache, const float* v_cache, float* out, int n_tok, int32_t pos,
               int n_head, int n_head_kv, int head_dim, Stream stream);

// swiglu.cu: gate[i] = silu(gate[i]) * up[i] for i < n.
void swiglu(float* gate, const float* up, int64_t n, Stream stream);

// add_rows.cu: y[r * y_stride + i] += x[r * x_stride + i] for r < n_rows, i < width. x_stride 0 adds one
// row (a bias) to every row; x_stride == width adds a matrix (the residual).
void add_rows(float* y, int64_t y_stride, const float* x, int64_t x_stride, int n_rows, int64_t width, Stream stream);

// embed.cu: out (n_tok, table.cols) = rows tokens[t] of table, as float (tokens: (n_tok) on the device,
// already validated).
void embed(const DeviceMatrix& table, const int32_t* tokens, int n_tok, float* out, Stream stream);

// bitmask.cu: the kernel behind stencil::apply_token_bitmask_cuda (arguments already validated).
// dtype: 0 float32, 1 float16, 2 bfloat16. Rows are all n_rows rows, or indices[0 .. n_indices).
void apply_token_bitmask(void* logits, int dtype, int n_rows, int64_t width, int64_t row_stride, const uint32_t* mask,
                         int32_t mask_vocab_size, const int32_t* indices, int n_indices, Stream stream);

// sample.cu: the next token of one row of logits (n_vocab floats on the device) -> *token (device or
// mapped host memory), -1 when every id is excluded. The result is runtime::sample_ranked's
// (sample_ranked.h) for the same arguments: NaN / -inf logits and, when mask is given ((mask_vocab + 31)
// / 32 words on the device), ids whose bit is clear or >= mask_vocab are excluded first; then greedy
// (temperature <= 0) or temperature -> top-k -> softmax -> top-p -> the draw at u in [0, 1) in rank
// order. `scratch`: at least sample_scratch_bytes(n_vocab) bytes of device memory, not shared between
// concurrent calls. Enqueued on `stream` without synchronising.
struct SampleParams {
  float temperature = 1.0f;  // <= 0: greedy
  int32_t top_k = 0;         // <= 0: off
  float top_p = 1.0f;        // >= 1: off
};
size_t sample_scratch_bytes(int32_t n_vocab);  // asks CUB for its temporary storage: needs a device
void sample(const float* logits, int32_t n_vocab, const uint32_t* mask, int32_t mask_vocab, const SampleParams& p,
            double u, void* scratch, size_t scratch_bytes, int32_t* token, Stream stream);

}  // namespace stencil::runtime::cuda
