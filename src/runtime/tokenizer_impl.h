// The data behind stencil::Tokenizer, filled by the loaders (tokenizer_load.cc:
// tokenizer.json and GGUF) and read by the encoder/decoder (tokenizer.cc) and the BPE
// routines (tokenizer_bpe.cc). Internal; not a public interface.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/tokenizer_pretokenize.h"
#include "stencil/runtime/tokenizer.h"

namespace stencil::runtime {

// Transparent hashing so lookups by string_view do not allocate.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using StringToId = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

}  // namespace stencil::runtime

namespace stencil {

struct Tokenizer::Impl {
  using StringToId = runtime::StringToId;
  enum class Algorithm {
    kRanks,   // BPE by merge rank (tokenizer.json, GGUF "gpt2")
    kScores,  // SentencePiece BPE by piece score (GGUF "llama"), llama.cpp's SPM tokenizer
  };
  bool byte_level = false;  // GPT-2 byte<->unicode pieces; otherwise SentencePiece "▁" pieces
  Algorithm algorithm = Algorithm::kRanks;

  // Per id (size n):
  std::vector<std::string> text;   // as written in the file
  std::vector<std::string> bytes;  // what the token decodes to (control tokens: empty)
  std::vector<TokenAttr> attrs;
  std::vector<float> scores;  // kScores only

  // Pieces the BPE can produce, keyed by their BPE-space string: raw bytes (byte-level) or text
  // with "▁" (SentencePiece). Holds normal, byte and user-defined tokens (llama.cpp's text_to_token
  // holds all; control pieces can never be formed from text that had them split out, and with
  // parse_special off llama.cpp's SPM may form one, so kScores keeps them too).
  StringToId piece_to_id;
  // Byte-level: id of the single-byte token for each byte. SentencePiece: id of <0xNN> (-1 if none).
  std::array<int32_t, 256> byte_ids{};

  // kRanks: (left id << 32 | right id) -> (rank, merged id).
  struct Merge {
    int32_t rank;
    int32_t id;
  };
  std::unordered_map<uint64_t, Merge> merges;
  bool ignore_merges = false;  // a piece that is itself a token is not merged (Llama-3)
  bool byte_fallback = false;  // SentencePiece: unknown characters become <0xNN> pieces
  int32_t unk_id = -1;
  bool fuse_unk = false;

  // Normalisation of each text segment (between special tokens).
  bool space_to_marker = false;      // " " -> "▁" (SentencePiece)
  bool prepend_marker = false;       // "▁" in front of each segment (tokenizer.json Prepend / Metaspace)
  bool add_space_prefix = false;     // GGUF SPM: " " in front of the first segment and after specials
  bool byte_level_prefix = false;    // ByteLevel add_prefix_space: " " in front unless one is there
  runtime::detail::PreTokenizer pre;

  // Added/special tokens matched in the text before anything else, leftmost-longest.
  struct Special {
    std::string text;
    int32_t id;
    bool control;  // matched only with parse_special
    bool lstrip;
    bool rstrip;
  };
  std::vector<Special> specials;
  std::array<std::vector<uint32_t>, 256> specials_by_first_byte;  // indices into specials, longest first

  StringToId text_to_id;  // every token's file text -> id (find_token)
  int32_t bos = -1;
  std::vector<int32_t> eos;
  bool add_bos = false;
  bool add_eos = false;
  std::string chat_template;
  std::string family;

  int32_t size() const { return static_cast<int32_t>(text.size()); }
  // Whether encoding puts a space ("▁") in front of the text, which decoding may take off again.
  bool adds_space_prefix() const { return !byte_level && (prepend_marker || add_space_prefix); }
  // Fills specials_by_first_byte; call after the loaders fill specials.
  void index_specials();
};

}  // namespace stencil

namespace stencil::runtime::detail {

// GPT-2's byte <-> unicode mapping: printable bytes stand for themselves, the others for U+0100...
const std::array<uint32_t, 256>& byte_to_unicode();
// Decodes a byte-level token string back to bytes; returns false if a character is not in the mapping.
bool byte_level_decode(std::string_view s, std::string& out);

// Adds the end-of-generation tokens chat models use (<|im_end|>, <|eot_id|> ...) when present as control tokens.
void add_well_known_eos(Tokenizer::Impl& t);

// BPE by merge rank over token ids: `symbols` holds the initial ids and is replaced by the result.
void bpe_merge_ranks(const Tokenizer::Impl& t, std::vector<int32_t>& symbols);
// llama.cpp's SentencePiece tokenizer: highest-score pair first; leftover characters as bytes.
void spm_encode_scores(const Tokenizer::Impl& t, std::string_view text, std::vector<int32_t>& out);

}  // namespace stencil::runtime::detail
