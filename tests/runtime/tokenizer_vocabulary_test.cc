// Differential test: the runtime tokenizer and stencil::Vocabulary (src/vocab, what masks are built
// from) read the same files independently; they must agree on the bytes of every normal token and
// on which ids are text at all, or a masked generation would decode to other bytes than the
// grammar checked.
#include <gtest/gtest.h>

#include <string>

#include "runtime/tokenizer_test_util.h"
#include "stencil/vocabulary.h"

namespace stencil {
namespace {

class TokenizerVocabularyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerVocabularyTest, SameBytesForEveryNormalToken) {
  STENCIL_LOAD_TOKENIZER_OR_SKIP(tok, GetParam());
  const Vocabulary vocab = Vocabulary::from_file(testing::tokenizer_path(GetParam()));
  ASSERT_EQ(vocab.size(), tok->size());
  int normal = 0, mismatches = 0;
  for (int32_t id = 0; id < vocab.size(); ++id) {
    const TokenAttr a = tok->attr(id);
    const bool tok_text = a == TokenAttr::kNormal || a == TokenAttr::kByte || a == TokenAttr::kUserDefined;
    if (vocab.kind(id) != TokenKind::kNormal) {
      // Control and unused ids are not text in either reader.
      EXPECT_FALSE(a == TokenAttr::kNormal || a == TokenAttr::kByte) << GetParam() << " id " << id;
      continue;
    }
    ++normal;
    EXPECT_TRUE(tok_text) << GetParam() << " id " << id;
    if (tok->token_bytes(id) != vocab.token_bytes(id) && ++mismatches <= 5) {
      ADD_FAILURE() << GetParam() << " id " << id << ": tokenizer \"" << tok->token_bytes(id) << "\" vs vocabulary \""
                    << vocab.token_bytes(id) << "\"";
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(normal, 256);
}

INSTANTIATE_TEST_SUITE_P(All, TokenizerVocabularyTest,
                         ::testing::Values("llama3", "qwen3", "gpt4o", "deepseek_v3", "smollm2", "gpt2", "gpt2.gguf",
                                           "mistral", "gemma3", "llama2.gguf", "stories260k"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (c == '.') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace stencil
