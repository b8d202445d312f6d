// Encoding and decoding of stencil::Tokenizer (the loaders are in tokenizer_load.cc).
//
// encode: (1) split out added/special tokens, leftmost-longest (control tokens only with
// parse_special; user-defined ones always); (2) normalise each text segment (invalid UTF-8 bytes
// become U+FFFD for byte-level BPE; " " -> "▁" and a "▁" prefix for SentencePiece); (3) pre-tokenize;
// (4) BPE each piece. The behaviour follows llama.cpp, whose output is the reference data
// (shared/models/reference/tokenization.jsonl). Known differences from Hugging Face, all on
// purpose because the reference is llama.cpp:
//   - no NFC normalisation (Qwen's tokenizer.json asks for it; llama.cpp does not do it);
//   - invalid UTF-8 is tokenized (HF cannot even take it as input);
//   - control tokens are not matched when parse_special is off (HF always matches added tokens).
// Differences from llama.cpp: special tokens are matched leftmost-longest in one pass (llama.cpp
// matches the longest token everywhere first; they differ only for overlapping special texts), and
// the pre-tokenizer regexes run on RE2's Unicode tables, which follow the regex where llama.cpp's
// own regex engine splits at combining marks (o200k on Devanagari/Thai); from a tokenizer.json,
// added tokens keep Hugging Face's "special" flag (llama.cpp's converter also makes look-alikes such
// as <|fim_prefix|> control, and forces Qwen's ordinary "</s>" to control).
#include <algorithm>
#include <filesystem>
#include <string>

#include "grammar/utf8.h"
#include "runtime/tokenizer_impl.h"

namespace stencil {
namespace rd = runtime::detail;
namespace {

constexpr std::string_view kMarker = "\xE2\x96\x81";  // "▁", SentencePiece's space

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

void append_space_to_marker(std::string& out, std::string_view s) {
  for (const char c : s) {
    if (c == ' ') {
      out += kMarker;
    } else {
      out.push_back(c);
    }
  }
}

struct Scratch {
  std::string norm;
  std::vector<rd::Piece> pieces, pieces2;
  std::vector<int32_t> symbols;
};

void encode_byte_level(const Tokenizer::Impl& t, std::string_view seg, Scratch& s, std::vector<int32_t>& out) {
  // Invalid UTF-8 bytes become U+FFFD one by one, as llama.cpp does.
  s.norm.clear();
  if (t.byte_level_prefix && !seg.empty() && seg[0] != ' ') s.norm.push_back(' ');
  for (size_t pos = 0; pos < seg.size();) {
    const size_t start = pos;
    if (grammar::decode_utf8(seg, pos) < 0) {
      s.norm += "\xEF\xBF\xBD";
      pos = start + 1;
    } else {
      s.norm.append(seg.substr(start, pos - start));
    }
  }
  const std::string_view text = s.norm;
  if (t.pre.empty()) {
    s.pieces.assign(1, {0, text.size()});
  } else {
    t.pre.split(text, s.pieces, s.pieces2);
  }
  for (const rd::Piece& p : s.pieces) {
    const std::string_view piece = text.substr(p.begin, p.end - p.begin);
    if (t.ignore_merges) {
      const auto it = t.piece_to_id.find(piece);
      if (it != t.piece_to_id.end()) {
        out.push_back(it->second);
        continue;
      }
    }
    s.symbols.clear();
    for (const char c : piece) {
      const int32_t id = t.byte_ids[static_cast<unsigned char>(c)];
      if (id >= 0) {
        s.symbols.push_back(id);
      } else if (t.unk_id >= 0) {
        s.symbols.push_back(t.unk_id);
      }
    }
    rd::bpe_merge_ranks(t, s.symbols);
    out.insert(out.end(), s.symbols.begin(), s.symbols.end());
  }
}

void encode_sentencepiece_ranks(const Tokenizer::Impl& t, std::string_view seg, Scratch& s,
                                std::vector<int32_t>& out) {
  s.norm.clear();
  if (t.prepend_marker && !seg.empty()) s.norm += kMarker;
  if (t.space_to_marker) {
    append_space_to_marker(s.norm, seg);
  } else {
    s.norm.append(seg);
  }
  const std::string_view text = s.norm;
  if (t.pre.empty()) {
    s.pieces.assign(1, {0, text.size()});
  } else {
    t.pre.split(text, s.pieces, s.pieces2);
  }
  for (const rd::Piece& p : s.pieces) {
    const std::string_view piece = text.substr(p.begin, p.end - p.begin);
    if (t.ignore_merges) {
      const auto it = t.piece_to_id.find(piece);
      if (it != t.piece_to_id.end()) {
        out.push_back(it->second);
        continue;
      }
    }
    s.symbols.clear();
    for (size_t off = 0; off < piece.size();) {
      const size_t len = std::min(rd::utf8_len_from_lead(static_cast<unsigned char>(piece[off])), piece.size() - off);
      const std::string_view ch = piece.substr(off, len);
      off += len;
      const auto it = t.piece_to_id.find(ch);
      if (it != t.piece_to_id.end()) {
        s.symbols.push_back(it->second);
        continue;
      }
      bool all_bytes = t.byte_fallback;
      if (all_bytes) {
        for (const char c : ch) all_bytes = all_bytes && t.byte_ids[static_cast<unsigned char>(c)] >= 0;
      }
      if (all_bytes) {
        for (const char c : ch) s.symbols.push_back(t.byte_ids[static_cast<unsigned char>(c)]);
      } else if (t.unk_id >= 0 && !(t.fuse_unk && !s.symbols.empty() && s.symbols.back() == t.unk_id)) {
        s.symbols.push_back(t.unk_id);
      }
    }
    rd::bpe_merge_ranks(t, s.symbols);
    out.insert(out.end(), s.symbols.begin(), s.symbols.end());
  }
}

void encode_sentencepiece_scores(const Tokenizer::Impl& t, std::string_view seg, bool after_special, Scratch& s,
                                 std::vector<int32_t>& out) {
  s.norm.clear();
  if (t.add_space_prefix && after_special) s.norm += kMarker;
  append_space_to_marker(s.norm, seg);
  rd::spm_encode_scores(t, s.norm, out);
}

}  // namespace

void Tokenizer::Impl::index_specials() {
  for (auto& v : specials_by_first_byte) v.clear();
  for (uint32_t i = 0; i < specials.size(); ++i) {
    if (specials[i].text.empty()) continue;
    specials_by_first_byte[static_cast<unsigned char>(specials[i].text[0])].push_back(i);
  }
  for (auto& v : specials_by_first_byte) {
    std::stable_sort(v.begin(), v.end(),
                     [&](uint32_t a, uint32_t b) { return specials[a].text.size() > specials[b].text.size(); });
  }
}

Tokenizer Tokenizer::from_file(const std::string& path) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0) return from_gguf(path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return from_tokenizer_json(path + "/tokenizer.json");
  return from_tokenizer_json(path);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<int32_t> out;
  encode_into(text, options, out);
  return out;
}

