// GGUF and safetensors loading. Both formats end up as a table of named tensors (views into the
// mapped files) plus a ModelConfig; resolve_weights() then maps names to roles and checks every
// shape against the config, so a wrong shape is reported with the tensor's name before any compute.
#include "runtime/model_loader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "stencil/errors.h"

namespace stencil::runtime {
namespace {

namespace fs = std::filesystem;

// Named limits against corrupt files.
constexpr int64_t kMaxDim = int64_t{1} << 32;  // any single dimension
constexpr int32_t kMaxLayers = 4096;
constexpr int32_t kMaxHeads = 4096;

// A tensor as found in a file, before role resolution.
struct RawTensor {
  Tensor t;
  std::vector<int64_t> dims;  // innermost first
  std::string where;          // "<file>: tensor NAME (tensor info at offset N)"
};
using TensorTable = std::unordered_map<std::string, RawTensor>;

[[noreturn]] void fail(const std::string& message, const std::string& location) { throw ModelError(message, location); }

std::string shape_str(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// ---------------------------------------------------------------------------------------------
// Role resolution (shared by both formats).

struct Names {
  // Functions from layer index to the file's tensor name.
  std::string tok_embd, output_norm, output;
  std::string (*layer)(int layer, const char* role);
};

std::string gguf_layer_name(int i, const char* role) { return "blk." + std::to_string(i) + "." + role; }

std::string hf_layer_name(int i, const char* role) {
  static const std::unordered_map<std::string, std::string> map = {
      {"attn_norm.weight", "input_layernorm.weight"},   {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},     {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},         {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},         {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"}, {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_up.weight", "mlp.up_proj.weight"},          {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  return "model.layers." + std::to_string(i) + "." + map.at(role);
}

struct Resolver {
  TensorTable& table;
  const std::string& source;
  uint64_t n_params = 0;
  std::map<std::string, uint64_t> type_bytes;  // bytes per type among matrices, for weight_type

  Tensor get(const std::string& name, int64_t ne0, int64_t ne1, bool required = true) {
    auto it = table.find(name);
    if (it == table.end()) {
      if (!required) return {};
      fail("missing tensor " + name, source + ": tensor " + name);
    }
    RawTensor& r = it->second;
    if (!is_supported_type(static_cast<uint32_t>(r.t.type))) {
      fail("tensor " + name + " has unsupported type " + type_name(static_cast<uint32_t>(r.t.type)), r.where);
    }
    const bool is_vector = ne1 == 0;
    const std::vector<int64_t> want = is_vector ? std::vector<int64_t>{ne0} : std::vector<int64_t>{ne0, ne1};
    std::vector<int64_t> got = r.dims;
    while (got.size() > want.size() && got.back() == 1) got.pop_back();
    if (got != want) {
      fail("tensor " + name + " has shape " + shape_str(r.dims) + ", expected " + shape_str(want), r.where);
    }
    if (is_vector && r.t.type != TensorType::kF32 && r.t.type != TensorType::kF16 && r.t.type != TensorType::kBF16) {
      fail("tensor " + name + ": 1-D tensors must be F32, F16 or BF16, found " +
               type_name(static_cast<uint32_t>(r.t.type)), r.where);
    }
    n_params += static_cast<uint64_t>(ne0) * std::max<int64_t>(ne1, 1);
    if (!is_vector) type_bytes[type_name(static_cast<uint32_t>(r.t.type))] += r.t.row_bytes * ne1;
    return r.t;
  }
};

// Checks hyperparameters for sanity before they size anything.
void check_config(const ModelConfig& c, const std::string& source) {
  auto bad = [&](const std::string& what) { fail("bad hyperparameters: " + what, source); };
  if (c.n_layer <= 0 || c.n_layer > kMaxLayers) bad("block_count " + std::to_string(c.n_layer));
  if (c.n_embd <= 0 || c.n_embd > kMaxDim) bad("embedding_length " + std::to_string(c.n_embd));
  if (c.n_ff <= 0) bad("feed_forward_length " + std::to_string(c.n_ff));
  if (c.n_head <= 0 || c.n_head > kMaxHeads) bad("head_count " + std::to_string(c.n_head));
  if (c.n_head_kv <= 0 || c.n_head % c.n_head_kv != 0) {
    bad("head_count_kv " + std::to_string(c.n_head_kv) + " does not divide head_count " + std::to_string(c.n_head));
  }
  if (c.head_dim <= 0 || c.head_dim % 2 != 0) bad("head dimension " + std::to_string(c.head_dim));
  if (c.n_rot <= 0 || c.n_rot > c.head_dim || c.n_rot % 2 != 0) bad("rope.dimension_count " + std::to_string(c.n_rot));
  if (!(c.rms_eps > 0) || !(c.rope_base > 0)) bad("rms epsilon or rope base not positive");
  if (!c.rope_freq_factors.empty() && static_cast<int>(c.rope_freq_factors.size()) != c.n_rot / 2) {
    bad("rope_freqs has " + std::to_string(c.rope_freq_factors.size()) + " entries, expected n_rot/2 = " +
        std::to_string(c.n_rot / 2));
  }
}

void resolve_weights(LoadedModel& m, TensorTable& table, const Names& names) {
  ModelConfig& c = m.config;
  Resolver r{table, m.path};
  const int64_t d = c.n_embd, q_rows = int64_t{c.n_head} * c.head_dim, kv_rows = int64_t{c.n_head_kv} * c.head_dim;
  // The vocabulary size comes from the embedding table when the metadata does not say.
  if (c.n_vocab <= 0) {
    auto it = table.find(names.tok_embd);
    if (it != table.end() && it->second.dims.size() >= 2) c.n_vocab = static_cast<int32_t>(it->second.dims[1]);
  }
  if (c.n_vocab <= 0) fail("cannot tell the vocabulary size", m.path + ": tensor " + names.tok_embd);
  m.tok_embd = r.get(names.tok_embd, d, c.n_vocab);
  m.output_norm = r.get(names.output_norm, d, 0);
  m.output = r.get(names.output, d, c.n_vocab, /*required=*/false);
  c.tied_embeddings = !m.output.present();
  if (c.tied_embeddings) m.output = m.tok_embd;
  m.layers.resize(c.n_layer);
  for (int i = 0; i < c.n_layer; ++i) {
    LayerWeights& L = m.layers[i];
    auto n = [&](const char* role) { return names.layer(i, role); };
    L.attn_norm = r.get(n("attn_norm.weight"), d, 0);
    L.wq = r.get(n("attn_q.weight"), d, q_rows);
    L.wk = r.get(n("attn_k.weight"), d, kv_rows);
    L.wv = r.get(n("attn_v.weight"), d, kv_rows);
    L.bq = r.get(n("attn_q.bias"), q_rows, 0, c.qkv_bias);
    L.bk = r.get(n("attn_k.bias"), kv_rows, 0, c.qkv_bias);
    L.bv = r.get(n("attn_v.bias"), kv_rows, 0, c.qkv_bias);
    if (i == 0 && L.bq.present()) c.qkv_bias = true;  // llama files may carry biases too
    if (c.qkv_bias && !(L.bq.present() && L.bk.present() && L.bv.present())) {
      fail("missing q/k/v bias tensors", m.path + ": tensor " + n("attn_q.bias"));
    }
    L.wo = r.get(n("attn_output.weight"), q_rows, d);
    L.ffn_norm = r.get(n("ffn_norm.weight"), d, 0);
    L.w_gate = r.get(n("ffn_gate.weight"), d, c.n_ff);
    L.w_up = r.get(n("ffn_up.weight"), d, c.n_ff);
    L.w_down = r.get(n("ffn_down.weight"), c.n_ff, d);
  }
  m.n_params = r.n_params;
  uint64_t best = 0;
  for (const auto& [type, bytes] : r.type_bytes) {
    if (bytes > best) best = bytes, m.weight_type = type;
  }
}

// ---------------------------------------------------------------------------------------------
// GGUF

int32_t gguf_int(const gguf::GgufMetadata& meta, const std::string& key, std::optional<int64_t> fallback) {
  std::optional<int64_t> v = meta.get_int(key);
  if (!v) {
    if (!fallback) fail("missing metadata key " + key, meta.source() + ": key " + key);
    return static_cast<int32_t>(*fallback);
  }
  if (*v < 0 || *v > kMaxDim) {
    meta.fail("value " + std::to_string(*v) + " is out of range", meta.find(key)->offset, key);
  }
  return static_cast<int32_t>(*v);
}

float gguf_float(const gguf::GgufMetadata& meta, const std::string& key, std::optional<float> fallback) {
  const gguf::Value* v = meta.find(key);
  if (!v) {
    if (!fallback) fail("missing metadata key " + key, meta.source() + ": key " + key);
    return *fallback;
  }
  if (v->type == gguf::ValueType::kFloat32 || v->type == gguf::ValueType::kFloat64) return static_cast<float>(v->f);
  if (v->is_integer()) return static_cast<float>(v->type == gguf::ValueType::kInt8 || v->type == gguf::ValueType::kInt16 ||
                                                         v->type == gguf::ValueType::kInt32 || v->type == gguf::ValueType::kInt64
                                                     ? static_cast<double>(v->i)
                                                     : static_cast<double>(v->u));
  meta.fail("expected a number, found " + std::string(gguf::value_type_name(v->type)), v->offset, key);
}

void load_gguf(LoadedModel& m) {
  auto file = std::make_unique<gguf::MappedFile>(m.path, gguf::ErrorKind::kModel);
  const std::span<const uint8_t> bytes = file->bytes();
  gguf::GgufMetadata meta = gguf::GgufMetadata::parse(bytes, m.path, gguf::ErrorKind::kModel);
  m.file_bytes = bytes.size();

  for (const auto& [key, value] : meta.entries()) {
    if (value.type == gguf::ValueType::kString) m.strings.emplace(std::string(key), std::string(value.str));
  }
  const std::optional<std::string_view> arch_sv = meta.get_string("general.architecture");
  if (!arch_sv) fail("missing metadata key general.architecture", m.path + ": key general.architecture");
  const std::string arch(*arch_sv);
  ModelConfig& c = m.config;
  c.architecture = arch;
  if (arch == "llama") {
    c.rope_style = RopeStyle::kNormal;
  } else if (arch == "qwen2") {
    c.rope_style = RopeStyle::kNeox;
    c.qkv_bias = true;
  } else {
    meta.fail("unsupported architecture \"" + arch + "\" (supported: llama, qwen2)",
              meta.find("general.architecture")->offset, "general.architecture");
  }
  m.name = m.strings.count("general.name") ? m.strings["general.name"] : fs::path(m.path).stem().string();
  const std::string p = arch + ".";
  c.n_layer = gguf_int(meta, p + "block_count", std::nullopt);
  c.n_embd = gguf_int(meta, p + "embedding_length", std::nullopt);
  c.n_ff = gguf_int(meta, p + "feed_forward_length", std::nullopt);
  c.n_head = gguf_int(meta, p + "attention.head_count", std::nullopt);
  c.n_head_kv = gguf_int(meta, p + "attention.head_count_kv", c.n_head);
  c.head_dim = gguf_int(meta, p + "attention.key_length", c.n_head > 0 ? c.n_embd / c.n_head : 0);
  c.n_rot = gguf_int(meta, p + "rope.dimension_count", c.head_dim);
  c.n_ctx_train = gguf_int(meta, p + "context_length", 2048);
  c.n_vocab = gguf_int(meta, p + "vocab_size", 0);
  if (c.n_vocab == 0) {
    if (const gguf::Value* toks = meta.get_string_array("tokenizer.ggml.tokens")) c.n_vocab = static_cast<int32_t>(toks->count);
  }
  c.rms_eps = gguf_float(meta, p + "attention.layer_norm_rms_epsilon", 1e-5f);
  c.rope_base = gguf_float(meta, p + "rope.freq_base", 10000.0f);
  if (std::optional<std::string_view> st = meta.get_string(p + "rope.scaling.type")) {
    if (*st == "linear") {
      const float f = gguf_float(meta, p + "rope.scaling.factor", 1.0f);
      if (!(f > 0)) meta.fail("rope scaling factor must be positive", meta.find(p + "rope.scaling.factor")->offset, p + "rope.scaling.factor");
      c.rope_freq_scale = 1.0f / f;
    } else if (*st != "none" && *st != "llama3") {  // llama3 scaling arrives as the rope_freqs tensor
      meta.fail("unsupported rope scaling type \"" + std::string(*st) + "\"", meta.find(p + "rope.scaling.type")->offset,
                p + "rope.scaling.type");
    }
  } else if (meta.find(p + "rope.scale_linear")) {
    c.rope_freq_scale = 1.0f / gguf_float(meta, p + "rope.scale_linear", 1.0f);
  }

  // Tensor table with data bounds checked.
  TensorTable table;
  for (const gguf::TensorInfo& ti : meta.tensors()) {
    RawTensor r;
    r.t.name = std::string(ti.name);
    r.where = m.path + ": tensor " + r.t.name + " (tensor info at offset " + std::to_string(ti.info_offset) + ")";
    r.t.type = static_cast<TensorType>(ti.type);
    for (uint64_t dim : ti.dims) {
      if (dim > static_cast<uint64_t>(kMaxDim)) fail("tensor " + r.t.name + " has a dimension " + std::to_string(dim), r.where);
      r.dims.push_back(static_cast<int64_t>(dim));
    }
    if (r.dims.empty()) r.dims.push_back(1);
    r.t.ne0 = r.dims[0];
    r.t.ne1 = 1;
    for (size_t k = 1; k < r.dims.size(); ++k) {
      if (r.dims[k] != 0 && r.t.ne1 > kMaxDim / r.dims[k]) fail("tensor " + r.t.name + " is too large", r.where);
      r.t.ne1 *= r.dims[k];
    }
    if (is_supported_type(ti.type)) {
      const int64_t rb = row_bytes(r.t.type, r.t.ne0);
      if (rb < 0) {
        fail("tensor " + r.t.name + ": row length " + std::to_string(r.t.ne0) + " is not a multiple of the " +
                 type_name(ti.type) + " block size " + std::to_string(type_block_elems(r.t.type)),
             r.where);
      }
      r.t.row_bytes = static_cast<size_t>(rb);
      const uint64_t nbytes = static_cast<uint64_t>(rb) * static_cast<uint64_t>(r.t.ne1);
      const uint64_t begin = meta.data_offset() + ti.offset;
      if (ti.offset % meta.alignment() != 0) {
        fail("tensor " + r.t.name + " data offset " + std::to_string(ti.offset) + " is not a multiple of the alignment " +
                 std::to_string(meta.alignment()), r.where);
      }
      if (ti.offset > bytes.size() || begin > bytes.size() || nbytes > bytes.size() - begin) {
        fail("tensor " + r.t.name + " data [" + std::to_string(begin) + ", " + std::to_string(begin + nbytes) +
                 ") lies beyond the end of the file (" + std::to_string(bytes.size()) + " bytes): file truncated?",
             r.where);
      }
      r.t.data = bytes.data() + begin;
    }
    table[r.t.name] = std::move(r);
  }

  // llama3 rope scaling: per-frequency divisors stored as a tensor.
  if (auto it = table.find("rope_freqs.weight"); it != table.end()) {
    const RawTensor& rf = it->second;
    if (rf.t.type != TensorType::kF32 || rf.t.ne1 != 1 || !rf.t.data) fail("rope_freqs.weight must be a 1-D F32 tensor", rf.where);
    const float* f = reinterpret_cast<const float*>(rf.t.data);
    c.rope_freq_factors.assign(f, f + rf.t.ne0);
  }
  check_config(c, m.path);
  resolve_weights(m, table, Names{"token_embd.weight", "output_norm.weight", "output.weight", gguf_layer_name});
  m.tokenizer_path = m.path;
  m.files.push_back(std::move(file));
}

// ---------------------------------------------------------------------------------------------
// safetensors

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail("cannot open file", p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void load_safetensors_file(LoadedModel& m, const fs::path& p, TensorTable& table) {
  auto file = std::make_unique<gguf::MappedFile>(p.string(), gguf::ErrorKind::kModel);
  const std::span<const uint8_t> bytes = file->bytes();
  const std::string src = p.string();
  if (bytes.size() < 8) fail("file is truncated: no header length", src + ": offset 0");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > bytes.size() - 8) {
    fail("header length " + std::to_string(n) + " exceeds the file (" + std::to_string(bytes.size()) + " bytes)", src + ": offset 0");
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + n);
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("header is not valid JSON: ") + e.what(), src + ": offset 8");
  }
  if (!header.is_object()) fail("header is not a JSON object", src + ": offset 8");
  const uint64_t data_start = 8 + n;
  const uint64_t data_size = bytes.size() - data_start;
  m.file_bytes += bytes.size();
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    RawTensor r;
    r.t.name = name;
    r.where = src + ": tensor " + name;
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets") ||
        !info["dtype"].is_string() || !info["shape"].is_array() || !info["data_offsets"].is_array() ||
        info["data_offsets"].size() != 2) {
      fail("malformed header entry", r.where);
    }
    const std::string dtype = info["dtype"];
    if (dtype == "F32") r.t.type = TensorType::kF32;
    else if (dtype == "F16") r.t.type = TensorType::kF16;
    else if (dtype == "BF16") r.t.type = TensorType::kBF16;
    else {
      table[name] = std::move(r);  // unusable unless never needed; type is checked when resolved
      table[name].t.type = static_cast<TensorType>(0xffff);
      continue;
    }
    // safetensors shapes are outermost first; ours innermost first.
    for (const auto& dim : info["shape"]) {
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > static_cast<uint64_t>(kMaxDim)) fail("bad shape", r.where);
      r.dims.insert(r.dims.begin(), dim.get<int64_t>());
    }
    if (r.dims.empty()) r.dims.push_back(1);
    r.t.ne0 = r.dims[0];
    r.t.ne1 = 1;
    for (size_t k = 1; k < r.dims.size(); ++k) {
      if (r.dims[k] != 0 && r.t.ne1 > kMaxDim / r.dims[k]) fail("tensor is too large", r.where);
      r.t.ne1 *= r.dims[k];
    }
    r.t.row_bytes = static_cast<size_t>(row_bytes(r.t.type, r.t.ne0));
    const auto& off = info["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) fail("bad data_offsets", r.where);
    const uint64_t b = off[0], e = off[1];
    const uint64_t need = static_cast<uint64_t>(r.t.row_bytes) * static_cast<uint64_t>(r.t.ne1);
    if (b > e || e > data_size || e - b != need) {
      fail("data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + ") do not hold " + std::to_string(need) +
               " bytes inside the data section (" + std::to_string(data_size) + " bytes)",
           r.where);
    }
    r.t.data = bytes.data() + data_start + b;
    table[name] = std::move(r);
  }
  m.files.push_back(std::move(file));
}

