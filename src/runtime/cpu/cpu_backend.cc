// The CPU backend: a Llama-family forward pass (embeddings, RMSNorm, RoPE, grouped-query attention
// over an F32 KV cache, SwiGLU FFN, final norm, logits) over the kernel table of kernels.h.
//
// Prompt tokens go through as one batch (every matmul is matrix x matrix, so weights are read once
// per batch, not per token); decode is the same code with one token. Matrix rows are split across
// the thread pool; Q, K and V (and gate and up) share one pool call, and small matrices run on the
// calling thread alone because waking workers would cost more than the work.
// Numerics follow llama.cpp's CPU path (float32 everywhere, RMSNorm sums in double, Q8_0 weights
// multiplied with activations quantised to Q8_0), so results match its logits closely.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>

#include "runtime/backend.h"
#include "runtime/cpu/kernels.h"
#include "support/thread_pool.h"

namespace stencil::runtime {
namespace {

using cpu::KernelTable;

// Longest batch one forward call processes at once (longer inputs are split); bounds scratch memory.
constexpr int32_t kMaxBatch = 256;
// Rows per unit of parallel work in a matmul.
constexpr int64_t kRowChunk = 16;
// Below this many multiply-adds a matmul runs on the calling thread only.
constexpr int64_t kMinParallelMacs = 1 << 17;

// A float vector weight (norm or bias), converted to F32 once.
std::vector<float> to_f32(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.ne0 * t.ne1));
  if (t.present()) dequantize_row(t.type, t.data, v.data(), static_cast<int64_t>(v.size()));
  return v;
}

struct LayerF32 {
  std::vector<float> attn_norm, ffn_norm, bq, bk, bv;  // (n_embd) / (rows of q, k, v)
};

class CpuBackend;

// One matmul of a fused group: y (n_tok x w.ne1, row stride y_stride) = x (n_tok x w.ne0) . W^T.
struct MatJob {
  const Tensor* w;
  float* y;
  size_t y_stride;
};

class CpuSession final : public BackendSession {
 public:
  CpuSession(const CpuBackend& b, int32_t n_ctx);
  void forward(std::span<const int32_t> tokens, int32_t pos, bool all_logits, float* logits) override;
  int32_t n_ctx() const noexcept override { return n_ctx_; }

 private:
  void forward_batch(std::span<const int32_t> tokens, int32_t pos, bool all_logits, float* logits);
  void matmul(std::initializer_list<MatJob> jobs, const float* x, int n_tok);
  void rms_norm(const float* x, const std::vector<float>& w, float* y, int n_tok) const;
  void rope_tables(int n_tok, int32_t pos);
  void rope(float* x, int n_heads, int n_tok) const;
  void attention(int layer, int n_tok, int32_t pos);

  const CpuBackend& b_;
  const ModelConfig& c_;
  int32_t n_ctx_;
  int64_t q_dim_, kv_dim_;
  std::vector<float> k_cache_, v_cache_;  // (n_layer, n_ctx, kv_dim)
  std::vector<float> x_, xn_, q_, k_, v_, att_, gate_, up_;  // (kMaxBatch, width)
  std::vector<BlockQ8_0> xq_;  // (kMaxBatch, max width / 32) quantised activations
  std::vector<float> rope_cos_, rope_sin_;  // (kMaxBatch, n_rot / 2) for the batch's positions
};

class CpuBackend final : public Backend {
 public:
  CpuBackend(const LoadedModel& m, int32_t threads)
      : m_(m), k_(cpu::best_kernels()), pool_(threads) {
    const ModelConfig& c = m.config;
    layers_.resize(c.n_layer);
    for (int i = 0; i < c.n_layer; ++i) {
      const LayerWeights& L = m.layers[i];
      layers_[i].attn_norm = to_f32(L.attn_norm);
      layers_[i].ffn_norm = to_f32(L.ffn_norm);
      if (c.qkv_bias) {
        layers_[i].bq = to_f32(L.bq);
        layers_[i].bk = to_f32(L.bk);
        layers_[i].bv = to_f32(L.bv);
      }
    }
    output_norm_ = to_f32(m.output_norm);
    // RoPE inverse frequencies, with llama3 factors and linear scaling folded in.
    for (int i = 0; i < c.n_rot / 2; ++i) {
      double f = std::pow(static_cast<double>(c.rope_base), -2.0 * i / c.n_rot) * c.rope_freq_scale;
      if (!c.rope_freq_factors.empty()) f /= c.rope_freq_factors[i];
      inv_freq_.push_back(f);
    }
  }
  std::string name() const override {
    return std::string("cpu (") + k_.name + ", " + std::to_string(pool_.size()) + " thread" +
           (pool_.size() == 1 ? "" : "s") + ")";
  }
  int32_t threads() const noexcept override { return pool_.size(); }
  std::unique_ptr<BackendSession> new_session(int32_t n_ctx) const override {
    return std::make_unique<CpuSession>(*this, n_ctx);
  }

