// Tests of stencil::Vocabulary on every shared tokenizer: known ids decode to the
// exact bytes (checked by hand against the files), counts by kind, EOS ids, and a
// digest of every id's kind and bytes computed independently by
// tests/vocab/expected_vocab.py (run: python3 tests/vocab/expected_vocab.py <build>/data).
// Also small synthetic tokenizer.json documents for each family and rule, and the
// errors for malformed input. GGUF reader details are in gguf_metadata_test.cc.
#include "stencil/vocabulary.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "stencil/errors.h"
#include "vocab/vocabulary_impl.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;

// The file `name` (e.g. "llama3/tokenizer.json") from the decompressed data folder, or
// from the shared folder when it is stored there uncompressed; "" when neither has it.
std::string tokenizer_path(const std::string& name) {
  for (const fs::path& dir : {fs::path(STENCIL_DATA_DIR) / "tokenizers", fs::path(STENCIL_SHARED_DIR) / "tokenizers"}) {
    fs::path p = dir / name;
    if (fs::is_regular_file(p)) return p.string();
  }
  return "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// FNV-1a 64 over (kind byte, u32 LE length, bytes) of every id: the digest expected_vocab.py prints.
uint64_t vocabulary_digest(const Vocabulary& v) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto add = [&](unsigned char c) { h = (h ^ c) * 0x100000001b3ull; };
  for (int32_t id = 0; id < v.size(); ++id) {
    add(static_cast<unsigned char>(v.kind(id)));
    std::string_view b = v.token_bytes(id);
    uint32_t n = static_cast<uint32_t>(b.size());
    for (int k = 0; k < 4; ++k) add(static_cast<unsigned char>(n >> (8 * k)));
    for (char c : b) add(static_cast<unsigned char>(c));
  }
  return h;
}

struct SpotCheck {
  int32_t id;
  TokenKind kind;
  std::string bytes;  // exact bytes (empty for special/unused)
  std::string name;   // as written in the file
};

struct TokenizerCase {
  std::string file;
  std::string family;
  int32_t size, normal, special, unused;
  std::vector<int32_t> eos;
  uint64_t digest;
  std::vector<SpotCheck> spots;
};

constexpr TokenKind N = TokenKind::kNormal;
constexpr TokenKind S = TokenKind::kSpecial;
constexpr TokenKind U = TokenKind::kUnused;