void Tokenizer::encode_into(std::string_view text, const EncodeOptions& options, std::vector<int32_t>& out) const {
  const Impl& t = *impl_;
  thread_local Scratch scratch;
  if (options.add_special && t.add_bos && t.bos >= 0) out.push_back(t.bos);
  bool after_special = true;  // the first segment counts as following a special token (llama.cpp)
  size_t seg_begin = 0;
  size_t skip_ws_from = std::string_view::npos;  // rstrip of the previous special token
  auto emit_segment = [&](size_t b, size_t e) {
    if (skip_ws_from == b) {
      while (b < e && is_ascii_space(text[b])) ++b;
    }
    if (b >= e) return;
    const std::string_view seg = text.substr(b, e - b);
    if (t.byte_level) {
      encode_byte_level(t, seg, scratch, out);
    } else if (t.algorithm == Impl::Algorithm::kScores) {
      encode_sentencepiece_scores(t, seg, after_special, scratch, out);
    } else {
      encode_sentencepiece_ranks(t, seg, scratch, out);
    }
    after_special = false;
  };
  for (size_t i = 0; i < text.size();) {
    const Impl::Special* found = nullptr;
    for (const uint32_t k : t.specials_by_first_byte[static_cast<unsigned char>(text[i])]) {
      const Impl::Special& sp = t.specials[k];
      if (sp.control && !options.parse_special) continue;
      if (text.substr(i, sp.text.size()) == sp.text) {
        found = &sp;
        break;
      }
    }
    if (found == nullptr) {
      ++i;
      continue;
    }
    size_t seg_end = i;
    if (found->lstrip) {
      while (seg_end > seg_begin && is_ascii_space(text[seg_end - 1])) --seg_end;
    }
    emit_segment(seg_begin, seg_end);
    out.push_back(found->id);
    after_special = true;
    i += found->text.size();
    seg_begin = i;
    skip_ws_from = found->rstrip ? i : std::string_view::npos;
  }
  emit_segment(seg_begin, text.size());
  if (options.add_special && t.add_eos && !t.eos.empty()) out.push_back(t.eos[0]);
}

std::string_view Tokenizer::token_bytes(int32_t id, bool render_special) const noexcept {
  const Impl& t = *impl_;
  if (id < 0 || id >= t.size()) return {};
  const TokenAttr a = t.attrs[static_cast<size_t>(id)];
  if (a == TokenAttr::kControl || a == TokenAttr::kUnknown) {
    return render_special ? std::string_view(t.text[static_cast<size_t>(id)]) : std::string_view();
  }
  return t.bytes[static_cast<size_t>(id)];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, const DecodeOptions& options) const {
  std::string out;
  for (const int32_t id : ids) out += token_bytes(id, options.render_special);
  if (options.strip_space_prefix && impl_->adds_space_prefix() && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

std::string_view Tokenizer::token_text(int32_t id) const noexcept {
  if (id < 0 || id >= impl_->size()) return {};
  return impl_->text[static_cast<size_t>(id)];
}

TokenAttr Tokenizer::attr(int32_t id) const noexcept {
  if (id < 0 || id >= impl_->size()) return TokenAttr::kUnused;
  return impl_->attrs[static_cast<size_t>(id)];
}

int32_t Tokenizer::find_token(std::string_view text) const noexcept {
  const auto it = impl_->text_to_id.find(text);
  return it == impl_->text_to_id.end() ? -1 : it->second;
}

int32_t Tokenizer::size() const noexcept { return impl_->size(); }
int32_t Tokenizer::bos_id() const noexcept { return impl_->bos; }
std::span<const int32_t> Tokenizer::eos_ids() const noexcept { return impl_->eos; }
bool Tokenizer::is_eos(int32_t id) const noexcept {
  return std::find(impl_->eos.begin(), impl_->eos.end(), id) != impl_->eos.end();
}
bool Tokenizer::add_bos() const noexcept { return impl_->add_bos; }
std::string_view Tokenizer::family() const noexcept { return impl_->family; }
const std::string& Tokenizer::chat_template() const noexcept { return impl_->chat_template; }

}  // namespace stencil
