// Round trips and streaming decode of the runtime tokenizer:
//   - decode(encode(s)) == s for a multilingual corpus (the valid-UTF-8 strings of
//     tokenization.jsonl plus more scripts), for every tokenizer we can load;
//   - TextStreamDecoder, fed one id at a time, never emits a chunk that ends inside a UTF-8
//     character, and its chunks add up to decode(ids);
//   - the stories260K reference generations decode to the reference text;
//   - invalid UTF-8: byte-level BPE turns each bad byte into U+FFFD, SentencePiece keeps the bytes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "grammar/utf8.h"
#include "runtime/tokenizer_test_util.h"

namespace stencil {
namespace {

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> c = [] {
    std::vector<std::string> out = {
        "Hello world",
        " two  spaces  and a tab\there\n",
        "Ελληνικά, русский, українська, ქართული, Հայերեն",
        "日本語のテキスト、中文文本，한국어 텍스트",
        "עברית ועربية ووردو: اردو",
        "हिन्दी, বাংলা, தமிழ், తెలుగు, ไทย, ລາວ, ខ្មែរ, မြန်မာ",
        "emoji: 🦙🚀👩🏽‍💻🇫🇷 and ZWJ 👨‍👩‍👧‍👦",
        "math ∀x∈ℝ: x² ≥ 0; ∑ ∫ ≈ ≠ ∞; 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "{\"key\": [1, 2.5e-3, null, true], \"nested\": {\"é\": \"\\u00e9\"}}",
        "    indented code\n\treturn x;\r\n",
        "e\xCC\x81 (decomposed) vs \xC3\xA9 (composed)",
        "",
    };
    std::ifstream in(testing::shared_dir() + "/models/reference/tokenization.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      if (j["tokenizer"] != "llama3" || !j["parse_special"].get<bool>() || !j["text"].is_string()) continue;
      out.push_back(j["text"].get<std::string>());
    }
    return out;
  }();
  return c;
}

bool valid_utf8(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    if (grammar::decode_utf8(s, pos) < 0) return false;
  }
  return true;
}

class TokenizerRoundTripTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerRoundTripTest, DecodeEncodeIsIdentity) {
  STENCIL_LOAD_TOKENIZER_OR_SKIP(tok, GetParam());
  // SentencePiece tokenizers put a "▁" after every special token (llama.cpp), so special texts
  // are kept as text there; byte-level ones match them and render them back.
  const bool spm = tok->family() == "sentencepiece";
  const EncodeOptions enc{.add_special = false, .parse_special = !spm};
  const DecodeOptions dec{.render_special = true, .strip_space_prefix = true};
  ASSERT_GT(corpus().size(), 50u);
  for (const std::string& s : corpus()) {
    const std::vector<int32_t> ids = tok->encode(s, enc);
    EXPECT_EQ(tok->decode(ids, dec), s) << GetParam();
  }
}

TEST_P(TokenizerRoundTripTest, StreamingNeverSplitsACharacter) {
  STENCIL_LOAD_TOKENIZER_OR_SKIP(tok, GetParam());
  const DecodeOptions dec{.render_special = true, .strip_space_prefix = true};
  const bool spm = tok->family() == "sentencepiece";
  int split_chars = 0;  // characters spread over several tokens (the case the decoder exists for)
  for (const std::string& s : corpus()) {
    const std::vector<int32_t> ids = tok->encode(s, {.add_special = false, .parse_special = !spm});
    TextStreamDecoder stream(*tok, dec);
    std::string all;
    for (const int32_t id : ids) {
      const std::string_view chunk = stream.push(id);
      EXPECT_TRUE(valid_utf8(chunk)) << GetParam() << ": chunk ends inside a character in \"" << s << "\"";
      if (!valid_utf8(tok->token_bytes(id, true))) ++split_chars;
      all.append(chunk);
    }
    EXPECT_EQ(stream.flush(), "");
    EXPECT_EQ(all, tok->decode(ids, dec));
  }
  EXPECT_GT(split_chars, 0) << "the corpus never split a character over tokens; the test would prove nothing";
}

INSTANTIATE_TEST_SUITE_P(All, TokenizerRoundTripTest,
                         ::testing::Values("llama3", "qwen3", "gpt4o", "deepseek_v3", "smollm2", "gpt2", "gpt2.gguf",
                                           "mistral", "gemma3", "llama2.gguf", "stories260k"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (c == '.') c = '_';
                           }
                           return n;
                         });

