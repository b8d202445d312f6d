// The runtime tokenizer on small hand-built tokenizer.json files (exact BPE behaviour without the
// shared data) and on malformed input: every failure is a VocabularyError naming the key or file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/tokenizer_test_util.h"
#include "stencil/errors.h"
#include "stencil/runtime/tokenizer.h"

namespace stencil {
namespace {

// A byte-level tokenizer.json: the 256 byte tokens (GPT-2 mapping) plus the given merges.
std::string byte_level_json(const std::vector<std::pair<std::string, std::string>>& merges,
                            const std::string& extra = "") {
  std::string vocab;
  int id = 0;
  auto add = [&](const std::string& s) {
    if (!vocab.empty()) vocab += ',';
    vocab += '"';
    vocab += s;
    vocab += "\":";
    vocab += std::to_string(id++);
  };
  // Printable ASCII bytes other than '"' and '\\' map to themselves; the rest is not needed here.
  for (char c = '!'; c <= '~'; ++c) {
    if (c != '"' && c != '\\') add(std::string(1, c));
  }
  add("\xC4\xA0");  // "Ġ" = byte 0x20
  std::string m;
  for (const auto& [a, b] : merges) {
    add(a + b);
    if (!m.empty()) m += ',';
    m += '"';
    m += a;
    m += ' ';
    m += b;
    m += '"';
  }
  return R"({"model":{"type":"BPE","vocab":{)" + vocab + R"(},"merges":[)" + m +
         R"(]},"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},"added_tokens":[)" +
         extra + "]}";
}

std::vector<std::string> pieces(const Tokenizer& t, std::string_view text) {
  std::vector<std::string> out;
  for (const int32_t id : t.encode(text)) out.emplace_back(t.token_bytes(id, true));
  return out;
}

using V = std::vector<std::string>;

TEST(TokenizerBpeTest, MergesByRankLeftmostFirst) {
  const Tokenizer t = Tokenizer::from_tokenizer_json_text(byte_level_json({{"a", "b"}, {"ab", "c"}, {"b", "c"}, {"a", "a"}}));
  EXPECT_EQ(pieces(t, "abc"), (V{"abc"}));         // (a,b) rank 0 before (b,c) rank 2
  EXPECT_EQ(pieces(t, "bc"), (V{"bc"}));
  EXPECT_EQ(pieces(t, "aaa"), (V{"aa", "a"}));     // equal ranks: leftmost first
  EXPECT_EQ(pieces(t, "aab"), (V{"a", "ab"}));     // (a,b) outranks (a,a)
  // The pre-tokenizer splits first: " ab" is its own piece, and "Ġa" + "b" has no merge.
  EXPECT_EQ(pieces(t, "ab ab"), (V{"ab", " ", "ab"}));
}

TEST(TokenizerBpeTest, AddedTokensAreSplitOutFirst) {
  const Tokenizer t = Tokenizer::from_tokenizer_json_text(
      byte_level_json({{"a", "b"}}, R"({"id":500,"content":"<|end|>","special":true},{"id":501,"content":"<x>","special":false})"));
  EXPECT_EQ(t.size(), 502);
  EXPECT_EQ(t.encode("ab<|end|>ab"), (std::vector<int32_t>{t.find_token("ab"), 500, t.find_token("ab")}));
  // Control tokens only with parse_special; user-defined ones always.
  EXPECT_EQ(t.encode("<|end|>", {.parse_special = false}).size(), 7u);
  EXPECT_EQ(t.encode("<x>", {.parse_special = false}), (std::vector<int32_t>{501}));
  EXPECT_EQ(t.attr(500), TokenAttr::kControl);
  EXPECT_EQ(t.attr(501), TokenAttr::kUserDefined);
  EXPECT_EQ(t.attr(499), TokenAttr::kUnused);  // a hole in the id space
  EXPECT_EQ(t.token_bytes(500), "");
  EXPECT_EQ(t.token_bytes(500, true), "<|end|>");
  EXPECT_TRUE(t.is_eos(500));  // a well-known end-of-turn name
}

TEST(TokenizerErrorsTest, MalformedTokenizerJson) {
  struct Bad {
    std::string json;
    std::string location_part;
  };
  const std::vector<Bad> cases = {
      {"not json", "tokenizer.json"},
      {R"({"model":{"type":"WordPiece","vocab":{}}})", "/model/type"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":{"type":"Lowercase"}})", "/normalizer"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?<=a)b"},"behavior":"Isolated"}})",
       "pre_tokenizer"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Whitespace"}})", "/pre_tokenizer"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[42]}})", "/model/merges/0"},
      {R"({"model":{"type":"BPE","vocab":{"a":-5},"merges":[]}})", "/model/vocab"},
      {R"({"model":{"type":"BPE","vocab":{"a":99999999},"merges":[]}})", "/model/vocab"},
      {R"({"nomodel":1})", "tokenizer.json"},
  };
  for (const Bad& b : cases) {
    try {
      Tokenizer::from_tokenizer_json_text(b.json);
      ADD_FAILURE() << "no error for " << b.json;
    } catch (const VocabularyError& e) {
      EXPECT_NE(e.location().find(b.location_part), std::string::npos) << e.what() << " for " << b.json;
    }
  }
}

