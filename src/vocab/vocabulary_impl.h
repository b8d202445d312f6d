// The data behind stencil::Vocabulary, for the engine (token trie, masks) and for
// the loaders in src/vocab. Read-only after build_vocabulary() returns it.
//
// Layout: every id in [0, size) has a kind, its exact bytes (empty unless kNormal)
// and its name as written in the tokenizer file; bytes and names are each one
// contiguous string with an offsets table, so token_bytes(id) is a string_view and
// a 128k vocabulary is two allocations, not 128k.
//
// Also here: the token-text decoders shared by the tokenizer.json and GGUF loaders
// (GPT-2 byte-level, SentencePiece), and the builder that turns per-id entries
// into an Impl. This header does not parse files.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stencil/vocabulary.h"

namespace stencil {

// Named limit: the most ids a vocabulary may have (largest real ones are ~262k);
// guards against a corrupt id (2^31) turning into a giant allocation.
inline constexpr int32_t kMaxVocabularySize = 1 << 24;

struct Vocabulary::Impl {
  // bytes[offsets[id], offsets[id + 1]) are the exact bytes of token `id`: what the
  // detokenizer outputs for it. Empty for kSpecial and kUnused ids.
  std::string bytes;              // all token bytes, id order
  std::vector<uint32_t> offsets;  // (size + 1)
  // names[name_offsets[id], name_offsets[id + 1]) is the token as written in the file
  // ("Ġworld", "▁Hello", "<0x0A>", "<|eot_id|>"); empty for holes and padding.
  std::string names;                   // all names, id order
  std::vector<uint32_t> name_offsets;  // (size + 1)
  std::vector<TokenKind> kinds;        // (size)
  // EOS ids, sorted and unique. Every EOS id is kSpecial (its bytes are empty): EOS
  // is allowed exactly when the grammar may end, never as text.
  std::vector<int32_t> eos_ids;
  std::vector<uint8_t> eos_flags;  // (size) 1 where the id is an EOS id
  std::string family;              // "byte_level_bpe", "sentencepiece" or "tokens"
  std::string source;              // the file it was read from, or "<tokens>"
  int32_t size = 0;                // ids, padding included: the logit vector width
  int32_t tokenizer_size = 0;      // ids the tokenizer defines (max id + 1); ids beyond it are padding
  int32_t normal_count = 0;
  int32_t special_count = 0;
  int32_t unused_count = 0;
  uint32_t max_token_bytes = 0;  // the longest token_bytes(); bounds a trie walk's depth

  std::string_view token_bytes(int32_t id) const noexcept {
    return std::string_view(bytes).substr(offsets[id], offsets[id + 1] - offsets[id]);
  }
  std::string_view token_name(int32_t id) const noexcept {
    return std::string_view(names).substr(name_offsets[id], name_offsets[id + 1] - name_offsets[id]);
  }
};

namespace vocab {

// How a normal token's name becomes bytes.
enum class Decoding : uint8_t {
  kLiteral,        // the name's UTF-8 bytes as they are
  kByteLevel,      // each char through the inverse GPT-2 bytes_to_unicode table; literal if a char is not in it
  kSentencePiece,  // "▁" -> " ", and "<0xNN>" -> the byte 0xNN when byte fallback is on
};

// One id as a loader found it. Ids nobody defined stay kUnused with an empty name.
struct TokenEntry {
  std::string_view name;
  TokenKind kind = TokenKind::kUnused;
  Decoding decoding = Decoding::kLiteral;  // for kNormal
  bool present = false;                    // defined by the file (false: a hole)
};

struct DecodeOptions {
  bool byte_fallback = true;                 // SentencePiece: decode <0xNN> pieces
  std::string_view space_marker = "\u2581";  // SentencePiece: what stands for a space
};

// Appends the bytes of a byte-level BPE token name. Returns false (appending
// nothing) when some char is not in the GPT-2 table or the name is not UTF-8.
bool append_byte_level(std::string_view name, std::string& out);
// "<0xNN>" (hex digits of either case) -> the byte; nullopt otherwise.
std::optional<uint8_t> parse_byte_token(std::string_view name) noexcept;
// Appends the bytes of `name` under `decoding`.
void append_decoded(std::string_view name, Decoding decoding, const DecodeOptions& options, std::string& out);

// EOS names tried when a tokenizer names none (or to add end-of-turn tokens to the
// one it names): the end-of-text and end-of-turn tokens of the common families.
std::span<const std::string_view> well_known_eos_names() noexcept;

// Builds the Impl: decodes every normal entry, applies options.padded_size and the
// EOS ids (options.eos_ids when not empty, else `eos_ids`), marks EOS ids kSpecial,
// counts kinds. Throws ArgumentError for out-of-range EOS ids or a padded_size
// smaller than the tokenizer, VocabularyError when the token bytes exceed 4 GiB.
std::shared_ptr<const Vocabulary::Impl> build_vocabulary(std::span<const TokenEntry> entries, std::string family,
                                                         std::string source, std::vector<int32_t> eos_ids,
                                                         const DecodeOptions& decode, const VocabularyOptions& options);

// from_tokenizer_json_text through the general SAX parser only (never the fast
// path), so tests can check that both read files alike.
Vocabulary tokenizer_json_sax_path(std::string_view tokenizer_json, std::string_view tokenizer_config_json,
                                   const VocabularyOptions& options);

}  // namespace vocab
}  // namespace stencil