// Counts, EOS ids and digests: from tests/vocab/expected_vocab.py. Spot checks: the
// names read from the files with python (json / the GGUF reader in expected_vocab.py),
// their bytes worked out by hand (GPT-2 table: Ġ=0x20, Ċ=0x0A, ä¸Ń=E4 B8 AD "中",
// Ã©=C3 A9 "é", ÿ=0xFF, ðŁĺĢ=F0 9F 98 80 "😀"; SentencePiece: ▁=space, <0xNN>=byte).
const std::vector<TokenizerCase>& cases() {
  static const std::vector<TokenizerCase> kCases = {
      {"llama3/tokenizer.json",
       "byte_level_bpe",
       128256,
       128000,
       256,
       0,
       {128001, 128009},
       0xd2043d769b90aad0ull,
       {{9906, N, "Hello", "Hello"},
        {1917, N, " world", "\xC4\xA0world"},
        {198, N, "\n", "\xC4\x8A"},
        {220, N, " ", "\xC4\xA0"},
        {16325, N, "\xE4\xB8\xAD", "\xC3\xA4\xC2\xB8\xC5\x83"},
        {978, N, "\xC3\xA9", "\xC3\x83\xC2\xA9"},
        {187, N, "\xFF", "\xC3\xBF"},
        {160, N, "\xE4", "\xC3\xA4"},
        {53050, N, " caf\xC3\xA9",
         "\xC4\xA0"
         "caf\xC3\x83\xC2\xA9"},
        {128000, S, "", "<|begin_of_text|>"},
        {128009, S, "", "<|eot_id|>"}}},
      {"qwen3/tokenizer.json",
       "byte_level_bpe",
       151669,
       151655,
       14,
       0,
       {151643, 151645},
       0x27ac34091f1ea476ull,
       {{9707, N, "Hello", "Hello"},
        {1879, N, " world", "\xC4\xA0world"},
        {141334, N, "\xF0\x9F\x98\x80", "\xC3\xB0\xC5\x81\xC4\xBA\xC4\xA2"},
        // Non-special added tokens are literal text.
        {151657, N, "<tool_call>", "<tool_call>"},
        {151667, N, "<think>", "<think>"},
        {151643, S, "", "<|endoftext|>"},
        {151645, S, "", "<|im_end|>"}}},
      {"gemma3/tokenizer.json",
       "sentencepiece",
       262145,
       262136,
       9,
       0,
       {1, 106},
       0xd2ccf2ef5875c3b5ull,
       {{9259, N, "Hello", "Hello"},
        {1902, N, " world", "\xE2\x96\x81world"},
        {107, N, "\n", "\n"},
        {138, N, "  ", "\xE2\x96\x81\xE2\x96\x81"},  // a non-special added token: SentencePiece-decoded
        {493, N, "\xFF", "<0xFF>"},
        {466, N, "\xE4", "<0xE4>"},
        {33443, N, " caf\xC3\xA9",
         "\xE2\x96\x81"
         "caf\xC3\xA9"},
        {242398, N, "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
        {6, N, "<unused0>", "<unused0>"},
        {212, N, "</s>", "</s>"},  // not special in Gemma 3, so text and not EOS
        {105, S, "", "<start_of_turn>"},
        {106, S, "", "<end_of_turn>"},
        {1, S, "", "<eos>"},
        {262144, S, "", "<image_soft_token>"}}},
      {"gpt4o/tokenizer.json",
       "byte_level_bpe",
       200019,
       199998,
       2,
       19,
       {199999},
       0xfa448bd98cbd7ed1ull,
       {{13225, N, "Hello", "Hello"},
        {2375, N, " world", "\xC4\xA0world"},
        {1404, N, "\xE4\xB8\xAD", "\xC3\xA4\xC2\xB8\xC5\x83"},
        {84083, N, "\xF0\x9F\x98\x80", "\xC3\xB0\xC5\x81\xC4\xBA\xC4\xA2"},
        {199997, N, " cocos",
         "\xC4\xA0"
         "cocos"},
        {199998, U, "", ""},
        {199999, S, "", "<|endoftext|>"},
        {200000, U, "", ""},
        {200017, U, "", ""},
        {200018, S, "", "<|endofprompt|>"}}},
      {"deepseek_v3/tokenizer.json",
       "byte_level_bpe",
       128815,
       128011,
       804,
       0,
       {1},
       0x032209860435db1bull,
       {{19923, N, "Hello", "Hello"},
        {2058, N, " world", "\xC4\xA0world"},
        {201, N, "\n", "\xC4\x8A"},
        {525, N, "\xE4\xB8\xAD", "\xC3\xA4\xC2\xB8\xC5\x83"},
        // "<｜fim▁hole｜>": a non-special added token, literal UTF-8 (▁ stays ▁ in byte-level BPE).
        {128800, N,
         "<\xEF\xBD\x9C"
         "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
         "<\xEF\xBD\x9C"
         "fim\xE2\x96\x81hole\xEF\xBD\x9C>"},
        {128798, S, "",
         "<\xEF\xBD\x9Cplace\xE2\x96\x81holder\xE2\x96\x81no\xE2\x96\x81"
         "798\xEF\xBD\x9C>"},
        {0, S, "",
         "<\xEF\xBD\x9C"
         "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"},
        {1, S, "",
         "<\xEF\xBD\x9C"
         "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"}}},
      {"gpt2/tokenizer.json",
       "byte_level_bpe",
       50257,
       50256,
       1,
       0,
       {50256},
       0x2ef6923a90ce61d3ull,
       {{15496, N, "Hello", "Hello"},
        {995, N, " world", "\xC4\xA0world"},
        {198, N, "\n", "\xC4\x8A"},
        {40792, N, "\xE4\xB8\xAD", "\xC3\xA4\xC2\xB8\xC5\x83"},
        {50256, S, "", "<|endoftext|>"}}},
      {"gpt2/ggml-vocab-gpt-2.gguf",
       "byte_level_bpe",
       50257,
       50256,
       1,
       0,
       {50256},
       0x2ef6923a90ce61d3ull,
       {{15496, N, "Hello", "Hello"},
        {995, N, " world", "\xC4\xA0world"},
        {198, N, "\n", "\xC4\x8A"},
        {40792, N, "\xE4\xB8\xAD", "\xC3\xA4\xC2\xB8\xC5\x83"},
        {50256, S, "", "<|endoftext|>"}}},
      {"smollm2/tokenizer.json",
       "byte_level_bpe",
       49152,
       49135,
       17,
       0,
       {0, 2},
       0x413ac94ee3bfd76eull,
       {{19556, N, "Hello", "Hello"},
        {905, N, " world", "\xC4\xA0world"},
        {216, N, " ", "\xC4\xA0"},
        {175, N, "\xE4", "\xC3\xA4"},
        {17, N, "!", "!"},
        {0, S, "", "<|endoftext|>"},
        {1, S, "", "<|im_start|>"},
        {2, S, "", "<|im_end|>"}}},
      {"mistral/tokenizer.json",
       "sentencepiece",
       32000,
       31997,
       3,
       0,
       {2},
       0x338247c530985996ull,
       {{16230, N, "Hello", "Hello"},
        {1526, N, " world", "\xE2\x96\x81world"},
        {13, N, "\n", "<0x0A>"},
        {35, N, " ", "<0x20>"},
        {28705, N, " ", "\xE2\x96\x81"},
        {259, N, "  ", "\xE2\x96\x81\xE2\x96\x81"},
        {28991, N, "\xE4\xB8\xAD", "\xE4\xB8\xAD"},
        {30575, N, "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
        {0, S, "", "<unk>"},
        {1, S, "", "<s>"},
        {2, S, "", "</s>"}}},
      {"llama2/ggml-vocab-llama-spm.gguf",
       "sentencepiece",
       32000,
       31997,
       3,
       0,
       {2},
       0x7dcd752d5df431a8ull,
       {{15043, N, " Hello", "\xE2\x96\x81Hello"},  // "Hello world" -> [1, 15043, 3186] per llama.cpp
        {3186, N, " world", "\xE2\x96\x81world"},
        {10994, N, "Hello", "Hello"},
        {13, N, "\n", "<0x0A>"},
        {35, N, " ", "<0x20>"},
        {258, N, "\xFF", "<0xFF>"},
        {259, N, "  ", "\xE2\x96\x81\xE2\x96\x81"},
        {30275, N, "\xE4\xB8\xAD", "\xE4\xB8\xAD"},
        {29948, N, "\xC3\xA9", "\xC3\xA9"},
        {0, S, "", "<unk>"},
        {1, S, "", "<s>"},
        {2, S, "", "</s>"}}},
  };
  return kCases;
}

class SharedTokenizerTest : public ::testing::TestWithParam<TokenizerCase> {};

TEST_P(SharedTokenizerTest, DecodesEveryIdExactly) {
  const TokenizerCase& c = GetParam();
  std::string path = tokenizer_path(c.file);
  if (path.empty()) GTEST_SKIP() << c.file << " is absent (run scripts/prepare-data to decompress the shared data)";

  auto t0 = std::chrono::steady_clock::now();
  Vocabulary v = Vocabulary::from_file(path);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ load     ] %s: %.1f ms, %d ids\n", c.file.c_str(), ms, v.size());
  RecordProperty("load_ms", std::to_string(ms));

  EXPECT_EQ(v.family(), c.family);
  EXPECT_EQ(v.size(), c.size);
  EXPECT_EQ(v.normal_count(), c.normal);
  EXPECT_EQ(v.special_count(), c.special);
  EXPECT_EQ(v.impl().unused_count, c.unused);
  EXPECT_EQ(std::vector<int32_t>(v.eos_ids().begin(), v.eos_ids().end()), c.eos);
  for (const SpotCheck& s : c.spots) {
    SCOPED_TRACE("id " + std::to_string(s.id));
    EXPECT_EQ(v.kind(s.id), s.kind);
    EXPECT_EQ(v.token_bytes(s.id), s.bytes);
    EXPECT_EQ(v.token_name(s.id), s.name);
  }
  for (int32_t id = 0; id < v.size(); ++id) {
    // Only normal tokens have bytes, and every normal token has some.
    ASSERT_EQ(v.token_bytes(id).empty(), v.kind(id) != TokenKind::kNormal) << id;
    ASSERT_EQ(v.is_eos(id), std::find(c.eos.begin(), c.eos.end(), id) != c.eos.end()) << id;
  }
  EXPECT_EQ(vocabulary_digest(v), c.digest) << "see tests/vocab/expected_vocab.py";
}

INSTANTIATE_TEST_SUITE_P(Shared, SharedTokenizerTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<TokenizerCase>& info) {
                           std::string n = info.param.file;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

// The general SAX path (taken for unusual shapes and to report errors) must read the real
// files exactly like the fast path.
TEST(TokenizerJsonTest, SaxPathMatchesFastPathOnRealFiles) {
  int checked = 0;
  for (const char* name : {"llama3", "gpt4o", "gemma3", "mistral"}) {
    std::string path = tokenizer_path(std::string(name) + "/tokenizer.json");
    if (path.empty()) continue;
    std::string text = read_file(path);
    std::string config_path = tokenizer_path(std::string(name) + "/tokenizer_config.json");
    std::string config = config_path.empty() ? "" : read_file(config_path);
    Vocabulary fast = Vocabulary::from_tokenizer_json_text(text, config);
    Vocabulary slow = vocab::tokenizer_json_sax_path(text, config, {});
    EXPECT_EQ(vocabulary_digest(fast), vocabulary_digest(slow)) << name;
    EXPECT_EQ(std::vector<int32_t>(fast.eos_ids().begin(), fast.eos_ids().end()),
              std::vector<int32_t>(slow.eos_ids().begin(), slow.eos_ids().end()));
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no tokenizer.json found (run scripts/prepare-data)";
}

TEST(TokenizerJsonTest, Llama3LoadTime) {
  std::string path = tokenizer_path("llama3/tokenizer.json");
  if (path.empty()) GTEST_SKIP() << "llama3/tokenizer.json is absent (run scripts/prepare-data)";
  double best = 1e9;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    Vocabulary v = Vocabulary::from_tokenizer_json(path);
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_EQ(v.size(), 128256);
  }
  // Target (issue 2): <= 200 ms in Release. Logged, not asserted: the machine is shared.
  std::printf("[ timing   ] llama3 tokenizer.json -> Vocabulary: best of 3 = %.1f ms (target 200 ms)\n", best);
  RecordProperty("llama3_load_ms", std::to_string(best));
}

TEST(TokenizerJsonTest, EosOptionsOverrideTheConfig) {
  std::string path = tokenizer_path("llama3/tokenizer.json");
  if (path.empty()) GTEST_SKIP() << "llama3/tokenizer.json is absent (run scripts/prepare-data)";
  VocabularyOptions options;
  options.eos_ids = {128009};
  options.padded_size = 128512;
  Vocabulary v = Vocabulary::from_tokenizer_json(path, options);
  EXPECT_EQ(std::vector<int32_t>(v.eos_ids().begin(), v.eos_ids().end()), std::vector<int32_t>{128009});
  EXPECT_FALSE(v.is_eos(128001));
  EXPECT_EQ(v.size(), 128512);
  EXPECT_EQ(v.impl().tokenizer_size, 128256);
  EXPECT_EQ(v.impl().unused_count, 256);
  EXPECT_EQ(v.kind(128300), TokenKind::kUnused);
  EXPECT_EQ(v.kind(128511), TokenKind::kUnused);
  EXPECT_EQ(v.token_bytes(128511), "");
  EXPECT_EQ(v.token_bytes(1917), " world");
}

// ---- small synthetic tokenizer.json documents ----

// A tokenizer.json with the given model and top-level parts.
std::string doc(const std::string& model, const std::string& rest = "") {
  return R"({"version": "1.0", )" + rest + (rest.empty() ? "" : ", ") + R"("model": )" + model + "}";
}

const char* kByteLevelDecoder = R"("decoder": {"type": "ByteLevel", "add_prefix_space": true})";
const char* kSpmDecoder =
    R"("decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},)"
    R"( {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})";

