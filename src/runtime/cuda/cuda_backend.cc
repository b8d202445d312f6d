// The CUDA backend: the CPU backend's forward pass (cpu/cpu_backend.cc, the numerical reference) on
// one GPU, op for op, with the kernels of ops.h.
//
// At load every weight is uploaded once: F32/F16/BF16 matrices as they are, Q8_0 matrices split into
// their int8 quants and f16 scales (still Q8_0: the matmul reads the blocks, nothing is dequantised),
// Q4_0/Q4_K/Q6_K dequantised on the host to F32 (the CPU backend computes those in F32 too, so both
// give the same numbers; it costs memory: debt). Norm and bias vectors become F32. A tied output
// projection is the token embedding's buffer, uploaded once.
//
// A session owns an F32 KV cache on the device ((n_layer, n_ctx, kv_dim) for K and for V), scratch
// activations for up to kMaxBatch tokens and one CUDA stream. forward() copies the token ids in, runs
// every op on the stream, copies the requested logits back to the host and synchronises, so errors
// surface in the call that caused them. Not here (debt): sampling on the device (the op exists,
// sample.cu, but no BackendSession call uses it yet, so the logits still come back each step), CUDA
// graphs, applying the mask on the device with the host's mask computation overlapping the forward pass
// (docs/cuda.md, "What remains").
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/backend.h"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/ops.h"
#include "stencil/errors.h"

