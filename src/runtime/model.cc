// stencil::Model / stencil::Session: the public face over model_loader.h and backend.h.
// Model::load picks the backend once; Session validates arguments and tracks n_past, the backend
// does the arithmetic.
#include "stencil/runtime/model.h"

#include <algorithm>

#include "runtime/backend.h"
#include "runtime/model_loader.h"
#include "stencil/errors.h"

namespace stencil {

struct Model::Impl {
  std::unique_ptr<runtime::LoadedModel> loaded;
  std::unique_ptr<runtime::Backend> backend;
  ModelInfo info;
};

Model Model::load(const std::string& path, const ModelOptions& options) {
  // "cuda" or "cuda:N" (device N); "auto" and "cpu" are the CPU backend.
  const std::string& b = options.backend;
  int32_t cuda_device = -1;
  if (b == "cuda") {
    cuda_device = 0;
  } else if (b.rfind("cuda:", 0) == 0 && b.size() > 5 && b.size() <= 8 &&
             b.find_first_not_of("0123456789", 5) == std::string::npos) {
    cuda_device = std::stoi(b.substr(5));
  } else if (b != "auto" && b != "cpu") {
    throw ArgumentError("unknown backend \"" + b + "\" (available: auto, cpu, cuda, cuda:N)");
  }
  auto impl = std::make_shared<Impl>();
  impl->loaded = runtime::load_model(path);
  impl->backend = cuda_device >= 0 ? runtime::make_cuda_backend(*impl->loaded, cuda_device)
                                   : runtime::make_cpu_backend(*impl->loaded, options.threads);
  const runtime::LoadedModel& m = *impl->loaded;
  const runtime::ModelConfig& c = m.config;
  ModelInfo& i = impl->info;
  i.path = path;
  i.format = m.format;
  i.architecture = c.architecture;
  i.name = m.name;
  i.weight_type = m.weight_type;
  i.backend = impl->backend->name();
  i.n_layers = c.n_layer;
  i.n_embd = c.n_embd;
  i.n_ff = c.n_ff;
  i.n_heads = c.n_head;
  i.n_kv_heads = c.n_head_kv;
  i.head_dim = c.head_dim;
  i.n_vocab = c.n_vocab;
  i.context_length = c.n_ctx_train;
  i.rope_freq_base = c.rope_base;
  i.rms_norm_eps = c.rms_eps;
  i.qkv_bias = c.qkv_bias;
  i.tied_embeddings = c.tied_embeddings;
  i.n_params = m.n_params;
  i.file_bytes = m.file_bytes;
  i.threads = impl->backend->threads();
  return Model(std::move(impl));
}

const ModelInfo& Model::info() const noexcept { return impl_->info; }

Vocabulary Model::vocabulary() const {
  const runtime::LoadedModel& m = *impl_->loaded;
  if (m.tokenizer_path.empty()) throw VocabularyError("the model has no tokenizer (no tokenizer.json beside it)", m.path);
  VocabularyOptions options;
  options.padded_size = m.config.n_vocab;
  if (m.format == "gguf") return Vocabulary::from_gguf(m.tokenizer_path, options);
  return Vocabulary::from_tokenizer_json(m.tokenizer_path, options);
}

std::string Model::chat_template() const { return metadata_string("tokenizer.chat_template"); }

std::string Model::metadata_string(const std::string& key) const {
  const auto& s = impl_->loaded->strings;
  auto it = s.find(key);
  return it == s.end() ? std::string() : it->second;
}

struct Session::Impl {
  Model model;
  std::unique_ptr<runtime::BackendSession> backend;
  int32_t n_past = 0;
  std::vector<float> logits;
};

Session::Session(const Model& model, const SessionOptions& options) {
  int32_t n_ctx = options.context_length;
  if (n_ctx < 0) throw ArgumentError("context_length must not be negative");
  if (n_ctx == 0) n_ctx = default_context_length(model);
  impl_ = std::make_unique<Impl>(Impl{model, model.impl().backend->new_session(n_ctx), 0, {}});
}

int32_t Session::default_context_length(const Model& model) noexcept {
  return std::min<int32_t>(model.info().context_length > 0 ? model.info().context_length : 4096, 4096);
}

Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

static void check_tokens(const Session::Impl& s, std::span<const int32_t> tokens) {
  if (tokens.empty()) throw ArgumentError("eval: no tokens");
  const int32_t n_vocab = s.model.info().n_vocab;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      throw ArgumentError("eval: token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                          " is outside [0, " + std::to_string(n_vocab) + ")");
    }
  }
  if (tokens.size() > static_cast<size_t>(s.backend->n_ctx() - s.n_past)) {
    throw ArgumentError("eval: " + std::to_string(tokens.size()) + " tokens do not fit: " + std::to_string(s.n_past) +
                        " of " + std::to_string(s.backend->n_ctx()) + " context positions are used");
  }
}

std::span<const float> Session::eval(std::span<const int32_t> tokens) {
  check_tokens(*impl_, tokens);
  const size_t nv = static_cast<size_t>(impl_->model.info().n_vocab);
  impl_->logits.resize(nv);
  impl_->backend->forward(tokens, impl_->n_past, false, impl_->logits.data());
  impl_->n_past += static_cast<int32_t>(tokens.size());
  return {impl_->logits.data(), nv};
}

std::span<const float> Session::eval_all(std::span<const int32_t> tokens) {
  check_tokens(*impl_, tokens);
  const size_t n = tokens.size() * static_cast<size_t>(impl_->model.info().n_vocab);
  impl_->logits.resize(n);
  impl_->backend->forward(tokens, impl_->n_past, true, impl_->logits.data());
  impl_->n_past += static_cast<int32_t>(tokens.size());
  return {impl_->logits.data(), n};
}

void Session::reset() noexcept { impl_->n_past = 0; }

void Session::truncate(int32_t n) {
  if (n < 0 || n > impl_->n_past) {
    throw ArgumentError("truncate(" + std::to_string(n) + "): must be in [0, n_past = " + std::to_string(impl_->n_past) + "]");
  }
  impl_->n_past = n;  // cache entries beyond n are overwritten by the next eval
}

int32_t Session::n_past() const noexcept { return impl_->n_past; }
int32_t Session::context_length() const noexcept { return impl_->backend->n_ctx(); }
const Model& Session::model() const noexcept { return impl_->model; }

}  // namespace stencil