  const LoadedModel& m_;
  const KernelTable& k_;
  mutable support::ThreadPool pool_;
  std::vector<LayerF32> layers_;
  std::vector<float> output_norm_;
  std::vector<double> inv_freq_;  // (n_rot / 2)
};

CpuSession::CpuSession(const CpuBackend& b, int32_t n_ctx) : b_(b), c_(b.m_.config), n_ctx_(n_ctx) {
  q_dim_ = int64_t{c_.n_head} * c_.head_dim;
  kv_dim_ = int64_t{c_.n_head_kv} * c_.head_dim;
  const size_t kv = static_cast<size_t>(c_.n_layer) * n_ctx * kv_dim_;
  k_cache_.assign(kv, 0.0f);
  v_cache_.assign(kv, 0.0f);
  const size_t B = kMaxBatch;
  x_.resize(B * c_.n_embd);
  xn_.resize(B * std::max<int64_t>(c_.n_embd, q_dim_));
  q_.resize(B * q_dim_);
  k_.resize(B * kv_dim_);
  v_.resize(B * kv_dim_);
  att_.resize(B * q_dim_);
  gate_.resize(B * c_.n_ff);
  up_.resize(B * c_.n_ff);
  const int64_t widest = std::max<int64_t>({c_.n_embd, c_.n_ff, q_dim_});
  xq_.resize(B * ((widest + kQ8Block - 1) / kQ8Block));
  rope_cos_.resize(B * (c_.n_rot / 2));
  rope_sin_.resize(B * (c_.n_rot / 2));
}

void CpuSession::forward(std::span<const int32_t> tokens, int32_t pos, bool all_logits, float* logits) {
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
}

void CpuSession::rms_norm(const float* x, const std::vector<float>& w, float* y, int n_tok) const {
  const int d = c_.n_embd;
  for (int t = 0; t < n_tok; ++t) {
    const float* xt = x + static_cast<size_t>(t) * d;
    float* yt = y + static_cast<size_t>(t) * d;
    double sum = 0;
    for (int i = 0; i < d; ++i) sum += static_cast<double>(xt[i]) * xt[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / d) + c_.rms_eps);
    for (int i = 0; i < d; ++i) yt[i] = (xt[i] * scale) * w[i];
  }
}

// The rotation angles depend only on the position: computed once per batch, used by every layer.
void CpuSession::rope_tables(int n_tok, int32_t pos) {
  const int half = c_.n_rot / 2;
  for (int t = 0; t < n_tok; ++t) {
    for (int i = 0; i < half; ++i) {
      const double theta = static_cast<double>(pos + t) * b_.inv_freq_[i];
      rope_cos_[static_cast<size_t>(t) * half + i] = static_cast<float>(std::cos(theta));
      rope_sin_[static_cast<size_t>(t) * half + i] = static_cast<float>(std::sin(theta));
    }
  }
}

void CpuSession::rope(float* x, int n_heads, int n_tok) const {
  const int hd = c_.head_dim, half = c_.n_rot / 2;
  const bool neox = c_.rope_style == RopeStyle::kNeox;
  for (int t = 0; t < n_tok; ++t) {
    const float* cs = rope_cos_.data() + static_cast<size_t>(t) * half;
    const float* sn = rope_sin_.data() + static_cast<size_t>(t) * half;
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + (static_cast<size_t>(t) * n_heads + h) * hd;
      for (int i = 0; i < half; ++i) {
        const int i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        const float a = v[i0], b = v[i1];
        v[i0] = a * cs[i] - b * sn[i];
        v[i1] = a * sn[i] + b * cs[i];
      }
    }
  }
}

