// GGUF loader of stencil::Tokenizer: tokenizer.ggml.* metadata, read with the shared GGUF header
// reader (src/vocab/gguf_metadata.h; no second parser here).
//
// tokenizer.ggml.model "gpt2": byte-level BPE by merge rank (tokens, token_type, merges, pre);
// the pre-tokenizer regexes come from the `pre` name, as llama.cpp's llama-vocab.cpp maps them
// (the names listed in kPreTokenizers; an unknown name is an error rather than a guess).
// tokenizer.ggml.model "llama": llama.cpp's SentencePiece tokenizer by piece score (tokens, scores,
// token_type; add_space_prefix, default on). Other models (bert, t5, rwkv) are not supported.
#include <algorithm>
#include <string>

#include "runtime/tokenizer_impl.h"
#include "stencil/errors.h"
#include "vocab/gguf_metadata.h"

namespace stencil {
namespace rd = runtime::detail;
namespace {

constexpr std::string_view kMarker = "\xE2\x96\x81";

constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kO200kRegex =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kTekkenRegex =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kDeepseekV3Regexes[] = {
    R"(\p{N}{1,3})",
    R"([一-龥぀-ゟ゠-ヿ]+)",
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

struct PreTokenizerSpec {
  std::string_view names;  // space-separated tokenizer.ggml.pre values
  std::vector<std::string_view> regexes;
  bool ignore_merges;
};

const std::vector<PreTokenizerSpec>& pre_tokenizers() {
  static const std::vector<PreTokenizerSpec> specs = {
      {"default gpt-2 gpt2 phi-2 jina-es jina-de jina-v2-es jina-v2-de", {rd::kGpt2Regex}, false},
      {"llama3 llama-bpe llama-v3 falcon3 pixtral", {kLlama3Regex}, true},
      {"qwen2 deepseek-r1-qwen", {kQwen2Regex}, false},
      {"smollm starcoder refact command-r codeshell exaone minerva-7b", {R"(\p{N})", rd::kGpt2Regex}, false},
      {"gpt-4o llama4", {kO200kRegex}, false},
      {"tekken", {kTekkenRegex}, false},
      {"deepseek-v3", {kDeepseekV3Regexes[0], kDeepseekV3Regexes[1], kDeepseekV3Regexes[2]}, false},
  };
  return specs;
}

bool name_in(std::string_view names, std::string_view name) {
  size_t pos = 0;
  while (pos < names.size()) {
    size_t end = names.find(' ', pos);
    if (end == std::string_view::npos) end = names.size();
    if (names.substr(pos, end - pos) == name) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const std::string& path) {
  gguf::MappedFile file(path, gguf::ErrorKind::kVocabulary);
  const gguf::GgufMetadata meta = gguf::GgufMetadata::parse(file.bytes(), path, gguf::ErrorKind::kVocabulary);
  auto fail = [&](const std::string& message, std::string_view key) -> void {
    const gguf::Value* v = meta.find(key);
    meta.fail(message, v ? v->offset : 0, key);
  };
  auto t = std::make_shared<Impl>();
  const std::string model(meta.get_string("tokenizer.ggml.model").value_or(""));
  if (model == "gpt2") {
    t->byte_level = true;
    t->algorithm = Impl::Algorithm::kRanks;
    t->family = "byte_level_bpe";
  } else if (model == "llama") {
    t->byte_level = false;
    t->algorithm = Impl::Algorithm::kScores;
    t->family = "sentencepiece";
  } else {
    fail(model.empty() ? "no tokenizer in this file" : "unsupported tokenizer model \"" + model + "\" (gpt2, llama)",
         "tokenizer.ggml.model");
  }
  const gguf::Value* tokens = meta.get_string_array("tokenizer.ggml.tokens");
  if (tokens == nullptr || tokens->count == 0) fail("missing or empty", "tokenizer.ggml.tokens");
  const gguf::Value* types = meta.get_int_array("tokenizer.ggml.token_type");
  const gguf::Value* scores = meta.find("tokenizer.ggml.scores");
  const size_t n = tokens->strings.size();
  if (n > (1u << 24)) fail("too many tokens", "tokenizer.ggml.tokens");
  if (types != nullptr && types->count != n) fail("length differs from tokenizer.ggml.tokens", "tokenizer.ggml.token_type");
  if (scores != nullptr &&
      (scores->type != gguf::ValueType::kArray ||
       (scores->elem_type != gguf::ValueType::kFloat32 && scores->elem_type != gguf::ValueType::kFloat64) ||
       scores->count != n)) {
    fail("not a float array as long as tokenizer.ggml.tokens", "tokenizer.ggml.scores");
  }
  if (t->algorithm == Impl::Algorithm::kScores && scores == nullptr) fail("missing", "tokenizer.ggml.scores");

  t->text.resize(n);
  t->bytes.resize(n);
  t->attrs.resize(n);
  t->scores.assign(n, 0.0f);
  t->byte_ids.fill(-1);
  t->piece_to_id.reserve(n);
  t->text_to_id.reserve(n);
  std::string decoded;
  for (size_t i = 0; i < n; ++i) {
    const auto id = static_cast<int32_t>(i);
    const std::string_view s = tokens->strings[i];
    t->text[i] = std::string(s);
    if (scores != nullptr) t->scores[i] = static_cast<float>(scores->float_at(i));
    // llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    const int64_t type = types != nullptr ? types->int_at(i) : 1;
    TokenAttr attr = TokenAttr::kNormal;
    switch (type) {
      case 2: attr = TokenAttr::kUnknown; break;
      case 3: attr = TokenAttr::kControl; break;
      case 4: attr = TokenAttr::kUserDefined; break;
      case 5: attr = TokenAttr::kUnused; break;
      case 6: attr = TokenAttr::kByte; break;
      default: break;
    }
    t->attrs[i] = attr;
    if (t->byte_level) {
      if (attr == TokenAttr::kNormal || attr == TokenAttr::kByte) {
        if (!rd::byte_level_decode(s, decoded)) decoded = std::string(s);
        t->bytes[i] = decoded;
        t->piece_to_id.emplace(decoded, id);
        if (decoded.size() == 1) t->byte_ids[static_cast<unsigned char>(decoded[0])] = id;
      } else if (attr == TokenAttr::kUserDefined) {
        t->bytes[i] = std::string(s);
        t->piece_to_id.emplace(std::string(s), id);
      }
    } else {
      unsigned int byte = 0;
      if (attr == TokenAttr::kByte && s.size() == 6 && s.substr(0, 3) == "<0x" && s[5] == '>' &&
          std::sscanf(std::string(s.substr(3, 2)).c_str(), "%2X", &byte) == 1) {
        t->bytes[i].assign(1, static_cast<char>(byte));
        t->byte_ids[byte & 0xFF] = id;
      } else if (attr == TokenAttr::kNormal || attr == TokenAttr::kUserDefined) {
        std::string b;
        for (size_t k = 0; k < s.size();) {
          if (s.substr(k, kMarker.size()) == kMarker) {
            b.push_back(' ');
            k += kMarker.size();
          } else {
            b.push_back(s[k++]);
          }
        }
        t->bytes[i] = std::move(b);
      }
      // llama.cpp's SPM looks every token up by its text, whatever its type.
      t->piece_to_id.emplace(std::string(s), id);
    }
    if (attr != TokenAttr::kUnused) t->text_to_id.emplace(std::string(s), id);
    if ((attr == TokenAttr::kControl || attr == TokenAttr::kUserDefined || attr == TokenAttr::kUnknown) && !s.empty()) {
      t->specials.push_back({std::string(s), id, attr != TokenAttr::kUserDefined, false, false});
    }
  }
  t->index_specials();

  if (t->byte_level) {
    const gguf::Value* merges = meta.get_string_array("tokenizer.ggml.merges");
    if (merges == nullptr) fail("missing", "tokenizer.ggml.merges");
    t->merges.reserve(merges->strings.size());
    std::string joined;  // merges are resolved by the file's spelling, as llama.cpp looks them up
    for (size_t r = 0; r < merges->strings.size(); ++r) {
      const std::string_view m = merges->strings[r];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string_view::npos) fail("merge " + std::to_string(r) + " has no space", "tokenizer.ggml.merges");
      joined.assign(m.substr(0, sp)).append(m.substr(sp + 1));
      const auto a = t->text_to_id.find(m.substr(0, sp)), b = t->text_to_id.find(m.substr(sp + 1)),
                 c = t->text_to_id.find(joined);
      if (a == t->text_to_id.end() || b == t->text_to_id.end() || c == t->text_to_id.end()) continue;
      const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(a->second)) << 32) | static_cast<uint32_t>(b->second);
      t->merges.emplace(key, Impl::Merge{static_cast<int32_t>(r), c->second});
    }
    const std::string pre(meta.get_string("tokenizer.ggml.pre").value_or("default"));
    const PreTokenizerSpec* spec = nullptr;
    for (const auto& s : pre_tokenizers()) {
      if (name_in(s.names, pre)) spec = &s;
    }
    if (spec == nullptr) fail("unsupported pre-tokenizer \"" + pre + "\"", "tokenizer.ggml.pre");
    for (const std::string_view re : spec->regexes) t->pre.add_regex(re, rd::SplitBehavior::kIsolated, false);
    t->ignore_merges = spec->ignore_merges;
  } else {
    const gguf::Value* prefix = meta.find("tokenizer.ggml.add_space_prefix");
    t->add_space_prefix = prefix == nullptr || prefix->u != 0;
  }

  auto id_key = [&](std::string_view key) -> int32_t {
    const auto v = meta.get_int(key);
    if (!v) return -1;
    if (*v < 0 || *v >= static_cast<int64_t>(n)) fail("id out of range", key);
    return static_cast<int32_t>(*v);
  };
  t->bos = id_key("tokenizer.ggml.bos_token_id");
  t->unk_id = id_key("tokenizer.ggml.unknown_token_id");
  for (const std::string_view key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
    const int32_t id = id_key(key);
    if (id >= 0 && std::find(t->eos.begin(), t->eos.end(), id) == t->eos.end()) t->eos.push_back(id);
  }
  const gguf::Value* add_bos = meta.find("tokenizer.ggml.add_bos_token");
  t->add_bos = (add_bos != nullptr ? add_bos->u != 0 : !t->byte_level) && t->bos >= 0;
  const gguf::Value* add_eos = meta.find("tokenizer.ggml.add_eos_token");
  t->add_eos = add_eos != nullptr && add_eos->u != 0;
  t->chat_template = std::string(meta.get_string("tokenizer.chat_template").value_or(""));
  rd::add_well_known_eos(*t);
  return Tokenizer(std::move(t));
}

}  // namespace stencil
