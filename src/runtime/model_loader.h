// Loading a Llama-family checkpoint into a LoadedModel: hyperparameters (ModelConfig) and views of
// every weight tensor, resolved by role and shape-checked.
//
// GGUF files are memory-mapped and their tensors used in place (no copy, whatever the type).
// Safetensors folders (config.json + *.safetensors) are mapped too; their F32/F16/BF16 tensors are
// used in place as well. Everything that can be wrong with a file (truncation, bad offsets, unknown
// types, missing or misshapen tensors, missing keys) is a ModelError naming the file and the offset,
// tensor or key. This file does not compute anything (see cpu/cpu_backend.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/tensor_types.h"
#include "vocab/gguf_metadata.h"

namespace stencil::runtime {

// How RoPE pairs the dimensions of a head. kNormal: (2i, 2i+1), GGUF "llama" (llama.cpp's
// LLAMA_ROPE_TYPE_NORM, Meta's original layout). kNeox: (i, i + n_rot/2), GGUF "qwen2" and every
// Hugging Face checkpoint (rotate_half).
enum class RopeStyle { kNormal, kNeox };

struct ModelConfig {
  std::string architecture;  // "llama" or "qwen2"
  int32_t n_layer = 0;
  int32_t n_embd = 0;
  int32_t n_ff = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  int32_t n_rot = 0;  // rotated dimensions per head (<= head_dim)
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;
  float rms_eps = 1e-5f;
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // linear scaling: positions are multiplied by this
  RopeStyle rope_style = RopeStyle::kNormal;
  std::vector<float> rope_freq_factors;  // (n_rot/2) llama3 scaling: theta_i /= factor[i]; empty: none
  bool qkv_bias = false;
  bool tied_embeddings = false;
};

// A 1-D or 2-D weight in the file's layout: ne0 elements per row (innermost), ne1 rows.
struct Tensor {
  std::string name;
  TensorType type = TensorType::kF32;
  int64_t ne0 = 0;
  int64_t ne1 = 1;
  const uint8_t* data = nullptr;
  size_t row_bytes = 0;
  bool present() const noexcept { return data != nullptr; }
};

struct LayerWeights {
  Tensor attn_norm;  // (n_embd)
  Tensor wq;         // (n_head * head_dim rows, n_embd)
  Tensor wk;         // (n_head_kv * head_dim rows, n_embd)
  Tensor wv;         // (n_head_kv * head_dim rows, n_embd)
  Tensor bq, bk, bv; // biases (rows of the matching matrix), only with qkv_bias
  Tensor wo;         // (n_embd rows, n_head * head_dim)
  Tensor ffn_norm;   // (n_embd)
  Tensor w_gate;     // (n_ff rows, n_embd)
  Tensor w_up;       // (n_ff rows, n_embd)
  Tensor w_down;     // (n_embd rows, n_ff)
};

struct LoadedModel {
  std::string path;
  std::string format;  // "gguf" | "safetensors"
  std::string name;
  ModelConfig config;
  Tensor tok_embd;     // (n_vocab rows, n_embd)
  Tensor output_norm;  // (n_embd)
  Tensor output;       // (n_vocab rows, n_embd); == tok_embd when tied
  std::vector<LayerWeights> layers;
  std::string weight_type;  // the type of most matrix weights
  uint64_t n_params = 0;
  uint64_t file_bytes = 0;

  // Metadata strings (GGUF string keys, or config.json / tokenizer_config.json string values).
  std::map<std::string, std::string> strings;
  // For GGUF: the file path Vocabulary::from_gguf reads; for safetensors: tokenizer.json's path.
  std::string tokenizer_path;

  // Ownership of the mapped files and any converted data.
  std::vector<std::unique_ptr<gguf::MappedFile>> files;
  std::vector<std::vector<float>> owned;
};

// Loads `path`: a .gguf file, or a folder holding config.json and *.safetensors. Throws ModelError.
std::unique_ptr<LoadedModel> load_model(const std::string& path);

// Computes llama3 rope frequency factors (as llama.cpp's converter stores them in rope_freqs.weight).
std::vector<float> llama3_rope_factors(int n_rot, float base, float factor, float low_freq_factor,
                                       float high_freq_factor, float original_context);

}  // namespace stencil::runtime
