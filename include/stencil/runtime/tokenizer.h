// stencil::Tokenizer: text -> token ids and back, for the bundled runtime.
//
// Two families, each built from a Hugging Face tokenizer.json or from the
// tokenizer.ggml.* metadata of a GGUF file:
//   - byte-level BPE (GPT-2, Llama-3, Qwen, SmolLM2, DeepSeek, o200k): special
//     tokens are split out first, the rest goes through the model's pre-tokenizer
//     regexes, then BPE by merge rank over raw bytes;
//   - SentencePiece-style BPE (Llama-2, Mistral, Gemma, TinyStories): spaces become
//     "▁" (and a "▁" is prefixed), then BPE by merge rank (tokenizer.json) or by
//     piece score (GGUF, as llama.cpp does), with byte fallback to <0xNN> pieces.
// The reference behaviour is llama.cpp's (shared/models/reference/tokenization.jsonl);
// differences from Hugging Face are listed in src/runtime/tokenizer.cc.
// This is not a Jinja engine and does no chat formatting (see chat.h).
//
// Thread-safety: immutable after construction; copies share the same data and may
// be used from any number of threads. TextStreamDecoder is per stream.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stencil {

struct EncodeOptions {
  // Prepend the BOS id when the tokenizer asks for it (add_bos_token / tokenizer.ggml.add_bos_token).
  bool add_special = false;
  // Match the text of control/special tokens (<|im_start|>, <s> ...) as single tokens. User-defined
  // added tokens (Qwen's <think>) are always matched, as in llama.cpp.
  bool parse_special = true;
};

struct DecodeOptions {
  // Write control/special tokens as their text (<|im_end|>); otherwise they produce no bytes.
  bool render_special = false;
  // SentencePiece tokenizers that add a "▁" in front of the text (Llama 2, Mistral; not Gemma):
  // drop one leading space from the result (what Hugging Face's decoder does).
  bool strip_space_prefix = false;
};

enum class TokenAttr : uint8_t {
  kNormal,       // ordinary text
  kControl,      // special/control tokens (<s>, <|im_end|>): matched only with parse_special
  kUserDefined,  // added tokens that are always matched as a whole (Qwen's <think>)
  kByte,         // SentencePiece byte-fallback pieces <0xNN>
  kUnknown,      // <unk>
  kUnused,       // holes in the id space
};

class Tokenizer {
 public:
  // Reads a tokenizer.json; a tokenizer_config.json in the same folder supplies the BOS/EOS
  // names, add_bos_token and the chat template. Throws VocabularyError naming the file and key.
  static Tokenizer from_tokenizer_json(const std::string& path);
  static Tokenizer from_tokenizer_json_text(std::string_view tokenizer_json, std::string_view tokenizer_config_json = {});
  // Reads tokenizer.ggml.* from a GGUF file (model "gpt2" or "llama"). Throws VocabularyError.
  static Tokenizer from_gguf(const std::string& path);
  // *.gguf -> from_gguf; a folder (Hugging Face model folder) -> its tokenizer.json; otherwise
  // from_tokenizer_json.
  static Tokenizer from_file(const std::string& path);

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Appends to `out` (no allocation beyond growth of `out` and of internal per-call scratch).
  void encode_into(std::string_view text, const EncodeOptions& options, std::vector<int32_t>& out) const;
  // Concatenated bytes of the ids. Out-of-range ids produce nothing.
  std::string decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;
  // The bytes one token stands for ("▁" already a space, <0xNN> already the byte); empty for
  // control tokens unless render_special. Out-of-range: empty.
  std::string_view token_bytes(int32_t id, bool render_special = false) const noexcept;
  // The token as written in the tokenizer file.
  std::string_view token_text(int32_t id) const noexcept;
  TokenAttr attr(int32_t id) const noexcept;
  // Looks up a token by its text as written in the file (e.g. "<|im_end|>"); -1 if absent.
  int32_t find_token(std::string_view text) const noexcept;

  int32_t size() const noexcept;
  int32_t bos_id() const noexcept;  // -1 if none
  std::span<const int32_t> eos_ids() const noexcept;
  bool is_eos(int32_t id) const noexcept;
  bool add_bos() const noexcept;
  // "byte_level_bpe" or "sentencepiece".
  std::string_view family() const noexcept;
  // The chat template text from the file (tokenizer.chat_template / chat_template); may be empty.
  const std::string& chat_template() const noexcept;

  struct Impl;
  const Impl& impl() const noexcept { return *impl_; }
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<const Impl> impl_;
};

// Turns a stream of token ids into text without ever emitting half a UTF-8 character: bytes
// of an incomplete sequence are held back until it completes. Invalid sequences (a byte that can
// never start or continue a character) are passed through as they are once they are known to be
// invalid, so nothing is lost. Not thread-safe; one per stream.
class TextStreamDecoder {
 public:
  explicit TextStreamDecoder(const Tokenizer& tokenizer, DecodeOptions options = {});
  // Returns the text that became complete with this token (often empty or the token's bytes).
  // The view is valid until the next call.
  std::string_view push(int32_t id);
  // Returns whatever is held back (an incomplete sequence at the end of the stream) and resets.
  std::string flush();

 private:
  const Tokenizer* tokenizer_;
  DecodeOptions options_;
  bool first_ = true;
  std::string pending_;  // bytes of an incomplete UTF-8 sequence
  std::string out_;      // the last push's result
};

}  // namespace stencil