TEST(TextStreamDecoderTest, HoldsBackIncompleteSequencesAndFlushesThem) {
  // A vocabulary of single bytes: "é" (C3 A9) and "🦙" (F0 9F A6 99) arrive one byte per token.
  STENCIL_LOAD_TOKENIZER_OR_SKIP(tok, "gpt2");
  auto id_of_byte = [&](unsigned char b) {
    for (int32_t id = 0; id < tok->size(); ++id) {
      const std::string_view t = tok->token_bytes(id);
      if (t.size() == 1 && static_cast<unsigned char>(t[0]) == b) return id;
    }
    return -1;
  };
  TextStreamDecoder s(*tok);
  EXPECT_EQ(s.push(id_of_byte('a')), "a");
  EXPECT_EQ(s.push(id_of_byte(0xC3)), "");
  EXPECT_EQ(s.push(id_of_byte(0xA9)), "\xC3\xA9");
  EXPECT_EQ(s.push(id_of_byte(0xF0)), "");
  EXPECT_EQ(s.push(id_of_byte(0x9F)), "");
  EXPECT_EQ(s.push(id_of_byte(0xA6)), "");
  EXPECT_EQ(s.push(id_of_byte(0x99)), "\xF0\x9F\xA6\x99");
  // A stray continuation byte can never complete: it goes out at once.
  EXPECT_EQ(s.push(id_of_byte(0x99)), "\x99");
  // An incomplete sequence at the end comes out of flush().
  EXPECT_EQ(s.push(id_of_byte(0xE2)), "");
  EXPECT_EQ(s.push(id_of_byte(0x82)), "");
  EXPECT_EQ(s.flush(), "\xE2\x82");
  // A lead byte followed by a non-continuation: both go out, nothing is held forever.
  EXPECT_EQ(s.push(id_of_byte(0xE2)), "");
  EXPECT_EQ(s.push(id_of_byte('x')), "\xE2x");
}

TEST(TokenizerInvalidUtf8Test, ByteLevelReplacesBadBytesSentencePieceKeepsThem) {
  const std::string bad = "d\xE2\x82 e";
  if (const Tokenizer* tok = testing::load_tokenizer("llama3")) {
    EXPECT_EQ(tok->decode(tok->encode(bad)), "d\xEF\xBF\xBD\xEF\xBF\xBD e");
  }
  if (const Tokenizer* tok = testing::load_tokenizer("llama2.gguf")) {
    // llama.cpp's SentencePiece splits "characters" by the lead byte alone: E2 claims the next two
    // bytes, which after the space became "▁" (E2 96 81) are "82 E2"; the rest of "▁" follows as
    // bytes. So the bad bytes survive, but the space comes back as "▁" (the reference ids agree).
    EXPECT_EQ(tok->decode(tok->encode(bad), {.strip_space_prefix = true}), "d\xE2\x82\xE2\x96\x81" "e");
    EXPECT_EQ(tok->decode(tok->encode("ab\xFF\xFE!"), {.strip_space_prefix = true}), "ab\xFF\xFE!");
  }
  if (testing::load_tokenizer("llama3") == nullptr && testing::load_tokenizer("llama2.gguf") == nullptr) {
    GTEST_SKIP() << "no tokenizer data";
  }
}

// The reference greedy generations of stories260K decode to the reference text (llama.cpp's
// token_to_piece, no leading-space strip: the text follows the prompt).
TEST(TokenizerStoriesTest, ReferenceGenerationsDecodeToReferenceText) {
  STENCIL_LOAD_TOKENIZER_OR_SKIP(tok, "stories260k");
  std::ifstream in(testing::shared_dir() + "/models/reference/stories260k_generation.json");
  if (!in) GTEST_SKIP() << "stories260k_generation.json is absent";
  const auto j = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& [name, run] : j["runs"].items()) {
    EXPECT_EQ(tok->encode("Once upon a time", {.add_special = true}), run["prompt_ids"].get<std::vector<int32_t>>());
    for (const char* ctx : {"default_ctx", "kv_f32_fa_off"}) {
      const auto ids = run[ctx]["generated_ids"].get<std::vector<int32_t>>();
      EXPECT_EQ(tok->decode(ids), run[ctx]["text"].get<std::string>()) << name << "/" << ctx;
      TextStreamDecoder stream(*tok);
      std::string streamed;
      for (const int32_t id : ids) streamed.append(stream.push(id));
      streamed += stream.flush();
      EXPECT_EQ(streamed, run[ctx]["text"].get<std::string>()) << name << "/" << ctx;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 8);
}

}  // namespace
}  // namespace stencil
