// Loaders of stencil::Tokenizer: Hugging Face tokenizer.json (+ tokenizer_config.json).
// The GGUF loader is in tokenizer_load_gguf.cc.
//
// Supported tokenizer.json content: model BPE (merges as "a b" strings or [a, b] pairs, byte_fallback,
// unk_token, fuse_unk, ignore_merges); normalizers NFC (accepted and not applied, see tokenizer.cc),
// Prepend, Replace of a string, Sequence; pre-tokenizers ByteLevel, Split (regex or string), Digits,
// Metaspace, Sequence; post-processor TemplateProcessing (to learn add_bos). Anything else (WordPiece,
// Unigram, other normalizers) is a VocabularyError naming the key: silently tokenizing differently
// from the model would be worse.
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "runtime/tokenizer_impl.h"
#include "stencil/errors.h"

namespace stencil {
namespace rd = runtime::detail;
namespace {

using nlohmann::json;
constexpr std::string_view kMarker = "\xE2\x96\x81";

[[noreturn]] void fail(const std::string& what, const std::string& key) { throw VocabularyError(what, key); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw VocabularyError("cannot open file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

rd::SplitBehavior parse_behavior(const json& j, const std::string& key) {
  const std::string b = j.value("behavior", std::string("Isolated"));
  if (b == "Isolated") return rd::SplitBehavior::kIsolated;
  if (b == "Removed") return rd::SplitBehavior::kRemoved;
  if (b == "MergedWithPrevious") return rd::SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return rd::SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return rd::SplitBehavior::kContiguous;
  fail("unknown Split behavior \"" + b + "\"", key);
}

void add_normalizer(Tokenizer::Impl& t, const json& n, const std::string& key) {
  if (n.is_null()) return;
  const std::string type = n.value("type", std::string());
  if (type == "Sequence") {
    const json& list = n.at("normalizers");
    for (size_t i = 0; i < list.size(); ++i) add_normalizer(t, list[i], key + "/normalizers/" + std::to_string(i));
  } else if (type == "NFC") {
    // Not applied: llama.cpp (the reference) does not normalise either. See tokenizer.cc.
  } else if (type == "Prepend") {
    if (n.value("prepend", std::string()) != kMarker) fail("Prepend of something other than \"▁\"", key);
    t.prepend_marker = true;
  } else if (type == "Replace") {
    const json& pat = n.at("pattern");
    if (!pat.contains("String") || pat["String"] != " " || n.value("content", std::string()) != kMarker) {
      fail("Replace other than \" \" -> \"▁\"", key);
    }
    t.space_to_marker = true;
  } else {
    fail("unsupported normalizer \"" + type + "\"", key);
  }
}

void add_pre_tokenizer(Tokenizer::Impl& t, const json& p, const std::string& key) {
  if (p.is_null()) return;
  const std::string type = p.value("type", std::string());
  if (type == "Sequence") {
    const json& list = p.at("pretokenizers");
    for (size_t i = 0; i < list.size(); ++i) add_pre_tokenizer(t, list[i], key + "/pretokenizers/" + std::to_string(i));
  } else if (type == "ByteLevel") {
    t.byte_level = true;
    if (p.value("add_prefix_space", false)) t.byte_level_prefix = true;
    if (p.value("use_regex", true)) t.pre.add_regex(rd::kGpt2Regex, rd::SplitBehavior::kIsolated, false);
  } else if (type == "Split") {
    const json& pat = p.at("pattern");
    const auto behavior = parse_behavior(p, key);
    const bool invert = p.value("invert", false);
    if (pat.contains("Regex")) {
      t.pre.add_regex(pat["Regex"].get<std::string>(), behavior, invert);
    } else if (pat.contains("String")) {
      // Normalisers run first, so Gemma's split on " " never matches once spaces became "▁"; that
      // is what Hugging Face does too.
      t.pre.add_literal(pat["String"].get<std::string>(), behavior, invert);
    } else {
      fail("Split pattern is neither Regex nor String", key + "/pattern");
    }
  } else if (type == "Digits") {
    t.pre.add_regex(p.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+", rd::SplitBehavior::kIsolated, false);
  } else if (type == "Metaspace") {
    if (p.value("replacement", std::string(kMarker)) != kMarker) fail("Metaspace replacement other than \"▁\"", key);
    t.space_to_marker = true;
    const std::string scheme = p.value("prepend_scheme", p.value("add_prefix_space", true) ? "always" : "never");
    if (scheme != "never") t.prepend_marker = true;  // "first" and "always" agree on single segments
    if (p.value("split", true)) t.pre.add_literal(kMarker, rd::SplitBehavior::kMergedWithNext, false);
  } else {
    fail("unsupported pre_tokenizer \"" + type + "\"", key);
  }
}

// The special token named by a tokenizer_config.json field ("eos_token": "<|im_end|>" or {"content": ...}).
std::string config_token_name(const json& config, const char* field) {
  if (!config.contains(field)) return {};
  const json& v = config[field];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return {};
}

}  // namespace

namespace runtime::detail {

// Adds the end-of-generation tokens chat models use, when present as control tokens.
void add_well_known_eos(Tokenizer::Impl& t) {
  static constexpr std::string_view kNames[] = {"<|im_end|>",    "<|eot_id|>", "<|eom_id|>", "<end_of_turn>",
                                                "<|end|>",       "<|endoftext|>", "</s>",   "<eos>",
                                                "<|end_of_text|>", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"};
  for (const std::string_view name : kNames) {
    const auto it = t.text_to_id.find(name);
    if (it == t.text_to_id.end()) continue;
    if (t.attrs[static_cast<size_t>(it->second)] != TokenAttr::kControl) continue;
    if (std::find(t.eos.begin(), t.eos.end(), it->second) == t.eos.end()) t.eos.push_back(it->second);
  }
}

}  // namespace runtime::detail

Tokenizer Tokenizer::from_tokenizer_json(const std::string& path) {
  const std::string text = read_file(path);
  std::string config;
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
  std::ifstream probe(dir + "tokenizer_config.json");
  if (probe) config = read_file(dir + "tokenizer_config.json");
  try {
    return from_tokenizer_json_text(text, config);
  } catch (const VocabularyError& e) {
    throw VocabularyError(e.message(), path + (e.location().empty() ? "" : ": " + e.location()));
  }
}

Tokenizer Tokenizer::from_tokenizer_json_text(std::string_view tokenizer_json, std::string_view tokenizer_config_json) {
  json j, config;
  try {
    j = json::parse(tokenizer_json);
    if (!tokenizer_config_json.empty()) config = json::parse(tokenizer_config_json);
  } catch (const json::exception& e) {
    throw VocabularyError(std::string("not valid JSON: ") + e.what(), "tokenizer.json");
  }
  auto t = std::make_shared<Impl>();
  try {
    const json& model = j.at("model");
    const std::string type = model.value("type", std::string("BPE"));
    if (type != "BPE") fail("unsupported tokenizer model \"" + type + "\" (only BPE)", "/model/type");
    add_normalizer(*t, j.value("normalizer", json()), "/normalizer");
    add_pre_tokenizer(*t, j.value("pre_tokenizer", json()), "/pre_tokenizer");
    if (!t->byte_level && j.contains("decoder") && j["decoder"].is_object() &&
        j["decoder"].value("type", std::string()) == "ByteLevel") {
      t->byte_level = true;
    }
    t->family = t->byte_level ? "byte_level_bpe" : "sentencepiece";
    t->algorithm = Impl::Algorithm::kRanks;
    t->byte_fallback = model.value("byte_fallback", false);
    t->fuse_unk = model.value("fuse_unk", false);
    t->ignore_merges = model.value("ignore_merges", false);

    // Id space: the vocab plus the added tokens; holes are kUnused.
    const json& vocab = model.at("vocab");
    int32_t n = 0;
    for (const auto& [k, v] : vocab.items()) n = std::max(n, v.get<int32_t>() + 1);
    const json& added = j.value("added_tokens", json::array());
    for (const json& a : added) n = std::max(n, a.at("id").get<int32_t>() + 1);
    if (n <= 0 || n > (1 << 24)) fail("vocabulary size " + std::to_string(n) + " out of range", "/model/vocab");
    t->text.assign(static_cast<size_t>(n), std::string());
    t->bytes.assign(static_cast<size_t>(n), std::string());
    t->attrs.assign(static_cast<size_t>(n), TokenAttr::kUnused);
    t->byte_ids.fill(-1);
    t->piece_to_id.reserve(static_cast<size_t>(n));
    t->text_to_id.reserve(static_cast<size_t>(n));

    std::string decoded;
    for (const auto& [k, v] : vocab.items()) {
      const int32_t id = v.get<int32_t>();
      if (id < 0) fail("negative id for \"" + k + "\"", "/model/vocab");
      const auto u = static_cast<size_t>(id);
      t->text[u] = k;
      t->attrs[u] = TokenAttr::kNormal;
      t->text_to_id.emplace(k, id);
      if (t->byte_level) {
        if (!rd::byte_level_decode(k, decoded)) decoded = k;  // not a byte-level string: take it literally
        t->bytes[u] = decoded;
        t->piece_to_id.emplace(decoded, id);
        if (decoded.size() == 1) t->byte_ids[static_cast<unsigned char>(decoded[0])] = id;
      } else {
        std::string b;
        unsigned int byte = 0;
        if (k.size() == 6 && k.compare(0, 3, "<0x") == 0 && k[5] == '>' && std::sscanf(k.c_str() + 3, "%2X", &byte) == 1) {
          t->attrs[u] = TokenAttr::kByte;
          b.assign(1, static_cast<char>(byte));
          t->byte_ids[byte & 0xFF] = id;
        } else {
          for (size_t i = 0; i < k.size();) {
            if (k.compare(i, kMarker.size(), kMarker) == 0) {
              b.push_back(' ');
              i += kMarker.size();
            } else {
              b.push_back(k[i++]);
            }
          }
        }
        t->bytes[u] = b;
        t->piece_to_id.emplace(k, id);
      }
    }
    const std::string unk = model.value("unk_token", json()).is_string() ? model["unk_token"].get<std::string>() : "";

    // Merges: "a b" or ["a", "b"]; ranks in file order.
    // Looked up by the file's own spelling (text_to_id holds just the vocab at this point): the
    // byte-level spelling of a concatenation is the concatenation of the spellings, so no decoding.
    const json& merges = model.at("merges");
    t->merges.reserve(merges.size());
    std::string joined;
    for (size_t r = 0; r < merges.size(); ++r) {
      const json& m = merges[r];
      std::string_view left, right;
      if (m.is_string()) {
        const std::string_view s = m.get_ref<const std::string&>();
        const size_t sp = s.find(' ', 1);
        if (sp == std::string_view::npos) fail("merge without a space", "/model/merges/" + std::to_string(r));
        left = s.substr(0, sp);
        right = s.substr(sp + 1);
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        left = m[0].get_ref<const std::string&>();
        right = m[1].get_ref<const std::string&>();
      } else {
        fail("merge is neither \"a b\" nor [a, b]", "/model/merges/" + std::to_string(r));
      }
      joined.assign(left).append(right);
      const auto a = t->text_to_id.find(left), b = t->text_to_id.find(right), c = t->text_to_id.find(joined);
      if (a == t->text_to_id.end() || b == t->text_to_id.end() || c == t->text_to_id.end()) continue;
      const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(a->second)) << 32) | static_cast<uint32_t>(b->second);
      t->merges.emplace(key, Impl::Merge{static_cast<int32_t>(r), c->second});  // first (lowest) rank wins
    }

    // Added tokens: control when marked special, else user-defined (always matched, decoded as their
    // text). llama.cpp's converter also makes non-special tokens that look special (<|fim_prefix|>,
    // <｜User｜>) CONTROL; we keep Hugging Face's flag so that decoding agrees with stencil::Vocabulary,
    // which treats them as text (tokenizer_vocabulary_test checks the two agree).
    for (const json& a : added) {
      const int32_t id = a.at("id").get<int32_t>();
      const std::string content = a.at("content").get<std::string>();
      const auto u = static_cast<size_t>(id);
      const bool control = a.value("special", false);
      t->text[u] = content;
      if (control) {
        t->bytes[u].clear();
      } else if (t->byte_level) {
        t->bytes[u] = content;
      } else {  // SentencePiece: added pieces such as Gemma's "▁▁" runs stand for spaces too
        std::string b;
        for (size_t i = 0; i < content.size();) {
          if (content.compare(i, kMarker.size(), kMarker) == 0) {
            b.push_back(' ');
            i += kMarker.size();
          } else {
            b.push_back(content[i++]);
          }
        }
        t->bytes[u] = std::move(b);
      }
      t->attrs[u] = control ? TokenAttr::kControl : TokenAttr::kUserDefined;
      if (content == unk) t->attrs[u] = TokenAttr::kUnknown;
      t->specials.push_back({content, id, control || content == unk, a.value("lstrip", false), a.value("rstrip", false)});
    }
    for (int32_t id = 0; id < n; ++id) {
      if (t->attrs[static_cast<size_t>(id)] != TokenAttr::kUnused) t->text_to_id.emplace(t->text[static_cast<size_t>(id)], id);
    }
    if (!unk.empty()) {
      const auto it = t->text_to_id.find(unk);
      if (it != t->text_to_id.end()) {
        t->unk_id = it->second;
        t->attrs[static_cast<size_t>(it->second)] = TokenAttr::kUnknown;
        t->bytes[static_cast<size_t>(it->second)].clear();
      }
    }
    t->index_specials();

    // BOS/EOS and add_bos: tokenizer_config.json first, then the post-processor.
    auto id_of = [&](const std::string& name) -> int32_t {
      const auto it = t->text_to_id.find(name);
      return it == t->text_to_id.end() ? -1 : it->second;
    };
    const std::string bos_name = config_token_name(config, "bos_token");
    if (!bos_name.empty()) t->bos = id_of(bos_name);
    const std::string eos_name = config_token_name(config, "eos_token");
    if (!eos_name.empty() && id_of(eos_name) >= 0) t->eos.push_back(id_of(eos_name));
    const json& post = j.value("post_processor", json());
    auto scan_template = [&](const json& p) {
      if (!p.is_object() || p.value("type", std::string()) != "TemplateProcessing") return;
      const json& single = p.value("single", json::array());
      if (!single.empty() && single[0].contains("SpecialToken")) {
        const int32_t id = id_of(single[0]["SpecialToken"].value("id", std::string()));
        if (id >= 0) {
          t->add_bos = true;
          if (t->bos < 0) t->bos = id;
        }
      }
    };
    if (post.is_object() && post.value("type", std::string()) == "Sequence") {
      for (const json& p : post.value("processors", json::array())) scan_template(p);
    } else {
      scan_template(post);
    }
    if (config.is_object()) {
      if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean()) {
        t->add_bos = config["add_bos_token"].get<bool>() && t->bos >= 0;
      }
      if (config.contains("add_eos_token") && config["add_eos_token"].is_boolean()) {
        t->add_eos = config["add_eos_token"].get<bool>();
      }
      if (config.contains("chat_template")) {
        const json& ct = config["chat_template"];
        if (ct.is_string()) {
          t->chat_template = ct.get<std::string>();
        } else if (ct.is_array()) {  // [{"name": "default", "template": ...}, ...]
          for (const json& e : ct) {
            if (e.value("name", std::string()) == "default" && e.contains("template")) {
              t->chat_template = e["template"].get<std::string>();
            }
          }
        }
      }
    }
    rd::add_well_known_eos(*t);
  } catch (const json::exception& e) {
    throw VocabularyError(std::string("unexpected tokenizer.json content: ") + e.what(), "tokenizer.json");
  }
  return Tokenizer(std::move(t));
}

}  // namespace stencil
