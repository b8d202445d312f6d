// The one internal compute interface of the runtime, chosen once when a model is loaded (no
// "if (cuda)" inside ops). A Backend owns whatever it derived from the LoadedModel (packed weights,
// device copies, worker threads); a BackendSession owns one sequence's KV cache and scratch.
// The CPU backend is always built and is the numerical reference; the CUDA backend (cuda/) implements
// the same two classes on one GPU.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "runtime/model_loader.h"

namespace stencil::runtime {

class BackendSession {
 public:
  virtual ~BackendSession() = default;
  // Runs tokens at positions pos .. pos+n-1 (pos + n <= n_ctx; KV entries at positions >= pos are
  // overwritten, which is how truncation works). Writes n_vocab logits per requested row into
  // `logits`: only the last position's when all_logits is false, else every position's
  // (n * n_vocab floats). Tokens are already validated.
  virtual void forward(std::span<const int32_t> tokens, int32_t pos, bool all_logits, float* logits) = 0;
  virtual int32_t n_ctx() const noexcept = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // For ModelInfo, e.g. "cpu (avx512, 2 threads)".
  virtual std::string name() const = 0;
  virtual int32_t threads() const noexcept = 0;
  virtual std::unique_ptr<BackendSession> new_session(int32_t n_ctx) const = 0;
};

// The CPU backend over `model` (which must outlive it); threads <= 0: hardware threads.
std::unique_ptr<Backend> make_cpu_backend(const LoadedModel& model, int32_t threads);

// The CUDA backend over `model` on CUDA device `device` (0-based): uploads every weight once. Throws
// stencil::Error when stencil was built without CUDA, when there is no such device, or when the
// weights do not fit into its memory (the message says which).
std::unique_ptr<Backend> make_cuda_backend(const LoadedModel& model, int32_t device);

}  // namespace stencil::runtime
