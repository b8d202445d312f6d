// stencil::Vocabulary: what each token id of a tokenizer means as bytes.
//
// Built from a Hugging Face tokenizer.json (byte-level BPE: GPT-2 byte<->unicode
// mapping; SentencePiece-style: "▁" is a space and <0xNN> pieces are single raw
// bytes), from the tokenizer.ggml.* metadata of a GGUF file, or from a list of
// byte strings. Every id in [0, size()) has a kind:
//   kNormal  - ordinary text; its bytes are token_bytes(id). Masks allow it when
//              the grammar can consume those bytes.
//   kSpecial - control/special tokens (<|eot_id|>, <s>, <start_of_turn> ...): never
//              allowed by a mask, unless it is an EOS id.
//   kUnused  - a hole in the id space (gpt-4o has some): never allowed.
// EOS ids (one or several) are allowed exactly when the grammar may end. Every EOS
// id is kSpecial (empty bytes), even when the file lists it as text.
//
// Non-special added tokens are text: literal for byte-level BPE (DeepSeek's
// "<｜fim▁hole｜>"), "▁" -> space for SentencePiece (Gemma 3's "▁▁" runs). Decoder
// steps that depend on position (stripping the first leading space) are not applied.
//
// Thread-safety: immutable after construction; copies share the same data and
// may be used from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stencil {

enum class TokenKind : uint8_t { kNormal, kSpecial, kUnused };

struct VocabularyOptions {
  // EOS ids to use instead of the ones the tokenizer declares (empty: use those).
  std::vector<int32_t> eos_ids;
  // Logit vectors may be wider than the tokenizer (models pad their embedding
  // tables). When larger than the tokenizer's id count, ids beyond it are kUnused.
  int32_t padded_size = 0;
};

class Vocabulary {
 public:
  // Reads a Hugging Face tokenizer.json. EOS ids come from options, else from a
  // tokenizer_config.json in the same folder ("eos_token"), else from
  // well-known names (<|endoftext|>, </s>, <|eot_id|>, <eos> ...).
  // Precisely: options.eos_ids when not empty; otherwise the config's eos_token (a
  // string or {"content": ...}; naming a token the file lacks is an error) plus every
  // well-known end-of-text/end-of-turn name that is a special token of the file
  // (<|eot_id|>, <|eom_id|>, <|end_of_text|>, <|endoftext|>, <|im_end|>,
  // <end_of_turn>, <eos>, </s>, DeepSeek's <｜end▁of▁sentence｜>). Llama-3 thus gets
  // {<|end_of_text|>, <|eot_id|>}, Gemma 3 {<eos>, <end_of_turn>}. May be empty.
  // Throws VocabularyError naming the file and the key that is wrong
  // (location "path: /json/pointer", or "path:line:column" for invalid JSON).
  static Vocabulary from_tokenizer_json(const std::string& path, const VocabularyOptions& options = {});
  // Same, from the text of a tokenizer.json (and optionally of its tokenizer_config.json).
  static Vocabulary from_tokenizer_json_text(std::string_view tokenizer_json,
                                             std::string_view tokenizer_config_json = {},
                                             const VocabularyOptions& options = {});
  // Reads tokenizer.ggml.tokens / token_type / eos_token_id (and eot/eom ids) from a GGUF file.
  // Only the header is read (memory-mapped). Token types: normal and user-defined are
  // text, byte (<0xNN>) is that byte, unknown/control are kSpecial, unused kUnused.
  // A truncated or corrupt file throws VocabularyError with location "path: offset N, key".
  static Vocabulary from_gguf(const std::string& path, const VocabularyOptions& options = {});
  // Reads a file by its name: *.gguf goes to from_gguf, anything else to from_tokenizer_json.
  static Vocabulary from_file(const std::string& path, const VocabularyOptions& options = {});
  // One byte string per id. Ids in special_ids are kSpecial; eos_ids must be in range.
  // Bad ids, an empty list or padded_size below the token count throw ArgumentError.
  static Vocabulary from_tokens(std::vector<std::string> tokens, std::vector<int32_t> eos_ids,
                                std::vector<int32_t> special_ids = {}, const VocabularyOptions& options = {});

  // Number of ids, holes and padding included: the width of a logit vector.
  int32_t size() const noexcept;
  // The exact bytes of token `id`; empty for kSpecial/kUnused ids. Precondition: 0 <= id < size().
  std::string_view token_bytes(int32_t id) const noexcept;
  // The token's text as written in the tokenizer file (for special tokens, their name).
  std::string_view token_name(int32_t id) const noexcept;
  TokenKind kind(int32_t id) const noexcept;
  bool is_eos(int32_t id) const noexcept;
  std::span<const int32_t> eos_ids() const noexcept;
  // Counts by kind, for summaries and tests.
  int32_t normal_count() const noexcept;
  int32_t special_count() const noexcept;
  // The tokenizer family as recognised: "byte_level_bpe", "sentencepiece", "tokens".
  std::string_view family() const noexcept;

  struct Impl;
  const Impl& impl() const noexcept { return *impl_; }
  explicit Vocabulary(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace stencil