void CpuSession::matmul(std::initializer_list<MatJob> jobs, const float* x, int n_tok) {
  const KernelTable& k = b_.k_;
  const int64_t n_in = jobs.begin()->w->ne0;
  // Quantise the activations once if any weight is Q8_0.
  const int64_t nb = n_in / kQ8Block;
  bool any_q8 = false;
  for (const MatJob& j : jobs) any_q8 |= j.w->type == TensorType::kQ8_0;
  if (any_q8) {
    for (int t = 0; t < n_tok; ++t) k.quantize_q8_0(x + t * n_in, xq_.data() + t * nb, n_in);
  }
  // Units of work: chunks of kRowChunk rows over all jobs.
  int64_t units = 0, macs = 0;
  int64_t first_unit[4];
  const MatJob* js[4];
  int nj = 0;
  for (const MatJob& j : jobs) {
    first_unit[nj] = units;
    js[nj++] = &j;
    units += (j.w->ne1 + kRowChunk - 1) / kRowChunk;
    macs += j.w->ne1 * n_in * n_tok;
  }
  auto run = [&](int64_t u0, int64_t u1) {
    static thread_local std::vector<float> deq;  // dequantised rows for types without a direct kernel
    for (int64_t u = u0; u < u1;) {
      int ji = nj - 1;
      while (first_unit[ji] > u) --ji;
      const MatJob& j = *js[ji];
      const int64_t j_units_end = ji + 1 < nj ? first_unit[ji + 1] : units;
      const int64_t ue = std::min(u1, j_units_end);
      const int64_t r0 = (u - first_unit[ji]) * kRowChunk;
      const int64_t r1 = std::min(j.w->ne1, (ue - first_unit[ji]) * kRowChunk);
      const uint8_t* wr = j.w->data + r0 * j.w->row_bytes;
      const int nr = static_cast<int>(r1 - r0);
      float* y = j.y + r0;
      switch (j.w->type) {
        case TensorType::kF32:
          k.gemm_f32(wr, j.w->row_bytes, x, n_in * 4, y, j.y_stride, nr, n_tok, static_cast<int>(n_in));
          break;
        case TensorType::kF16:
          k.gemm_f16(wr, j.w->row_bytes, x, n_in * 4, y, j.y_stride, nr, n_tok, static_cast<int>(n_in));
          break;
        case TensorType::kBF16:
          k.gemm_bf16(wr, j.w->row_bytes, x, n_in * 4, y, j.y_stride, nr, n_tok, static_cast<int>(n_in));
          break;
        case TensorType::kQ8_0:
          k.gemm_q8_0(wr, j.w->row_bytes, xq_.data(), nb * sizeof(BlockQ8_0), y, j.y_stride, nr, n_tok,
                      static_cast<int>(n_in));
          break;
        default: {
          // Q4_0 / Q4_K / Q6_K: dequantise this chunk of rows (never the whole matrix), then F32.
          deq.resize(static_cast<size_t>(nr) * n_in);
          for (int r = 0; r < nr; ++r) dequantize_row(j.w->type, wr + r * j.w->row_bytes, deq.data() + r * n_in, n_in);
          k.gemm_f32(deq.data(), n_in * 4, x, n_in * 4, y, j.y_stride, nr, n_tok, static_cast<int>(n_in));
        }
      }
      u = ue;
    }
  };
  if (macs < kMinParallelMacs || b_.pool_.size() == 1) {
    run(0, units);
  } else {
    // One contiguous range per thread: each thread streams its own part of the weights in one pass,
    // which the kernels' prefetch (kPrefetchAheadRows, within a range) and the hardware prefetcher
    // keep ahead of. Finer ranges, claimed in turn by the threads, break those streams: decode of
    // SmolLM2-135M-shape F16 on 2 threads fell from ~125 tok/s (1 or 2 ranges per thread) to ~112
    // (8 per thread) and ~71 (16-row ranges). A worker that has not joined yet leaves its range to the caller.
    const int64_t threads = b_.pool_.size();
    const int64_t grain = (units + threads - 1) / threads;
    b_.pool_.parallel_for(units, grain, [&](int64_t u0, int64_t u1) { run(u0, u1); });
  }
}

