// stencil::Vocabulary: the accessors, from_tokens, from_file, and the pieces the
// loaders share: token-name decoders (GPT-2 byte-level, SentencePiece) and the
// builder that lays a vocabulary out contiguously. File parsing lives in
// tokenizer_json.cc and gguf_vocab.cc.
#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <memory>

#include "stencil/errors.h"
#include "vocab/vocabulary_impl.h"

namespace stencil {

namespace vocab {
namespace {

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ')
// stand for themselves; the other 68 bytes are shifted to U+0100.. in byte order, so
// every token is printable text. The inverse maps code points 0..0x143 back to bytes.
constexpr uint32_t kByteLevelCodepoints = 0x144;
constexpr std::array<int16_t, kByteLevelCodepoints> make_unicode_to_byte() {
  std::array<int16_t, kByteLevelCodepoints> table{};
  for (auto& v : table) v = -1;
  int shifted = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    if (printable) {
      table[b] = static_cast<int16_t>(b);
    } else {
      table[256 + shifted] = static_cast<int16_t>(b);
      ++shifted;
    }
  }
  return table;
}
constexpr auto kUnicodeToByte = make_unicode_to_byte();

// Decodes one UTF-8 code point at s[i], advancing i; returns -1 on malformed input.
int32_t next_codepoint(std::string_view s, size_t& i) noexcept {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int len = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 0;
  if (len == 0 || c > 0xF4 || i + len > s.size()) return -1;
  int32_t cp = c & (0x3F >> (len - 1));
  for (int k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += len;
  return cp;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::string_view kWellKnownEos[] = {
    "<|eot_id|>",
    "<|eom_id|>",
    "<|end_of_text|>",
    "<|endoftext|>",
    "<|im_end|>",
    "<end_of_turn>",
    "<eos>",
    "</s>",
    "<\xEF\xBD\x9C"
    "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",  // DeepSeek
};

}  // namespace

bool append_byte_level(std::string_view name, std::string& out) {
  size_t start = out.size();
  for (size_t i = 0; i < name.size();) {
    int32_t cp = next_codepoint(name, i);
    if (cp < 0 || static_cast<uint32_t>(cp) >= kByteLevelCodepoints || kUnicodeToByte[cp] < 0) {
      out.resize(start);
      return false;
    }
    out.push_back(static_cast<char>(kUnicodeToByte[cp]));
  }
  return true;
}

std::optional<uint8_t> parse_byte_token(std::string_view name) noexcept {
  if (name.size() != 6 || name.substr(0, 3) != "<0x" || name[5] != '>') return std::nullopt;
  int hi = hex_value(name[3]), lo = hex_value(name[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

void append_decoded(std::string_view name, Decoding decoding, const DecodeOptions& options, std::string& out) {
  switch (decoding) {
    case Decoding::kLiteral:
      out.append(name);
      return;
    case Decoding::kByteLevel:
      // Like the Hugging Face ByteLevel decoder: a name with chars outside the table is taken as text.
      if (!append_byte_level(name, out)) out.append(name);
      return;
    case Decoding::kSentencePiece: {
      if (options.byte_fallback) {
        if (auto b = parse_byte_token(name)) {
          out.push_back(static_cast<char>(*b));
          return;
        }
      }
      std::string_view marker = options.space_marker;
      while (!marker.empty()) {
        size_t at = name.find(marker);
        if (at == std::string_view::npos) break;
        out.append(name.substr(0, at));
        out.push_back(' ');
        name.remove_prefix(at + marker.size());
      }
      out.append(name);
      return;
    }
  }
}

std::span<const std::string_view> well_known_eos_names() noexcept { return kWellKnownEos; }

std::shared_ptr<const Vocabulary::Impl> build_vocabulary(std::span<const TokenEntry> entries, std::string family,
                                                         std::string source, std::vector<int32_t> eos_ids,
                                                         const DecodeOptions& decode,
                                                         const VocabularyOptions& options) {
  if (entries.empty()) throw VocabularyError("the vocabulary has no tokens", source);
  if (entries.size() > static_cast<size_t>(kMaxVocabularySize)) {
    throw VocabularyError("the vocabulary has " + std::to_string(entries.size()) +
                              " ids, more than kMaxVocabularySize (" + std::to_string(kMaxVocabularySize) + ")",
                          source);
  }
  auto impl = std::make_shared<Vocabulary::Impl>();
  impl->family = std::move(family);
  impl->source = std::move(source);
  impl->tokenizer_size = static_cast<int32_t>(entries.size());
  impl->size = impl->tokenizer_size;
  if (options.padded_size > 0 && options.padded_size < impl->tokenizer_size) {
    throw ArgumentError("padded_size " + std::to_string(options.padded_size) + " is smaller than the " +
                        std::to_string(impl->tokenizer_size) + " ids of the tokenizer");
  }
  if (options.padded_size > kMaxVocabularySize) {
    throw ArgumentError("padded_size " + std::to_string(options.padded_size) + " exceeds kMaxVocabularySize (" +
                        std::to_string(kMaxVocabularySize) + ")");
  }
  impl->size = std::max(impl->size, options.padded_size);
  const size_t n = static_cast<size_t>(impl->size);

  if (!options.eos_ids.empty()) eos_ids = options.eos_ids;
  for (int32_t id : eos_ids) {
    if (id < 0 || id >= impl->size) {
      throw ArgumentError("EOS id " + std::to_string(id) + " is out of range [0, " + std::to_string(impl->size) + ")");
    }
  }
  std::sort(eos_ids.begin(), eos_ids.end());
  eos_ids.erase(std::unique(eos_ids.begin(), eos_ids.end()), eos_ids.end());
  impl->eos_ids = std::move(eos_ids);
  impl->eos_flags.assign(n, 0);
  for (int32_t id : impl->eos_ids) impl->eos_flags[id] = 1;

  size_t name_bytes = 0;
  for (const TokenEntry& e : entries) name_bytes += e.name.size();
  impl->names.reserve(name_bytes);
  impl->bytes.reserve(name_bytes);
  impl->kinds.resize(n, TokenKind::kUnused);
  impl->offsets.resize(n + 1);
  impl->name_offsets.resize(n + 1);
  constexpr size_t kMaxArena = std::numeric_limits<uint32_t>::max();
  for (size_t id = 0; id < n; ++id) {
    impl->offsets[id] = static_cast<uint32_t>(impl->bytes.size());
    impl->name_offsets[id] = static_cast<uint32_t>(impl->names.size());
    if (id >= entries.size()) continue;  // padding: kUnused, no name
    const TokenEntry& e = entries[id];
    TokenKind kind = e.present ? e.kind : TokenKind::kUnused;
    if (impl->eos_flags[id]) kind = TokenKind::kSpecial;
    impl->kinds[id] = kind;
    impl->names.append(e.name);
    if (kind == TokenKind::kNormal) {
      append_decoded(e.name, e.decoding, decode, impl->bytes);
      impl->max_token_bytes = std::max<uint32_t>(impl->max_token_bytes, impl->bytes.size() - impl->offsets[id]);
    }
    if (impl->bytes.size() > kMaxArena || impl->names.size() > kMaxArena) {
      throw VocabularyError("the token texts exceed 4 GiB", impl->source);
    }
  }
  impl->offsets[n] = static_cast<uint32_t>(impl->bytes.size());
  impl->name_offsets[n] = static_cast<uint32_t>(impl->names.size());
  for (TokenKind k : impl->kinds) {
    if (k == TokenKind::kNormal) ++impl->normal_count;
    if (k == TokenKind::kSpecial) ++impl->special_count;
    if (k == TokenKind::kUnused) ++impl->unused_count;
  }
  impl->bytes.shrink_to_fit();
  impl->names.shrink_to_fit();
  return impl;
}

}  // namespace vocab

Vocabulary Vocabulary::from_tokens(std::vector<std::string> tokens, std::vector<int32_t> eos_ids,
                                   std::vector<int32_t> special_ids, const VocabularyOptions& options) {
  if (tokens.empty()) throw ArgumentError("from_tokens: the token list is empty");
  if (tokens.size() > static_cast<size_t>(kMaxVocabularySize)) {
    throw ArgumentError("from_tokens: " + std::to_string(tokens.size()) + " tokens exceed kMaxVocabularySize (" +
                        std::to_string(kMaxVocabularySize) + ")");
  }
  std::vector<vocab::TokenEntry> entries(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    entries[id] = {tokens[id], TokenKind::kNormal, vocab::Decoding::kLiteral, true};
  }
  for (int32_t id : special_ids) {
    if (id < 0 || static_cast<size_t>(id) >= tokens.size()) {
      throw ArgumentError("from_tokens: special id " + std::to_string(id) + " is out of range [0, " +
                          std::to_string(tokens.size()) + ")");
    }
    entries[id].kind = TokenKind::kSpecial;
  }
  for (int32_t id : eos_ids) {
    if (id < 0 || static_cast<size_t>(id) >= tokens.size()) {
      throw ArgumentError("from_tokens: EOS id " + std::to_string(id) + " is out of range [0, " +
                          std::to_string(tokens.size()) + ")");
    }
  }
  return Vocabulary(vocab::build_vocabulary(entries, "tokens", "<tokens>", std::move(eos_ids), {}, options));
}

Vocabulary Vocabulary::from_file(const std::string& path, const VocabularyOptions& options) {
  constexpr std::string_view kGguf = ".gguf";
  if (path.size() >= kGguf.size()) {
    std::string ext = path.substr(path.size() - kGguf.size());
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == kGguf) return from_gguf(path, options);
  }
  return from_tokenizer_json(path, options);
}

int32_t Vocabulary::size() const noexcept { return impl_->size; }
std::string_view Vocabulary::token_bytes(int32_t id) const noexcept { return impl_->token_bytes(id); }
std::string_view Vocabulary::token_name(int32_t id) const noexcept { return impl_->token_name(id); }
TokenKind Vocabulary::kind(int32_t id) const noexcept { return impl_->kinds[id]; }
bool Vocabulary::is_eos(int32_t id) const noexcept { return id >= 0 && id < impl_->size && impl_->eos_flags[id] != 0; }
std::span<const int32_t> Vocabulary::eos_ids() const noexcept { return impl_->eos_ids; }
int32_t Vocabulary::normal_count() const noexcept { return impl_->normal_count; }
int32_t Vocabulary::special_count() const noexcept { return impl_->special_count; }
std::string_view Vocabulary::family() const noexcept { return impl_->family; }

}  // namespace stencil
