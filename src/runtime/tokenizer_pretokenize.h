// Pre-tokenizer of the runtime tokenizer: splits normalised text into the pieces that BPE then
// encodes one by one. Supports the Hugging Face pre-tokenizers that Llama-family models use:
// Split (regex or literal string, every behaviour, invert), Digits, ByteLevel's GPT-2 regex,
// Metaspace's split on "▁", and Sequence of these.
//
// The regexes are Oniguruma syntax (Hugging Face) and run on RE2 after translate_pretokenizer_regex:
// `\s` becomes the Unicode White_Space set (RE2's `\s` is ASCII only), `\d`/`\w` become their
// Unicode forms, plain groups become non-capturing, and the one lookahead these regexes use,
// `\s+(?!\S)` (optionally followed by `|\s+`), is replaced by a capturing `(WS+)` whose match is
// shortened by its last character afterwards when more than one whitespace character was taken and
// a non-space follows (the same result as the lookahead; llama.cpp and tiktoken ports do this).
// Any other lookaround or backreference is a VocabularyError. Does not normalise (NFC) text.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace stencil::runtime::detail {

// Translates an Oniguruma pre-tokenizer regex to RE2 syntax. Sets *ws_lookahead when the
// `\s+(?!\S)` construct was replaced by capture group 1. Throws VocabularyError if unsupported.
std::string translate_pretokenizer_regex(std::string_view pattern, bool* ws_lookahead);

// The GPT-2 regex of Hugging Face's ByteLevel pre-tokenizer (use_regex = true).
inline constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class SplitBehavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Piece {
  size_t begin = 0;
  size_t end = 0;
};

class PreTokenizer {
 public:
  PreTokenizer();
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  // Adds a step that splits every current piece at matches of `pattern` (Oniguruma syntax).
  void add_regex(std::string_view pattern, SplitBehavior behavior, bool invert);
  // Adds a step that splits at each occurrence of a literal string.
  void add_literal(std::string_view literal, SplitBehavior behavior, bool invert);
  bool empty() const noexcept { return steps_.empty(); }

  // Splits text into pieces (byte ranges of text, in order, never empty). `scratch` is reused.
  // Precondition: text is valid UTF-8.
  void split(std::string_view text, std::vector<Piece>& pieces, std::vector<Piece>& scratch) const;

 private:
  struct Step;
  void split_one(const Step& step, std::string_view text, Piece piece, std::vector<Piece>& out) const;
  std::vector<std::unique_ptr<Step>> steps_;
};

// Byte length of the UTF-8 sequence a lead byte announces, by its high nibble as llama.cpp's
// unicode_len_utf8 does (continuation bytes: 1; 0xF8..0xFF: 4). The SentencePiece tokenizer splits
// text into "characters" this way, which decides how invalid UTF-8 falls back to bytes.
inline size_t utf8_len_from_lead(unsigned char c) {
  static constexpr unsigned char kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[c >> 4];
}

}  // namespace stencil::runtime::detail