void CpuSession::attention(int layer, int n_tok, int32_t pos) {
  const int hd = c_.head_dim, nh = c_.n_head, group = c_.n_head / c_.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float* kc = k_cache_.data() + static_cast<size_t>(layer) * n_ctx_ * kv_dim_;
  const float* vc = v_cache_.data() + static_cast<size_t>(layer) * n_ctx_ * kv_dim_;
  const KernelTable& k = b_.k_;
  auto run = [&](int64_t begin, int64_t end) {
    static thread_local std::vector<float> scores;
    for (int64_t task = begin; task < end; ++task) {
      const int t = static_cast<int>(task / nh), h = static_cast<int>(task % nh), g = h / group;
      const int n_keys = pos + t + 1;  // causal: positions 0 .. pos+t
      if (scores.size() < static_cast<size_t>(n_keys)) scores.resize(n_keys);
      const float* qh = q_.data() + static_cast<size_t>(t) * q_dim_ + h * hd;
      float mx = -INFINITY;
      for (int j = 0; j < n_keys; ++j) {
        scores[j] = k.dot_f32(qh, kc + static_cast<size_t>(j) * kv_dim_ + g * hd, hd) * scale;
        mx = std::max(mx, scores[j]);
      }
      double sum = 0;
      for (int j = 0; j < n_keys; ++j) {
        scores[j] = std::exp(scores[j] - mx);
        sum += scores[j];
      }
      const float inv = static_cast<float>(1.0 / sum);
      float* out = att_.data() + static_cast<size_t>(t) * q_dim_ + h * hd;
      std::fill(out, out + hd, 0.0f);
      for (int j = 0; j < n_keys; ++j) k.axpy_f32(scores[j] * inv, vc + static_cast<size_t>(j) * kv_dim_ + g * hd, out, hd);
    }
  };
  const int64_t tasks = int64_t{n_tok} * nh;
  const int64_t work = tasks * (pos + n_tok) * hd;
  if (work < kMinParallelMacs || b_.pool_.size() == 1) {
    run(0, tasks);
  } else {
    b_.pool_.parallel_for(tasks, run);
  }
}

void CpuSession::forward_batch(std::span<const int32_t> tokens, int32_t pos, bool all_logits, float* logits) {
  const LoadedModel& m = b_.m_;
  const int n = static_cast<int>(tokens.size()), d = c_.n_embd;
  for (int t = 0; t < n; ++t) {
    dequantize_row(m.tok_embd.type, m.tok_embd.data + static_cast<size_t>(tokens[t]) * m.tok_embd.row_bytes,
                   x_.data() + static_cast<size_t>(t) * d, d);
  }
  rope_tables(n, pos);
  for (int l = 0; l < c_.n_layer; ++l) {
    const LayerWeights& L = m.layers[l];
    const LayerF32& F = b_.layers_[l];
    rms_norm(x_.data(), F.attn_norm, xn_.data(), n);
    matmul({{&L.wq, q_.data(), static_cast<size_t>(q_dim_)},
            {&L.wk, k_.data(), static_cast<size_t>(kv_dim_)},
            {&L.wv, v_.data(), static_cast<size_t>(kv_dim_)}},
           xn_.data(), n);
    if (c_.qkv_bias) {
      for (int t = 0; t < n; ++t) {
        for (int64_t i = 0; i < q_dim_; ++i) q_[t * q_dim_ + i] += F.bq[i];
        for (int64_t i = 0; i < kv_dim_; ++i) k_[t * kv_dim_ + i] += F.bk[i];
        for (int64_t i = 0; i < kv_dim_; ++i) v_[t * kv_dim_ + i] += F.bv[i];
      }
    }
    rope(q_.data(), c_.n_head, n);
    rope(k_.data(), c_.n_head_kv, n);
    const size_t cache_at = (static_cast<size_t>(l) * n_ctx_ + pos) * kv_dim_;
    std::memcpy(k_cache_.data() + cache_at, k_.data(), sizeof(float) * n * kv_dim_);
    std::memcpy(v_cache_.data() + cache_at, v_.data(), sizeof(float) * n * kv_dim_);
    attention(l, n, pos);
    matmul({{&L.wo, xn_.data(), static_cast<size_t>(d)}}, att_.data(), n);
    for (size_t i = 0; i < static_cast<size_t>(n) * d; ++i) x_[i] += xn_[i];
    rms_norm(x_.data(), F.ffn_norm, xn_.data(), n);
    matmul({{&L.w_gate, gate_.data(), static_cast<size_t>(c_.n_ff)}, {&L.w_up, up_.data(), static_cast<size_t>(c_.n_ff)}},
           xn_.data(), n);
    for (size_t i = 0; i < static_cast<size_t>(n) * c_.n_ff; ++i) {
      const float g = gate_[i];
      gate_[i] = g / (1.0f + std::exp(-g)) * up_[i];
    }
    matmul({{&L.w_down, xn_.data(), static_cast<size_t>(d)}}, gate_.data(), n);
    for (size_t i = 0; i < static_cast<size_t>(n) * d; ++i) x_[i] += xn_[i];
  }
  if (!logits) return;
  // Logits for every row, or only the last one.
  const int first = all_logits ? 0 : n - 1;
  const int rows = n - first;
  rms_norm(x_.data() + static_cast<size_t>(first) * d, b_.output_norm_, xn_.data(), rows);
  matmul({{&m.output, logits, static_cast<size_t>(c_.n_vocab)}}, xn_.data(), rows);
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const LoadedModel& model, int32_t threads) {
  return std::make_unique<CpuBackend>(model, threads);
}

}  // namespace stencil::runtime