struct DocCase {
  std::string label;
  std::string json;
  std::string config;
  std::string family;
  std::vector<std::pair<TokenKind, std::string>> tokens;  // every id: kind and bytes
  std::vector<int32_t> eos;
};

class SyntheticDocTest : public ::testing::TestWithParam<DocCase> {};

TEST_P(SyntheticDocTest, Decodes) {
  const DocCase& c = GetParam();
  Vocabulary v = Vocabulary::from_tokenizer_json_text(c.json, c.config);
  EXPECT_EQ(v.family(), c.family);
  ASSERT_EQ(v.size(), static_cast<int32_t>(c.tokens.size()));
  for (int32_t id = 0; id < v.size(); ++id) {
    EXPECT_EQ(v.kind(id), c.tokens[id].first) << "id " << id;
    EXPECT_EQ(v.token_bytes(id), c.tokens[id].second) << "id " << id;
  }
  EXPECT_EQ(std::vector<int32_t>(v.eos_ids().begin(), v.eos_ids().end()), c.eos);
  // The SAX path agrees on every document.
  Vocabulary slow = vocab::tokenizer_json_sax_path(c.json, c.config, {});
  EXPECT_EQ(vocabulary_digest(slow), vocabulary_digest(v));
}

INSTANTIATE_TEST_SUITE_P(
    Families, SyntheticDocTest,
    ::testing::Values(
        DocCase{"ByteLevelWithAddedTokens",
                doc(R"({"type": "BPE", "vocab": {"a": 0, "\u0120b": 1, "\u010a": 2, "\u00c3\u00a9": 3, "\u00ff": 4,)"
                    R"( "<|endoftext|>": 5}, "merges": ["a b", ["\u0120", "b"]]})",
                    std::string(kByteLevelDecoder) +
                        R"(, "added_tokens": [{"id": 5, "content": "<|endoftext|>", "special": true},)"
                        R"( {"id": 7, "content": "<tool> \u0120", "special": false},)"
                        R"( {"id": 8, "content": "<|im_end|>", "special": true}])"),
                "",
                "byte_level_bpe",
                {{N, "a"},
                 {N, " b"},
                 {N, "\n"},
                 {N, "\xC3\xA9"},
                 {N, "\xFF"},
                 {S, ""},
                 {U, ""},
                 {N, "<tool> \xC4\xA0"},
                 {S, ""}},
                {5, 8}},
        DocCase{"ByteLevelNameOutsideTheTableIsLiteral",
                doc(R"({"type": "BPE", "vocab": {"\u4e2d": 0, "x\u0120": 1}, "merges": []})",
                    R"("pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}]})"),
                "",
                "byte_level_bpe",
                {{N, "\xE4\xB8\xAD"}, {N, "x "}},
                {}},
        DocCase{
            "SentencePieceByteFallback",
            doc(R"({"type": "BPE", "byte_fallback": true, "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2,)"
                R"( "<0x0A>": 3, "<0xff>": 4, "\u2581Hello": 5, "\u2581\u2581": 6, "<0x4G>": 7, "x\u2581y": 8},)"
                R"( "merges": []})",
                std::string(kSpmDecoder) + R"(, "added_tokens": [{"id": 0, "content": "<unk>", "special": true},)"
                                           R"( {"id": 1, "content": "<s>", "special": true},)"
                                           R"( {"id": 2, "content": "</s>", "special": true}])"),
            R"({"eos_token": "</s>", "bos_token": "<s>", "chat_template": "{{ x }}"})",
            "sentencepiece",
            {{S, ""}, {S, ""}, {S, ""}, {N, "\n"}, {N, "\xFF"}, {N, " Hello"}, {N, "  "}, {N, "<0x4G>"}, {N, "x y"}},
            {2}},
        DocCase{"MetaspaceWithoutByteFallback",
                doc(R"({"type": "Unigram", "vocab": [["<unk>", 0.0], ["\u2581a", -1.5], ["<0x0A>", -2]]})",
                    R"("decoder": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": true})"),
                "",
                "sentencepiece",
                {{N, "<unk>"}, {N, " a"}, {N, "<0x0A>"}},
                {}},
        DocCase{"PlainWordLevel",
                doc(R"({"type": "WordLevel", "vocab": {"hello": 0, "\u2581x": 1, "<0x0A>": 2, "\"q\"\\/": 3}})"),
                "",
                "tokens",
                {{N, "hello"}, {N, "\xE2\x96\x81x"}, {N, "<0x0A>"}, {N, "\"q\"\\/"}},
                {}},
        DocCase{"ConfigEosAsObjectPlusWellKnown",
                doc(R"({"type": "BPE", "vocab": {"a": 0, "<|im_end|>": 1, "<|endoftext|>": 2, "</s>": 3}})",
                    R"("added_tokens": [{"id": 1, "content": "<|im_end|>", "special": true},)"
                    R"( {"id": 2, "content": "<|endoftext|>", "special": true}])"),
                R"({"eos_token": {"__type": "AddedToken", "content": "<|im_end|>"}})",
                "tokens",
                {{N, "a"}, {S, ""}, {S, ""}, {N, "</s>"}},
                {1, 2}},
        DocCase{"ConfigEosNamingAVocabTokenMakesItSpecial",
                doc(R"({"type": "BPE", "vocab": {"a": 0, "<end>": 1}})"),
                R"({"eos_token": "<end>"})",
                "tokens",
                {{N, "a"}, {S, ""}},
                {1}},
        DocCase{"ConfigWithNullEos",
                doc(R"({"type": "BPE", "vocab": {"a": 0}})"),
                R"({"eos_token": null})",
                "tokens",
                {{N, "a"}},
                {}},
        DocCase{"EscapesAndSurrogatesInVocabKeys",
                doc(R"({"type": "WordLevel", "vocab": {"\ud83d\ude00": 0, "\t\n\r\b\f": 1, "caf\u00e9": 2}})"),
                "",
                "tokens",
                {{N, "\xF0\x9F\x98\x80"}, {N, "\t\n\r\b\f"}, {N, "caf\xC3\xA9"}},
                {}}),
    [](const ::testing::TestParamInfo<DocCase>& info) { return info.param.label; });

