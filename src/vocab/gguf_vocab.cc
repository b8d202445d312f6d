// Vocabulary::from_gguf: the vocabulary from a GGUF file's tokenizer.ggml.* keys.
//
// tokenizer.ggml.model picks the decoding of normal tokens: "llama" (and "t5")
// are SentencePiece ("▁" -> " "), "gpt2" is byte-level BPE, anything else is taken
// literally. tokenizer.ggml.token_type (llama.cpp's llama_token_type) picks the
// kind: 1 normal, 2 unknown and 3 control -> kSpecial, 4 user-defined -> text
// (literal for byte-level BPE; "▁" -> " " for SentencePiece, as in tokenizer.json),
// 5 unused -> kUnused, 6 byte -> the single raw byte of its "<0xNN>" name. Without
// token_type every token is normal. EOS ids: options.eos_ids, else
// tokenizer.ggml.eos_token_id plus eot_token_id and eom_token_id when present.
// Only the header is read (the file is memory-mapped), so this is cheap on model files.
#include <algorithm>

#include "stencil/errors.h"
#include "vocab/gguf_metadata.h"
#include "vocab/vocabulary_impl.h"

namespace stencil {

Vocabulary Vocabulary::from_gguf(const std::string& path, const VocabularyOptions& options) {
  gguf::MappedFile file(path);
  const gguf::GgufMetadata meta = gguf::GgufMetadata::parse(file.bytes(), path);

  std::string_view model = meta.get_string("tokenizer.ggml.model").value_or("");
  std::string family = "tokens";
  vocab::Decoding decoding = vocab::Decoding::kLiteral;
  if (model == "llama" || model == "t5") {
    family = "sentencepiece";
    decoding = vocab::Decoding::kSentencePiece;
  } else if (model == "gpt2") {
    family = "byte_level_bpe";
    decoding = vocab::Decoding::kByteLevel;
  }

  const gguf::Value* tokens = meta.get_string_array("tokenizer.ggml.tokens");
  if (!tokens) throw VocabularyError("the file has no tokenizer.ggml.tokens", path + ": tokenizer.ggml.tokens");
  if (tokens->count == 0) meta.fail("tokenizer.ggml.tokens is empty", tokens->offset, "tokenizer.ggml.tokens");
  if (tokens->count > static_cast<uint64_t>(kMaxVocabularySize)) {
    meta.fail(std::to_string(tokens->count) + " tokens exceed kMaxVocabularySize (" +
                  std::to_string(kMaxVocabularySize) + ")",
              tokens->offset, "tokenizer.ggml.tokens");
  }
  const gguf::Value* types = meta.get_int_array("tokenizer.ggml.token_type");
  if (types && types->count != tokens->count) {
    meta.fail("tokenizer.ggml.token_type has " + std::to_string(types->count) + " entries for " +
                  std::to_string(tokens->count) + " tokens",
              types->offset, "tokenizer.ggml.token_type");
  }

  const vocab::Decoding user_defined =
      decoding == vocab::Decoding::kSentencePiece ? vocab::Decoding::kSentencePiece : vocab::Decoding::kLiteral;
  std::vector<vocab::TokenEntry> entries(tokens->count);
  for (size_t id = 0; id < entries.size(); ++id) {
    vocab::TokenEntry& e = entries[id];
    e.name = tokens->strings[id];
    e.present = true;
    const int64_t type = types ? types->int_at(id) : 1;
    switch (type) {
      case 1:  // normal
        e.kind = TokenKind::kNormal;
        e.decoding = decoding;
        break;
      case 2:  // unknown
      case 3:  // control
        e.kind = TokenKind::kSpecial;
        break;
      case 4:  // user-defined
        e.kind = TokenKind::kNormal;
        e.decoding = user_defined;
        break;
      case 5:  // unused
        e.kind = TokenKind::kUnused;
        break;
      case 6:  // byte
        if (!vocab::parse_byte_token(e.name)) {
          meta.fail("token " + std::to_string(id) + " has type byte but its text is not <0xNN>", types->offset,
                    "tokenizer.ggml.token_type");
        }
        e.kind = TokenKind::kNormal;
        e.decoding = vocab::Decoding::kSentencePiece;  // with byte fallback: exactly the byte
        break;
      default:
        meta.fail("token " + std::to_string(id) + " has unknown token type " + std::to_string(type), types->offset,
                  "tokenizer.ggml.token_type");
    }
  }

  std::vector<int32_t> eos_ids;
  if (options.eos_ids.empty()) {
    for (const char* key :
         {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
      std::optional<int64_t> id = meta.get_int(key);
      // llama.cpp writes -1 (or its uint32 image) for "none".
      if (!id || *id == -1 || *id == 0xFFFFFFFF) continue;
      if (*id < 0 || *id >= static_cast<int64_t>(entries.size())) {
        meta.fail(
            std::to_string(*id) + " is not a token id (the file has " + std::to_string(entries.size()) + " tokens)",
            meta.find(key)->offset, key);
      }
      eos_ids.push_back(static_cast<int32_t>(*id));
    }
  }
  vocab::DecodeOptions decode;  // SentencePiece with byte fallback, "▁" for spaces
  return Vocabulary(vocab::build_vocabulary(entries, family, path, std::move(eos_ids), decode, options));
}

}  // namespace stencil
