// stencil::Model and stencil::Session: the bundled transformer runtime's public face.
//
// A Model is a loaded Llama-family checkpoint (GGUF v3 file, or a Hugging Face
// safetensors folder with config.json): its weights (memory-mapped, never copied
// for GGUF), hyperparameters, tokenizer and chat template. A Session is one
// sequence being decoded against it: a KV cache plus scratch buffers.
//
//   stencil::Model model = stencil::Model::load("stories260K-f32.gguf");
//   stencil::Session session(model);
//   std::span<const float> logits = session.eval(prompt_ids);   // prompt, one batch
//   int32_t next = argmax(logits);
//   logits = session.eval({&next, 1});                         // one decode step
//
// This header does not tokenize text, sample or apply grammars: see the
// tokenizer, sampler and generator headers beside it.
//
// Thread-safety: a Model is immutable after load(); copies share the weights and
// may be used from any number of threads, each with its own Session. A Session
// is not thread-safe (one thread at a time); it uses the Model's worker threads
// internally during eval(), so two Sessions of one Model evaluated at the same time
// take turns on those workers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "stencil/vocabulary.h"

namespace stencil {

struct ModelOptions {
  // Worker threads for the forward pass (the calling thread counts as one). 0: the
  // number of hardware threads.
  int32_t threads = 0;
  // Compute backend: "cpu" (always available; the numerical reference), "cuda" (CUDA
  // device 0; "cuda:N" for device N: weights uploaded once at load, logits copied back per
  // eval; load throws stencil::Error when stencil was built without CUDA or there is no
  // such device, see stencil/cuda.h). "auto" is "cpu": the GPU is used only when asked for.
  std::string backend = "auto";
};

// What was loaded: architecture and hyperparameters as read from the file.
struct ModelInfo {
  std::string path;
  std::string format;        // "gguf" or "safetensors"
  std::string architecture;  // "llama" or "qwen2" (the GGUF general.architecture spelling)
  std::string name;          // general.name, or the folder name
  std::string weight_type;   // type of most matrix weights: "F32", "F16", "BF16", "Q8_0", ...
  std::string backend;       // the backend chosen at load, e.g. "cpu (avx512)"
  int32_t n_layers = 0;
  int32_t n_embd = 0;        // hidden size
  int32_t n_ff = 0;          // feed-forward (SwiGLU) size
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;    // < n_heads for grouped-query attention
  int32_t head_dim = 0;
  int32_t n_vocab = 0;       // width of a logit vector
  int32_t context_length = 0;  // the training context (positions beyond it are allowed but degrade)
  float rope_freq_base = 0;
  float rms_norm_eps = 0;
  bool qkv_bias = false;
  bool tied_embeddings = false;  // output projection shares token_embd
  uint64_t n_params = 0;
  uint64_t file_bytes = 0;   // bytes of weights files
  int32_t threads = 0;
};

class Model {
 public:
  // Loads a GGUF file, or a folder with config.json + *.safetensors (+ tokenizer.json).
  // Throws ModelError whose location() names the file and the offset, tensor or key at fault
  // (truncated file, bad magic, unsupported tensor type or architecture, wrong tensor shape ...).
  static Model load(const std::string& path, const ModelOptions& options = {});

  const ModelInfo& info() const noexcept;
  // The model's tokenizer as a Vocabulary (GGUF: tokenizer.ggml.*; safetensors: tokenizer.json).
  // Throws VocabularyError when the file carries no usable tokenizer.
  Vocabulary vocabulary() const;
  // The chat template (Jinja text) from tokenizer.chat_template / tokenizer_config.json; empty if none.
  std::string chat_template() const;
  // A metadata string value (GGUF key or config.json key); empty if absent or not a string.
  std::string metadata_string(const std::string& key) const;

  struct Impl;
  const Impl& impl() const noexcept { return *impl_; }
  explicit Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<const Impl> impl_;
};

struct SessionOptions {
  // KV cache length in tokens. 0: Session::default_context_length(model).
  int32_t context_length = 0;
};

class Session {
 public:
  // Allocates the KV cache (n_layers * context_length * n_kv_heads * head_dim * 2 floats).
  explicit Session(const Model& model, const SessionOptions& options = {});
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  // Appends `tokens` at positions n_past() .. n_past()+size-1 (several tokens are processed as
  // one batch) and returns the logits of the last one (n_vocab floats). The span stays valid until
  // the next call on this Session. Throws ArgumentError on an empty span, a token id outside
  // [0, n_vocab) or when the tokens do not fit into the context (state unchanged then).
  std::span<const float> eval(std::span<const int32_t> tokens);
  // Same, but returns the logits of every position: tokens.size() rows of n_vocab floats.
  std::span<const float> eval_all(std::span<const int32_t> tokens);

  // Forgets everything (n_past() becomes 0).
  void reset() noexcept;
  // Keeps the first n positions of the KV cache, dropping the rest (for rollback). n > n_past() is an
  // ArgumentError.
  void truncate(int32_t n);
  int32_t n_past() const noexcept;
  int32_t context_length() const noexcept;
  const Model& model() const noexcept;
  // min(the model's training context, 4096): the KV cache length when none is given.
  static int32_t default_context_length(const Model& model) noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace stencil