// ---- errors: always a VocabularyError with a useful location, never a crash ----

struct ErrorCase {
  std::string label;
  std::string json;
  std::string config;
  std::string location;  // expected location()
  std::string message;   // a substring of message()
};

class TokenizerJsonErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(TokenizerJsonErrorTest, Throws) {
  const ErrorCase& c = GetParam();
  try {
    Vocabulary::from_tokenizer_json_text(c.json, c.config);
    FAIL() << "no error";
  } catch (const VocabularyError& e) {
    EXPECT_EQ(e.location(), c.location) << e.what();
    EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, TokenizerJsonErrorTest,
    ::testing::Values(
        ErrorCase{"Empty", "", "", "tokenizer.json:1:1", "unexpected end of input"},
        ErrorCase{"Truncated", R"({"model": {"vocab": {"a": 0, "b)", "", "tokenizer.json:1:32",
                  "missing closing quote"},
        ErrorCase{"TrailingComma", "{\"model\": {\"vocab\": {\"a\": 0,}}}", "", "tokenizer.json:1:29",
                  "expected string literal"},
        ErrorCase{"SecondLine", "{\"model\":\n  {\"vocab\": {\"a\": 0}} x}", "", "tokenizer.json:2:23", "syntax error"},
        ErrorCase{"BadEscape", R"({"model": {"vocab": {"a\q": 0}}})", "", "tokenizer.json:1:25",
                  "forbidden character after backslash"},
        ErrorCase{"TopLevelArray", R"([1, 2])", "", "tokenizer.json: /", "top level must be an object"},
        ErrorCase{"TopLevelString", R"("model")", "", "tokenizer.json: /", "top level must be an object"},
        ErrorCase{"TopLevelNumber", "5", "", "tokenizer.json: /", "top level must be an object"},
        ErrorCase{"NoModel", R"({"version": "1.0"})", "", "tokenizer.json: /model", "no \"model\""},
        ErrorCase{"NoVocab", R"({"model": {"type": "BPE", "merges": []}})", "", "tokenizer.json: /model/vocab",
                  "no \"vocab\""},
        ErrorCase{"EmptyVocab", R"({"model": {"vocab": {}}})", "", "tokenizer.json: /model/vocab", "empty"},
        ErrorCase{"NegativeId", R"({"model": {"vocab": {"a": 0, "b": -1}}})", "", "tokenizer.json: /model/vocab/b",
                  "non-negative integer"},
        ErrorCase{"FloatId", R"({"model": {"vocab": {"a/b": 1.5}}})", "", "tokenizer.json: /model/vocab/a~1b",
                  "must be an integer"},
        ErrorCase{"StringId", R"({"model": {"vocab": {"a": "0"}}})", "", "tokenizer.json: /model/vocab/a",
                  "must be an integer"},
        ErrorCase{"HugeId", R"({"model": {"vocab": {"a": 4294967296}}})", "", "tokenizer.json: /model/vocab/a",
                  "kMaxVocabularySize"},
        ErrorCase{"DuplicateId", R"({"model": {"vocab": {"a": 0, "b": 0}}})", "", "tokenizer.json: /model/vocab/b",
                  "also the id of \"a\""},
        ErrorCase{"AddedTokensNotArray", R"({"added_tokens": 5, "model": {"vocab": {"a": 0}}})", "",
                  "tokenizer.json: /added_tokens", "must be an array"},
        ErrorCase{"AddedTokenWithoutId", R"({"added_tokens": [{"content": "x"}], "model": {"vocab": {"a": 0}}})", "",
                  "tokenizer.json: /added_tokens/0/id", "non-negative integer"},
        ErrorCase{"AddedTokenBadSpecial",
                  R"({"added_tokens": [{"id": 1, "content": "x", "special": "yes"}], "model": {"vocab": {"a": 0}}})",
                  "", "tokenizer.json: /added_tokens/0/special", "true or false"},
        ErrorCase{"UnigramEntryNotPair", R"({"model": {"type": "Unigram", "vocab": [["a", 0.0], "b"]}})", "",
                  "tokenizer.json: /model/vocab/1", "[piece, score]"},
        ErrorCase{"DeepNesting", "{\"x\": " + std::string(100000, '[') + std::string(100000, ']') + "}", "",
                  "tokenizer.json: " +
                      [] {
                        std::string p = "/x";
                        for (int i = 0; i < 126; ++i) p += "/0";
                        return p;
                      }(),
                  "kMaxTokenizerJsonDepth"},
        ErrorCase{"ConfigInvalidJson", R"({"model": {"vocab": {"a": 0}}})", R"({"eos_token": )",
                  "tokenizer_config.json:1:15", "unexpected end of input"},
        ErrorCase{"ConfigDeepNesting", R"({"model": {"vocab": {"a": 0}}})",
                  "{\"x\": " + std::string(50000, '[') + std::string(50000, ']') + "}", "tokenizer_config.json",
                  "kMaxTokenizerJsonDepth"},
        ErrorCase{"ConfigEosUnknown", R"({"model": {"vocab": {"a": 0}}})", R"({"eos_token": "</s>"})",
                  "tokenizer_config.json: /eos_token", "\"</s>\" is not a token"},
        ErrorCase{"ConfigEosWrongType", R"({"model": {"vocab": {"a": 0}}})", R"({"eos_token": 2})",
                  "tokenizer_config.json: /eos_token", "must be a string"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.label; });

TEST(TokenizerJsonTest, MissingFileNamesThePath) {
  const std::string path = "/nonexistent/dir/tokenizer.json";
  try {
    Vocabulary::from_tokenizer_json(path);
    FAIL() << "no error";
  } catch (const VocabularyError& e) {
    EXPECT_EQ(e.location(), path);
    EXPECT_NE(e.message().find("No such file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Vocabulary::from_file("/nonexistent/model.gguf"), VocabularyError);
  EXPECT_THROW(Vocabulary::from_file(fs::temp_directory_path().string()), VocabularyError);  // a directory
}

TEST(TokenizerJsonTest, ConfigBesideTheFileIsRead) {
  fs::path dir = fs::temp_directory_path() / ("stencil_vocab_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << R"({"model": {"vocab": {"a": 0, "<end>": 1, "</s>": 2}},)"
                                           R"( "added_tokens": [{"id": 2, "content": "</s>", "special": true}]})";
  std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token": "<end>"})";
  Vocabulary v = Vocabulary::from_tokenizer_json((dir / "tokenizer.json").string());
  EXPECT_EQ(std::vector<int32_t>(v.eos_ids().begin(), v.eos_ids().end()), (std::vector<int32_t>{1, 2}));
  // A broken config names its own path.
  std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token": "<nope>"})";
  try {
    Vocabulary::from_tokenizer_json((dir / "tokenizer.json").string());
    ADD_FAILURE() << "no error";
  } catch (const VocabularyError& e) {
    EXPECT_EQ(e.location(), (dir / "tokenizer_config.json").string() + ": /eos_token");
  }
  fs::remove_all(dir);
}

// Random byte flips of a small tokenizer.json (and its config): each either loads or
// throws VocabularyError, and the fast and SAX paths always agree on which.
TEST(TokenizerJsonTest, RandomCorruptionNeverCrashes) {
  const std::string good =
      R"({"added_tokens": [{"id": 3, "content": "<|eot_id|>", "special": true}], "decoder": {"type": "ByteLevel"},)"
      R"( "model": {"type": "BPE", "vocab": {"a": 0, "\u0120b": 1, "c\"d": 2}, "merges": ["a b", ["c", "d"]]}})";
  const std::string config = R"({"eos_token": {"content": "<|eot_id|>"}, "x": [1, 2.5e3, null, true]})";
  const std::string alphabet = "{}[]\",:0123456789.-eE\\u \n tfnl\xC4\xA0\xFF";
  uint64_t state = 987654321;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  int loaded = 0, rejected = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string json = good, cfg = config;
    std::string& target = (next() % 4 == 0) ? cfg : json;
    int flips = 1 + next() % 3;
    for (int k = 0; k < flips; ++k) target[next() % target.size()] = alphabet[next() % alphabet.size()];
    bool fast_ok = true, slow_ok = true;
    uint64_t fast_digest = 0, slow_digest = 0;
    try {
      fast_digest = vocabulary_digest(Vocabulary::from_tokenizer_json_text(json, cfg));
    } catch (const VocabularyError&) {
      fast_ok = false;
    }
    try {
      slow_digest = vocabulary_digest(vocab::tokenizer_json_sax_path(json, cfg, {}));
    } catch (const VocabularyError&) {
      slow_ok = false;
    }
    ASSERT_EQ(fast_ok, slow_ok) << json << "\n" << cfg;
    ASSERT_EQ(fast_digest, slow_digest) << json << "\n" << cfg;
    (fast_ok ? loaded : rejected)++;
  }
  std::printf("[ fuzz     ] %d loaded, %d rejected\n", loaded, rejected);
  EXPECT_GT(loaded, 0);
  EXPECT_GT(rejected, 0);
}

// ---- from_tokens ----

TEST(FromTokensTest, KindsBytesAndEos) {
  Vocabulary v = Vocabulary::from_tokens({"a", "bc", "<s>", "", "\xFF"}, {2}, {3});
  EXPECT_EQ(v.family(), "tokens");
  EXPECT_EQ(v.size(), 5);
  EXPECT_EQ(v.token_bytes(1), "bc");
  EXPECT_EQ(v.token_bytes(4), "\xFF");
  EXPECT_EQ(v.kind(2), TokenKind::kSpecial);  // EOS ids are special
  EXPECT_EQ(v.token_bytes(2), "");
  EXPECT_EQ(v.token_name(2), "<s>");
  EXPECT_EQ(v.kind(3), TokenKind::kSpecial);
  EXPECT_TRUE(v.is_eos(2));
  EXPECT_FALSE(v.is_eos(0));
  EXPECT_FALSE(v.is_eos(-1));
  EXPECT_FALSE(v.is_eos(5));
  EXPECT_EQ(v.normal_count(), 3);
  EXPECT_EQ(v.special_count(), 2);
  EXPECT_EQ(v.impl().max_token_bytes, 2u);
}

TEST(FromTokensTest, PaddingIsUnused) {
  VocabularyOptions options;
  options.padded_size = 8;
  Vocabulary v = Vocabulary::from_tokens({"a", "b"}, {}, {}, options);
  EXPECT_EQ(v.size(), 8);
  EXPECT_EQ(v.impl().tokenizer_size, 2);
  for (int32_t id = 2; id < 8; ++id) {
    EXPECT_EQ(v.kind(id), TokenKind::kUnused);
    EXPECT_EQ(v.token_bytes(id), "");
    EXPECT_EQ(v.token_name(id), "");
  }
  // EOS may be given in the padded range through the options (the id exists in the logits).
  options.eos_ids = {7};
  EXPECT_TRUE(Vocabulary::from_tokens({"a", "b"}, {}, {}, options).is_eos(7));
}

TEST(FromTokensTest, CopiesShareData) {
  Vocabulary v = Vocabulary::from_tokens({"x", "y"}, {1});
  Vocabulary w = v;
  EXPECT_EQ(&v.impl(), &w.impl());
}

TEST(FromTokensTest, BadArguments) {
  EXPECT_THROW(Vocabulary::from_tokens({}, {}), ArgumentError);
  EXPECT_THROW(Vocabulary::from_tokens({"a"}, {1}), ArgumentError);
  EXPECT_THROW(Vocabulary::from_tokens({"a"}, {-1}), ArgumentError);
  EXPECT_THROW(Vocabulary::from_tokens({"a"}, {}, {3}), ArgumentError);
  VocabularyOptions small;
  small.padded_size = 1;
  EXPECT_THROW(Vocabulary::from_tokens({"a", "b"}, {}, {}, small), ArgumentError);
  VocabularyOptions bad_eos;
  bad_eos.eos_ids = {9};
  EXPECT_THROW(Vocabulary::from_tokens({"a", "b"}, {}, {}, bad_eos), ArgumentError);
}

// ---- the decoders on their own ----

// Encodes a code point below 0x800 as UTF-8 (enough for the GPT-2 table's range).
std::string utf8(uint32_t cp) {
  if (cp < 0x80) return std::string(1, static_cast<char>(cp));
  return {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
}

TEST(DecodersTest, ByteLevelTableIsABijection) {
  // Exactly 256 code points below U+0800 decode, one per byte value.
  std::vector<int> seen(256, 0);
  int decodable = 0;
  for (uint32_t cp = 0; cp < 0x800; ++cp) {
    std::string out;
    if (!vocab::append_byte_level(utf8(cp), out)) continue;
    ASSERT_EQ(out.size(), 1u) << cp;
    ++seen[static_cast<unsigned char>(out[0])];
    ++decodable;
  }
  EXPECT_EQ(decodable, 256);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(seen[b], 1) << b;
}

TEST(DecodersTest, ByteLevelKnownChars) {
  // Printable Latin-1 stands for itself; the others are shifted to U+0100.. in byte order:
  // 0x00..0x20 -> U+0100..U+0120 (Ġ), 0x7F..0xA0 -> U+0121..U+0142 (ł), 0xAD -> U+0143 (Ń).
  const std::pair<uint32_t, int> table[] = {{0x100, 0x00}, {0x101, 0x01}, {'!', '!'},    {'~', '~'},    {0xA1, 0xA1},
                                            {0xAC, 0xAC},  {0xAE, 0xAE},  {0xFF, 0xFF},  {0x120, 0x20}, {0x10A, 0x0A},
                                            {0x121, 0x7F}, {0x142, 0xA0}, {0x143, 0xAD}, {0x144, -1},   {' ', -1},
                                            {0xAD, -1},    {0x7F, -1}};
  for (auto [cp, byte] : table) {
    std::string out;
    bool ok = vocab::append_byte_level(utf8(cp), out);
    EXPECT_EQ(ok, byte >= 0) << std::hex << cp;
    EXPECT_EQ(out, byte >= 0 ? std::string(1, static_cast<char>(byte)) : "") << std::hex << cp;
  }
  std::string out = "keep";
  EXPECT_FALSE(vocab::append_byte_level("a\xC3", out));  // truncated UTF-8
  EXPECT_EQ(out, "keep");
  EXPECT_TRUE(
      vocab::append_byte_level("\xC4\xA0"
                               "a\xC4\x8A",
                               out));
  EXPECT_EQ(out, "keep a\n");
}

TEST(DecodersTest, ByteTokens) {
  EXPECT_EQ(vocab::parse_byte_token("<0x0A>"), 0x0A);
  EXPECT_EQ(vocab::parse_byte_token("<0xff>"), 0xFF);
  EXPECT_EQ(vocab::parse_byte_token("<0x0A"), std::nullopt);
  EXPECT_EQ(vocab::parse_byte_token("<0x0G>"), std::nullopt);
  EXPECT_EQ(vocab::parse_byte_token("<0x0AA>"), std::nullopt);
  EXPECT_EQ(vocab::parse_byte_token("<1x0A>"), std::nullopt);
}

}  // namespace
}  // namespace stencil