void load_safetensors_dir(LoadedModel& m) {
  const fs::path dir(m.path);
  const fs::path cfg_path = dir / "config.json";
  if (!fs::exists(cfg_path)) fail("no config.json in the model folder", m.path);
  nlohmann::json cfg;
  try {
    cfg = nlohmann::json::parse(read_text(cfg_path));
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("config.json is not valid JSON: ") + e.what(), cfg_path.string());
  }
  const std::string src = cfg_path.string();
  auto num = [&](const char* key, std::optional<double> fallback) -> double {
    if (!cfg.contains(key) || cfg[key].is_null()) {
      if (!fallback) fail(std::string("missing key ") + key, src + ": key " + key);
      return *fallback;
    }
    if (!cfg[key].is_number()) fail(std::string("key ") + key + " is not a number", src + ": key " + key);
    return cfg[key].get<double>();
  };
  for (const auto& [k, v] : cfg.items()) {
    if (v.is_string()) m.strings[k] = v.get<std::string>();
  }
  const std::string model_type = cfg.value("model_type", std::string("llama"));
  ModelConfig& c = m.config;
  c.rope_style = RopeStyle::kNeox;  // Hugging Face's rotate_half layout
  if (model_type == "llama" || model_type == "mistral") {
    c.architecture = "llama";
    c.qkv_bias = cfg.value("attention_bias", false);
  } else if (model_type == "qwen2") {
    c.architecture = "qwen2";
    c.qkv_bias = true;
  } else {
    fail("unsupported model_type \"" + model_type + "\" (supported: llama, mistral, qwen2)", src + ": key model_type");
  }
  auto to_i32 = [&](double v, const char* key) {
    if (!(v >= 0 && v <= static_cast<double>(kMaxDim)) || v != std::floor(v)) fail("bad value", src + ": key " + key);
    return static_cast<int32_t>(v);
  };
  c.n_layer = to_i32(num("num_hidden_layers", std::nullopt), "num_hidden_layers");
  c.n_embd = to_i32(num("hidden_size", std::nullopt), "hidden_size");
  c.n_ff = to_i32(num("intermediate_size", std::nullopt), "intermediate_size");
  c.n_head = to_i32(num("num_attention_heads", std::nullopt), "num_attention_heads");
  c.n_head_kv = to_i32(num("num_key_value_heads", c.n_head), "num_key_value_heads");
  c.head_dim = to_i32(num("head_dim", c.n_head > 0 ? c.n_embd / c.n_head : 0), "head_dim");
  c.n_rot = c.head_dim;
  c.n_vocab = to_i32(num("vocab_size", 0), "vocab_size");
  c.n_ctx_train = to_i32(num("max_position_embeddings", 2048), "max_position_embeddings");
  c.rms_eps = static_cast<float>(num("rms_norm_eps", 1e-6));
  c.rope_base = static_cast<float>(num("rope_theta", 10000.0));
  if (cfg.contains("rope_scaling") && cfg["rope_scaling"].is_object()) {
    const auto& rs = cfg["rope_scaling"];
    const std::string type = rs.value("rope_type", rs.value("type", std::string()));
    if (type == "llama3") {
      c.rope_freq_factors = llama3_rope_factors(c.n_rot, c.rope_base, rs.value("factor", 8.0), rs.value("low_freq_factor", 1.0),
                                                rs.value("high_freq_factor", 4.0),
                                                rs.value("original_max_position_embeddings", 8192.0));
    } else if (type == "linear") {
      c.rope_freq_scale = static_cast<float>(1.0 / rs.value("factor", 1.0));
    } else if (!type.empty() && type != "default") {
      fail("unsupported rope_scaling type \"" + type + "\"", src + ": key rope_scaling");
    }
  }
  m.name = dir.filename().string();
  if (m.name.empty()) m.name = dir.parent_path().filename().string();

  std::vector<fs::path> shards;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".safetensors") shards.push_back(e.path());
  }
  std::sort(shards.begin(), shards.end());
  if (shards.empty()) fail("no *.safetensors files in the model folder", m.path);
  TensorTable table;
  for (const fs::path& s : shards) load_safetensors_file(m, s, table);
  check_config(c, src);
  const bool tie = cfg.value("tie_word_embeddings", false);
  if (tie) table.erase("lm_head.weight");
  resolve_weights(m, table, Names{"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", hf_layer_name});
  if (fs::exists(dir / "tokenizer.json")) m.tokenizer_path = (dir / "tokenizer.json").string();
  if (fs::exists(dir / "tokenizer_config.json")) {
    try {
      nlohmann::json tc = nlohmann::json::parse(read_text(dir / "tokenizer_config.json"));
      if (tc.contains("chat_template") && tc["chat_template"].is_string()) {
        m.strings["tokenizer.chat_template"] = tc["chat_template"].get<std::string>();
      }
    } catch (const nlohmann::json::exception&) {
      // A broken tokenizer_config.json only loses the chat template; the weights are fine.
    }
  }
}

}  // namespace

std::vector<float> llama3_rope_factors(int n_rot, float base, float factor, float low_freq_factor, float high_freq_factor,
                                       float original_context) {
  // As Meta's reference (and llama.cpp's converter): wavelengths shorter than the high-frequency
  // bound keep their frequency, longer than the low-frequency bound are divided by `factor`, and
  // the band between is interpolated smoothly.
  std::vector<float> out;
  const double low_wavelen = original_context / low_freq_factor;
  const double high_wavelen = original_context / high_freq_factor;
  for (int i = 0; i < n_rot; i += 2) {
    const double freq = 1.0 / std::pow(static_cast<double>(base), static_cast<double>(i) / n_rot);
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(factor);
    } else {
      const double smooth = (original_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
      out.push_back(static_cast<float>(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return out;
}

std::unique_ptr<LoadedModel> load_model(const std::string& path) {
  auto m = std::make_unique<LoadedModel>();
  m->path = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    m->format = "safetensors";
    load_safetensors_dir(*m);
  } else {
    if (!fs::exists(path, ec)) fail("no such file", path);
    m->format = "gguf";
    load_gguf(*m);
  }
  return m;
}

}  // namespace stencil::runtime