namespace stencil::runtime {
namespace {

using cuda::check;
using cuda::DeviceBuffer;
using cuda::DeviceMatrix;
using cuda::Q8Activations;
using cuda::WeightType;

// Longest batch one forward call processes at once (as the CPU backend; longer inputs are split).
constexpr int32_t kMaxBatch = 256;

DeviceBuffer upload(const void* host, size_t bytes, const char* what) {
  DeviceBuffer b(bytes, what);
  if (bytes) check(cudaMemcpy(b.get(), host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (weights to the device)");
  return b;
}

// A float vector weight (norm or bias) as F32 on the device; an empty buffer when absent.
DeviceBuffer upload_vector(const Tensor& t) {
  if (!t.present()) return {};
  std::vector<float> v(static_cast<size_t>(t.ne0 * t.ne1));
  dequantize_row(t.type, t.data, v.data(), static_cast<int64_t>(v.size()));
  return upload(v.data(), v.size() * sizeof(float), t.name.c_str());
}

// A matrix on the device and the buffers behind it.
struct Matrix {
  DeviceMatrix m;
  DeviceBuffer data, scales;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(const LoadedModel& m, int32_t device) : m_(m), device_(device) {
    std::string why;
    const int n = cuda::device_count(&why);
    if (n == 0) throw Error("no CUDA device (" + why + ")");
    if (device < 0 || device >= n) {
      throw ArgumentError("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(n) +
                          " device" + (n == 1 ? "" : "s") + " found)");
    }
    check(cudaSetDevice(device), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    name_ = "cuda (" + std::string(prop.name) + ", sm_" + std::to_string(prop.major) + std::to_string(prop.minor) +
            ", device " + std::to_string(device) + ")";

    const ModelConfig& c = m.config;
    tok_embd_ = matrix(m.tok_embd);
    output_ = matrix(m.output);  // the same Matrix when tied
    output_norm_ = upload_vector(m.output_norm);
    layers_.resize(c.n_layer);
    for (int i = 0; i < c.n_layer; ++i) {
      const LayerWeights& L = m.layers[i];
      Layer& D = layers_[i];
      D.wq = matrix(L.wq);
      D.wk = matrix(L.wk);
      D.wv = matrix(L.wv);
      D.wo = matrix(L.wo);
      D.w_gate = matrix(L.w_gate);
      D.w_up = matrix(L.w_up);
      D.w_down = matrix(L.w_down);
      D.attn_norm = upload_vector(L.attn_norm);
      D.ffn_norm = upload_vector(L.ffn_norm);
      if (c.qkv_bias) {
        D.bq = upload_vector(L.bq);
        D.bk = upload_vector(L.bk);
        D.bv = upload_vector(L.bv);
      }
    }
    // RoPE inverse frequencies exactly as CpuBackend computes them (double; llama3 factors and linear
    // scaling folded in).
    std::vector<double> inv_freq;
    for (int i = 0; i < c.n_rot / 2; ++i) {
      double f = std::pow(static_cast<double>(c.rope_base), -2.0 * i / c.n_rot) * c.rope_freq_scale;
      if (!c.rope_freq_factors.empty()) f /= c.rope_freq_factors[i];
      inv_freq.push_back(f);
    }
    inv_freq_ = upload(inv_freq.data(), inv_freq.size() * sizeof(double), "rope frequencies");
  }

  std::string name() const override { return name_; }
  int32_t threads() const noexcept override { return 1; }
  std::unique_ptr<BackendSession> new_session(int32_t n_ctx) const override;

  struct Layer {
    const Matrix *wq = nullptr, *wk = nullptr, *wv = nullptr, *wo = nullptr;
    const Matrix *w_gate = nullptr, *w_up = nullptr, *w_down = nullptr;
    DeviceBuffer attn_norm, ffn_norm, bq, bk, bv;  // (n_embd) / (rows of q, k, v)
  };

  const LoadedModel& m_;
  int32_t device_;
  std::string name_;
  const Matrix* tok_embd_ = nullptr;  // (n_vocab, n_embd)
  const Matrix* output_ = nullptr;    // (n_vocab, n_embd)
  DeviceBuffer output_norm_;          // (n_embd)
  DeviceBuffer inv_freq_;             // (n_rot / 2) doubles
  std::vector<Layer> layers_;

 private:
  // Uploads `t` once (a second call with the same data, e.g. tied embeddings, returns the first).
  const Matrix* matrix(const Tensor& t) {
    if (auto it = by_data_.find(t.data); it != by_data_.end()) return it->second;
    auto mat = std::make_unique<Matrix>();
    const size_t rows = static_cast<size_t>(t.ne1), cols = static_cast<size_t>(t.ne0);
    mat->m.rows = t.ne1;
    mat->m.cols = t.ne0;
    const char* what = t.name.c_str();
    switch (t.type) {
      case TensorType::kF32:
      case TensorType::kF16:
      case TensorType::kBF16: {
        const size_t elem = t.type == TensorType::kF32 ? 4 : 2;
        mat->m.type = t.type == TensorType::kF32 ? WeightType::kF32
                      : t.type == TensorType::kF16 ? WeightType::kF16
                                                   : WeightType::kBF16;
        if (t.row_bytes == cols * elem) {
          mat->data = upload(t.data, rows * cols * elem, what);
        } else {  // rows with padding: pack them
          std::vector<uint8_t> packed(rows * cols * elem);
          for (size_t r = 0; r < rows; ++r) std::memcpy(&packed[r * cols * elem], t.data + r * t.row_bytes, cols * elem);
          mat->data = upload(packed.data(), packed.size(), what);
        }
        break;
      }
      case TensorType::kQ8_0: {
        // Split ggml's 34-byte blocks into quants (rows, cols) and scales (rows, cols / 32).
        const size_t nb = cols / kQ8Block;
        std::vector<int8_t> qs(rows * cols);
        std::vector<uint16_t> d(rows * nb);
        for (size_t r = 0; r < rows; ++r) {
          const uint8_t* row = t.data + r * t.row_bytes;
          for (size_t b = 0; b < nb; ++b) {
            BlockQ8_0 blk;
            std::memcpy(&blk, row + b * sizeof(BlockQ8_0), sizeof(BlockQ8_0));
            d[r * nb + b] = blk.d;
            std::memcpy(&qs[r * cols + b * kQ8Block], blk.qs, kQ8Block);
          }
        }
        mat->m.type = WeightType::kQ8_0;
        mat->data = upload(qs.data(), qs.size(), what);
        mat->scales = upload(d.data(), d.size() * sizeof(uint16_t), what);
        break;
      }
      default: {
        // Q4_0 / Q4_K / Q6_K: dequantised to F32 here, row by row (the CPU backend's numbers).
        std::vector<float> f(rows * cols);
        for (size_t r = 0; r < rows; ++r) {
          dequantize_row(t.type, t.data + r * t.row_bytes, &f[r * cols], static_cast<int64_t>(cols));
        }
        mat->m.type = WeightType::kF32;
        mat->data = upload(f.data(), f.size() * sizeof(float), what);
      }
    }
    mat->m.data = mat->data.get();
    mat->m.scales = mat->scales.as<const uint16_t>();
    const Matrix* out = mat.get();
    by_data_[t.data] = out;
    owned_.push_back(std::move(mat));
    return out;
  }

  std::vector<std::unique_ptr<Matrix>> owned_;
  std::map<const uint8_t*, const Matrix*> by_data_;
};

class CudaSession final : public BackendSession {
 public:
  CudaSession(const CudaBackend& b, int32_t n_ctx) : b_(b), c_(b.m_.config), n_ctx_(n_ctx) {
    check(cudaSetDevice(b.device_), "cudaSetDevice");
    q_dim_ = int64_t{c_.n_head} * c_.head_dim;
    kv_dim_ = int64_t{c_.n_head_kv} * c_.head_dim;
    const size_t kv = static_cast<size_t>(c_.n_layer) * n_ctx * kv_dim_ * sizeof(float);
    k_cache_ = DeviceBuffer(kv, "the K cache");
    v_cache_ = DeviceBuffer(kv, "the V cache");
    const size_t B = kMaxBatch, f = sizeof(float);
    x_ = DeviceBuffer(B * c_.n_embd * f, "activations");
    xn_ = DeviceBuffer(B * std::max<int64_t>(c_.n_embd, q_dim_) * f, "activations");
    q_ = DeviceBuffer(B * q_dim_ * f, "activations");
    k_ = DeviceBuffer(B * kv_dim_ * f, "activations");
    v_ = DeviceBuffer(B * kv_dim_ * f, "activations");
    att_ = DeviceBuffer(B * q_dim_ * f, "activations");
    gate_ = DeviceBuffer(B * c_.n_ff * f, "activations");
    up_ = DeviceBuffer(B * c_.n_ff * f, "activations");
    const int64_t widest = std::max<int64_t>({c_.n_embd, c_.n_ff, q_dim_});
    xq_ = DeviceBuffer(B * widest, "quantised activations");
    xd_ = DeviceBuffer(B * ((widest + 31) / 32) * f, "quantised activations");
    tokens_ = DeviceBuffer(B * sizeof(int32_t), "token ids");
    logits_ = DeviceBuffer(static_cast<size_t>(c_.n_vocab) * f, "logits");
    logit_rows_ = 1;
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  }
  ~CudaSession() override {
    if (stream_) (void)cudaStreamDestroy(stream_);
  }

  void forward(std::span<const int32_t> tokens, int32_t pos, bool all_logits, float* logits) override {
    check(cudaSetDevice(b_.device_), "cudaSetDevice");
    const int32_t n = static_cast<int32_t>(tokens.size());
    for (int32_t start = 0; start < n; start += kMaxBatch) {
      const int32_t len = std::min(kMaxBatch, n - start);
      const bool last = start + len == n;
      if (all_logits) {
        forward_batch(tokens.subspan(start, len), pos + start, true, logits + static_cast<size_t>(start) * c_.n_vocab);
      } else {
        forward_batch(tokens.subspan(start, len), pos + start, false, last ? logits : nullptr);
      }
    }
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (forward pass)");
  }
  int32_t n_ctx() const noexcept override { return n_ctx_; }

 private:
  float* f(const DeviceBuffer& b) const { return b.as<float>(); }

  // Quantises x (n_tok, cols) into xq_/xd_ when any of `ws` is Q8_0; returns the activations to pass.
  Q8Activations prepare(std::initializer_list<const Matrix*> ws, const float* x, int n_tok) {
    Q8Activations q{xq_.as<int8_t>(), xd_.as<float>()};
    for (const Matrix* w : ws) {
      if (w->m.type == WeightType::kQ8_0) {
        cuda::quantize_q8_0(x, n_tok, w->m.cols, q, stream_);
        break;
      }
    }
    return q;
  }

  void forward_batch(std::span<const int32_t> tokens, int32_t pos, bool all_logits, float* logits) {
    const int n = static_cast<int>(tokens.size()), d = c_.n_embd;
    const bool neox = c_.rope_style == RopeStyle::kNeox;
    check(cudaMemcpyAsync(tokens_.get(), tokens.data(), sizeof(int32_t) * n, cudaMemcpyHostToDevice, stream_),
          "cudaMemcpyAsync (token ids to the device)");
    cuda::embed(b_.tok_embd_->m, tokens_.as<int32_t>(), n, f(x_), stream_);
    for (int l = 0; l < c_.n_layer; ++l) {
      const CudaBackend::Layer& L = b_.layers_[l];
      cuda::rms_norm(f(x_), f(L.attn_norm), f(xn_), n, d, c_.rms_eps, stream_);
      Q8Activations q8 = prepare({L.wq, L.wk, L.wv}, f(xn_), n);
      cuda::matmul(L.wq->m, f(xn_), q8, n, f(q_), q_dim_, stream_);
      cuda::matmul(L.wk->m, f(xn_), q8, n, f(k_), kv_dim_, stream_);
      cuda::matmul(L.wv->m, f(xn_), q8, n, f(v_), kv_dim_, stream_);
      if (c_.qkv_bias) {
        cuda::add_rows(f(q_), q_dim_, f(L.bq), 0, n, q_dim_, stream_);
        cuda::add_rows(f(k_), kv_dim_, f(L.bk), 0, n, kv_dim_, stream_);
        cuda::add_rows(f(v_), kv_dim_, f(L.bv), 0, n, kv_dim_, stream_);
      }
      const double* inv_freq = b_.inv_freq_.as<const double>();
      cuda::rope(f(q_), n, c_.n_head, c_.head_dim, c_.n_rot, neox, pos, inv_freq, stream_);
      cuda::rope(f(k_), n, c_.n_head_kv, c_.head_dim, c_.n_rot, neox, pos, inv_freq, stream_);
      const size_t layer_at = static_cast<size_t>(l) * n_ctx_ * kv_dim_;
      const size_t cache_at = layer_at + static_cast<size_t>(pos) * kv_dim_;
      const size_t bytes = sizeof(float) * n * kv_dim_;
      check(cudaMemcpyAsync(f(k_cache_) + cache_at, f(k_), bytes, cudaMemcpyDeviceToDevice, stream_),
            "cudaMemcpyAsync (K to the cache)");
      check(cudaMemcpyAsync(f(v_cache_) + cache_at, f(v_), bytes, cudaMemcpyDeviceToDevice, stream_),
            "cudaMemcpyAsync (V to the cache)");
      cuda::attention(f(q_), f(k_cache_) + layer_at, f(v_cache_) + layer_at, f(att_), n, pos, c_.n_head, c_.n_head_kv,
                      c_.head_dim, stream_);
      q8 = prepare({L.wo}, f(att_), n);
      cuda::matmul(L.wo->m, f(att_), q8, n, f(xn_), d, stream_);
      cuda::add_rows(f(x_), d, f(xn_), d, n, d, stream_);
      cuda::rms_norm(f(x_), f(L.ffn_norm), f(xn_), n, d, c_.rms_eps, stream_);
      q8 = prepare({L.w_gate, L.w_up}, f(xn_), n);
      cuda::matmul(L.w_gate->m, f(xn_), q8, n, f(gate_), c_.n_ff, stream_);
      cuda::matmul(L.w_up->m, f(xn_), q8, n, f(up_), c_.n_ff, stream_);
      cuda::swiglu(f(gate_), f(up_), int64_t{n} * c_.n_ff, stream_);
      q8 = prepare({L.w_down}, f(gate_), n);
      cuda::matmul(L.w_down->m, f(gate_), q8, n, f(xn_), d, stream_);
      cuda::add_rows(f(x_), d, f(xn_), d, n, d, stream_);
    }
    if (!logits) return;
    // Logits for every row, or only the last one.
    const int first = all_logits ? 0 : n - 1;
    const int rows = n - first;
    if (rows > logit_rows_) {
      logits_ = DeviceBuffer(static_cast<size_t>(rows) * c_.n_vocab * sizeof(float), "logits");
      logit_rows_ = rows;
    }
    const float* xl = f(x_) + static_cast<size_t>(first) * d;
    cuda::rms_norm(xl, f(b_.output_norm_), f(xn_), rows, d, c_.rms_eps, stream_);
    const Q8Activations q8 = prepare({b_.output_}, f(xn_), rows);
    cuda::matmul(b_.output_->m, f(xn_), q8, rows, f(logits_), c_.n_vocab, stream_);
    check(cudaMemcpyAsync(logits, logits_.get(), sizeof(float) * rows * c_.n_vocab, cudaMemcpyDeviceToHost, stream_),
          "cudaMemcpyAsync (logits to the host)");
  }

  const CudaBackend& b_;
  const ModelConfig& c_;
  int32_t n_ctx_;
  int64_t q_dim_ = 0, kv_dim_ = 0;
  DeviceBuffer k_cache_, v_cache_;                   // (n_layer, n_ctx, kv_dim) floats each
  DeviceBuffer x_, xn_, q_, k_, v_, att_, gate_, up_;  // (kMaxBatch, width) floats
  DeviceBuffer xq_, xd_;                             // Q8_0 activations: (kMaxBatch, widest) int8, (kMaxBatch, widest/32) floats
  DeviceBuffer tokens_;                              // (kMaxBatch) int32
  DeviceBuffer logits_;                              // (logit_rows_, n_vocab) floats
  int logit_rows_ = 0;
  cudaStream_t stream_ = nullptr;
};

std::unique_ptr<BackendSession> CudaBackend::new_session(int32_t n_ctx) const {
  return std::make_unique<CudaSession>(*this, n_ctx);
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const LoadedModel& model, int32_t device) {
  return std::make_unique<CudaBackend>(model, device);
}

}  // namespace stencil::runtime