TEST(TokenizerErrorsTest, MissingAndTruncatedFiles) {
  EXPECT_THROW(Tokenizer::from_file("/nonexistent/tokenizer.json"), VocabularyError);
  EXPECT_THROW(Tokenizer::from_file(::testing::TempDir()), VocabularyError);  // a folder without tokenizer.json
  EXPECT_THROW(Tokenizer::from_file("/nonexistent/model.gguf"), VocabularyError);
  const std::string src = testing::tokenizer_path("gpt2.gguf");
  if (src.empty()) GTEST_SKIP() << "gpt2 GGUF absent";
  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string tmp = ::testing::TempDir() + "truncated_vocab.gguf";
  for (const size_t keep : {size_t{3}, size_t{100}, bytes.size() / 2}) {
    std::ofstream(tmp, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    try {
      Tokenizer::from_file(tmp);
      ADD_FAILURE() << "no error for a GGUF cut at " << keep;
    } catch (const VocabularyError& e) {
      EXPECT_NE(std::string(e.what()).find(tmp), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove(tmp);
}

// Arbitrary bytes (invalid UTF-8, NULs, lone special-token fragments) never crash, and every id
// produced is in range; arbitrary ids (negative, too large) decode to nothing rather than crash.
TEST(TokenizerRobustnessTest, RandomBytesAndIds) {
  int loaded = 0;
  for (const char* source : {"llama3", "gpt2.gguf", "llama2.gguf", "mistral", "stories260k"}) {
    const Tokenizer* tok = testing::load_tokenizer(source);
    if (tok == nullptr) continue;
    ++loaded;
    uint64_t x = 88172645463325252ull;  // xorshift64: a fixed, portable stream
    auto next = [&] {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return x;
    };
    const std::string alphabet = std::string("<|>[]/sINT \n\t\r\0e\xC3\xA9\xF0\x9F\xE2\x96\x81\xFF", 24);  // 24 bytes, NUL included
    for (int round = 0; round < 300; ++round) {
      std::string text;
      const size_t len = next() % 64;
      for (size_t i = 0; i < len; ++i) {
        text.push_back(next() % 2 ? static_cast<char>(next() & 0xFF) : alphabet[next() % alphabet.size()]);
      }
      for (const bool special : {false, true}) {
        const std::vector<int32_t> ids = tok->encode(text, {.add_special = special, .parse_special = special});
        for (const int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok->size()) << source << " id " << id;
        if (!special && text.find('\0') == std::string::npos) EXPECT_FALSE(ids.empty() && !text.empty()) << source;
      }
    }
    TextStreamDecoder stream(*tok);
    std::string out;
    for (int i = 0; i < 1000; ++i) {
      const auto id = static_cast<int32_t>(next() % (static_cast<uint64_t>(tok->size()) + 200)) - 100;
      out.append(stream.push(id));
    }
    out += stream.flush();
    EXPECT_EQ(tok->decode(std::vector<int32_t>{-1, tok->size(), tok->size() + 1000}), "");
    EXPECT_EQ(tok->token_bytes(-5), "");
    EXPECT_EQ(tok->token_text(tok->size()), "");
  }
  if (loaded == 0) GTEST_SKIP() << "no tokenizer data";
}

TEST(TokenizerFileTest, AFolderMeansItsTokenizerJson) {
  const std::string json = testing::tokenizer_path("smollm2");
  if (json.empty()) GTEST_SKIP() << "smollm2 tokenizer.json absent";
  const Tokenizer t = Tokenizer::from_file(json.substr(0, json.size() - std::string("/tokenizer.json").size()));
  EXPECT_EQ(t.size(), 49152);
  EXPECT_EQ(t.encode("Hello world"), (std::vector<int32_t>{19556, 905}));
}

}  // namespace
}  // namespace stencil
