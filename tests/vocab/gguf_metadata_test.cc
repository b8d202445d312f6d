// Tests of the GGUF header reader (src/vocab/gguf_metadata.h) and of
// Vocabulary::from_gguf on synthetic files: every value type, nested arrays, tensor
// infos and alignment; truncation at every byte and corrupted lengths give a
// VocabularyError naming the offset and key, never a crash.
#include "vocab/gguf_metadata.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "stencil/errors.h"
#include "stencil/vocabulary.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;
using gguf::ValueType;

// Builds GGUF bytes by hand, in the layout of ggml's gguf.md.
class GgufWriter {
 public:
  explicit GgufWriter(uint32_t version = 3) {
    raw("GGUF");
    u32(version);
    tensor_count_at_ = out_.size();
    u64(0);
    kv_count_at_ = out_.size();
    u64(0);
  }
  GgufWriter& kv_u32(const std::string& key, uint32_t v) { return key_type(key, ValueType::kUint32).u32(v); }
  GgufWriter& kv_i32(const std::string& key, int32_t v) {
    return key_type(key, ValueType::kInt32).u32(static_cast<uint32_t>(v));
  }
  GgufWriter& kv_string(const std::string& key, const std::string& v) {
    return key_type(key, ValueType::kString).str(v);
  }
  GgufWriter& kv_strings(const std::string& key, const std::vector<std::string>& v) {
    key_type(key, ValueType::kArray).u32(static_cast<uint32_t>(ValueType::kString)).u64(v.size());
    for (const auto& s : v) str(s);
    return *this;
  }
  GgufWriter& kv_i32s(const std::string& key, const std::vector<int32_t>& v) {
    key_type(key, ValueType::kArray).u32(static_cast<uint32_t>(ValueType::kInt32)).u64(v.size());
    for (int32_t x : v) u32(static_cast<uint32_t>(x));
    return *this;
  }
  // Any value: the caller writes the type's bytes with the raw writers below.
  GgufWriter& key_type(const std::string& key, ValueType t) {
    bump(kv_count_at_);
    str(key);
    return u32(static_cast<uint32_t>(t));
  }
  GgufWriter& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    bump(tensor_count_at_);
    str(name);
    u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    u32(type);
    return u64(offset);
  }

  GgufWriter& raw(std::string_view b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  template <typename T>
  GgufWriter& num(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    return raw(std::string_view(b, sizeof(T)));
  }
  GgufWriter& u32(uint32_t v) { return num(v); }
  GgufWriter& u64(uint64_t v) { return num(v); }
  GgufWriter& str(const std::string& s) { return u64(s.size()).raw(s); }

  std::vector<uint8_t> bytes() const { return {out_.begin(), out_.end()}; }
  size_t size() const { return out_.size(); }

 private:
  void bump(size_t at) {
    uint64_t n;
    std::memcpy(&n, out_.data() + at, 8);
    ++n;
    std::memcpy(out_.data() + at, &n, 8);
  }
  std::vector<char> out_;
  size_t tensor_count_at_ = 0, kv_count_at_ = 0;
};

GgufWriter every_type_file() {
  GgufWriter w;
  w.key_type("u8", ValueType::kUint8).num<uint8_t>(200);
  w.key_type("i8", ValueType::kInt8).num<int8_t>(-5);
  w.key_type("u16", ValueType::kUint16).num<uint16_t>(65000);
  w.key_type("i16", ValueType::kInt16).num<int16_t>(-300);
  w.kv_u32("u32", 4000000000u);
  w.kv_i32("i32", -7);
  w.key_type("f32", ValueType::kFloat32).num<float>(1.5f);
  w.key_type("bool", ValueType::kBool).num<uint8_t>(1);
  w.kv_string("str", "h\xC3\xA9llo");
  w.key_type("u64", ValueType::kUint64).u64(1ull << 40);
  w.key_type("i64", ValueType::kInt64).num<int64_t>(-(1ll << 40));
  w.key_type("f64", ValueType::kFloat64).num<double>(-2.25);
  w.kv_strings("strs", {"a", "", "bc"});
  w.kv_i32s("i32s", {3, -1, 7});
  w.key_type("f32s", ValueType::kArray)
      .u32(static_cast<uint32_t>(ValueType::kFloat32))
      .u64(2)
      .num<float>(0.5f)
      .num<float>(-1);
  // An array of two arrays of uint8: [[1, 2], []].
  w.key_type("nested", ValueType::kArray).u32(static_cast<uint32_t>(ValueType::kArray)).u64(2);
  w.u32(static_cast<uint32_t>(ValueType::kUint8)).u64(2).num<uint8_t>(1).num<uint8_t>(2);
  w.u32(static_cast<uint32_t>(ValueType::kUint8)).u64(0);
  w.kv_u32("general.alignment", 64);
  w.tensor("token_embd.weight", {64, 10}, 1, 0);
  w.tensor("output_norm.weight", {64}, 0, 1280);
  return w;
}

TEST(GgufMetadataTest, ReadsEveryValueTypeAndTensorInfos) {
  std::vector<uint8_t> file = every_type_file().bytes();
  gguf::GgufMetadata m = gguf::GgufMetadata::parse(file, "t.gguf");
  EXPECT_EQ(m.version(), 3u);
  EXPECT_EQ(m.entries().size(), 17u);
  EXPECT_EQ(m.find("u8")->u, 200u);
  EXPECT_EQ(m.find("i8")->i, -5);
  EXPECT_EQ(m.find("u16")->u, 65000u);
  EXPECT_EQ(m.find("i16")->i, -300);
  EXPECT_EQ(m.get_int("u32"), 4000000000ll);
  EXPECT_EQ(m.get_int("i32"), -7);
  EXPECT_EQ(m.find("f32")->f, 1.5);
  EXPECT_EQ(m.find("bool")->u, 1u);
  EXPECT_EQ(m.get_string("str"), "h\xC3\xA9llo");
  EXPECT_EQ(m.get_int("u64"), 1ll << 40);
  EXPECT_EQ(m.get_int("i64"), -(1ll << 40));
  EXPECT_EQ(m.find("f64")->f, -2.25);
  const gguf::Value* strs = m.get_string_array("strs");
  ASSERT_NE(strs, nullptr);
  EXPECT_EQ(strs->strings, (std::vector<std::string_view>{"a", "", "bc"}));
  const gguf::Value* ints = m.get_int_array("i32s");
  ASSERT_NE(ints, nullptr);
  EXPECT_EQ(ints->count, 3u);
  EXPECT_EQ(ints->int_at(0), 3);
  EXPECT_EQ(ints->int_at(1), -1);
  EXPECT_EQ(ints->int_at(2), 7);
  const gguf::Value* floats = m.find("f32s");
  EXPECT_EQ(floats->float_at(0), 0.5);
  EXPECT_EQ(floats->float_at(1), -1.0);
  const gguf::Value* nested = m.find("nested");
  ASSERT_EQ(nested->items.size(), 2u);
  EXPECT_EQ(nested->items[0].count, 2u);
  EXPECT_EQ(nested->items[0].int_at(1), 2);
  EXPECT_EQ(nested->items[1].count, 0u);
  EXPECT_EQ(m.find("absent"), nullptr);
  EXPECT_EQ(m.get_int("absent"), std::nullopt);

  EXPECT_EQ(m.alignment(), 64u);
  ASSERT_EQ(m.tensors().size(), 2u);
  EXPECT_EQ(m.tensors()[0].name, "token_embd.weight");
  EXPECT_EQ(m.tensors()[0].dims, (std::vector<uint64_t>{64, 10}));
  EXPECT_EQ(m.tensors()[0].type, 1u);
  EXPECT_EQ(m.tensors()[1].name, "output_norm.weight");
  EXPECT_EQ(m.tensors()[1].offset, 1280u);
  EXPECT_EQ(m.data_offset() % 64, 0u);
  EXPECT_GE(m.data_offset(), file.size());
  EXPECT_LT(m.data_offset(), file.size() + 64);
}

TEST(GgufMetadataTest, WrongTypesAreErrorsNamingTheKey) {
  std::vector<uint8_t> file = every_type_file().bytes();
  gguf::GgufMetadata m = gguf::GgufMetadata::parse(file, "t.gguf");
  try {
    m.get_string("u32");
    FAIL() << "no error";
  } catch (const VocabularyError& e) {
    EXPECT_NE(e.location().find("t.gguf: offset "), std::string::npos) << e.what();
    EXPECT_NE(e.location().find(", u32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.get_int("str"), VocabularyError);
  EXPECT_THROW(m.get_string_array("i32s"), VocabularyError);
  EXPECT_THROW(m.get_int_array("strs"), VocabularyError);
  // The runtime asks for ModelError instead.
  EXPECT_THROW(gguf::GgufMetadata::parse(std::span<const uint8_t>(file.data(), 10), "m.gguf", gguf::ErrorKind::kModel),
               ModelError);
}

TEST(GgufMetadataTest, EveryTruncationIsAnError) {
  std::vector<uint8_t> file = every_type_file().bytes();
  for (size_t n = 0; n < file.size(); ++n) {
    // A copy of exactly n bytes, so that reading past it is caught by ASan too.
    std::vector<uint8_t> prefix(file.begin(), file.begin() + n);
    try {
      gguf::GgufMetadata::parse(prefix, "t.gguf");
      ADD_FAILURE() << "no error at length " << n;
    } catch (const VocabularyError& e) {
      EXPECT_EQ(e.location().rfind("t.gguf: offset ", 0), 0u) << e.what();
    }
  }
}

struct CorruptCase {
  std::string label;
  std::vector<uint8_t> file;
  std::string location;  // expected prefix of location()
  std::string message;   // substring of message()
};

std::vector<CorruptCase> corrupt_cases() {
  std::vector<CorruptCase> cases;
  {
    GgufWriter w;
    w.key_type("tokenizer.ggml.tokens", ValueType::kArray).u32(static_cast<uint32_t>(ValueType::kString));
    size_t at = w.size();
    w.u64(1ull << 62).str("a");
    cases.push_back({"HugeArrayLength", w.bytes(), "t.gguf: offset " + std::to_string(at) + ", tokenizer.ggml.tokens",
                     "array length 4611686018427387904 (of string) exceeds"});
  }
  {
    GgufWriter w;
    w.key_type("tokenizer.ggml.tokens", ValueType::kArray).u32(static_cast<uint32_t>(ValueType::kString)).u64(2);
    w.str("a");
    size_t at = w.size();
    w.u64(1000).raw("bc");
    cases.push_back({"HugeStringLength", w.bytes(), "t.gguf: offset " + std::to_string(at) + ", tokenizer.ggml.tokens",
                     "array string length 1000 exceeds"});
  }
  {
    GgufWriter w;
    size_t at = w.size() + 8 + 1;  // after the key "k"
    w.key_type("k", static_cast<ValueType>(13)).u32(0);
    cases.push_back(
        {"UnknownType", w.bytes(), "t.gguf: offset " + std::to_string(at) + ", k", "unknown value type 13"});
  }
  {
    GgufWriter w;
    w.key_type("b", ValueType::kBool).num<uint8_t>(7);
    cases.push_back({"BadBool", w.bytes(), "t.gguf: offset ", "corrupt bool"});
  }
  {
    GgufWriter w;
    w.key_type("deep", ValueType::kArray);
    for (int i = 0; i < 20; ++i) w.u32(static_cast<uint32_t>(ValueType::kArray)).u64(1);
    cases.push_back({"DeepArrays", w.bytes(), "t.gguf: offset ", "kMaxArrayNesting"});
  }
  {
    GgufWriter w;
    w.tensor("x", {1, 2, 3, 4, 5, 6, 7, 8, 9}, 0, 0);
    cases.push_back({"TooManyDims", w.bytes(), "t.gguf: offset ", "n_dims 9"});
  }
  {
    GgufWriter w;
    w.kv_u32("general.alignment", 48);
    cases.push_back({"BadAlignment", w.bytes(), "t.gguf: offset ", "power of two"});
  }
  cases.push_back({"NotGguf", {'G', 'G', 'M', 'L', 3, 0, 0, 0}, "t.gguf: offset 0, header", "not a GGUF file"});
  cases.push_back({"Version1", GgufWriter(1).bytes(), "t.gguf: offset 4, header", "version 1"});
  cases.push_back({"BigEndian", GgufWriter(0x03000000).bytes(), "t.gguf: offset 4, header", "big-endian"});
  {
    std::vector<uint8_t> f = GgufWriter().bytes();
    std::memset(f.data() + 16, 0xFF, 8);  // kv count
    cases.push_back({"HugeKvCount", f, "t.gguf: offset 16, header", "corrupt key/value count"});
  }
  return cases;
}

class GgufCorruptTest : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(GgufCorruptTest, Throws) {
  const CorruptCase& c = GetParam();
  try {
    gguf::GgufMetadata::parse(c.file, "t.gguf");
    FAIL() << "no error";
  } catch (const VocabularyError& e) {
    EXPECT_EQ(e.location().rfind(c.location, 0), 0u) << e.what();
    EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Files, GgufCorruptTest, ::testing::ValuesIn(corrupt_cases()),
                         [](const ::testing::TestParamInfo<CorruptCase>& info) { return info.param.label; });

// ---- Vocabulary::from_gguf on synthetic files ----

std::string write_temp(const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::path p = fs::temp_directory_path() / ("stencil_gguf_test_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return p.string();
}

TEST(FromGgufTest, SentencePieceTokenTypes) {
  GgufWriter w;
  w.kv_string("tokenizer.ggml.model", "llama");
  w.kv_strings("tokenizer.ggml.tokens",
               {"<unk>", "<s>", "</s>", "<0x0A>", "\xE2\x96\x81Hi", "<pad_7>", "\xE2\x96\x81\xE2\x96\x81", "<|eot|>"});
  w.kv_i32s("tokenizer.ggml.token_type", {2, 3, 3, 6, 1, 5, 4, 3});
  w.kv_u32("tokenizer.ggml.eos_token_id", 2);
  w.kv_u32("tokenizer.ggml.eot_token_id", 7);
  std::string path = write_temp("spm.gguf", w.bytes());
  Vocabulary v = Vocabulary::from_file(path);
  fs::remove(path);
  EXPECT_EQ(v.family(), "sentencepiece");
  const std::vector<std::pair<TokenKind, std::string>> expected = {
      {TokenKind::kSpecial, ""},   {TokenKind::kSpecial, ""}, {TokenKind::kSpecial, ""},  {TokenKind::kNormal, "\n"},
      {TokenKind::kNormal, " Hi"}, {TokenKind::kUnused, ""},  {TokenKind::kNormal, "  "}, {TokenKind::kSpecial, ""}};
  ASSERT_EQ(v.size(), 8);
  for (int32_t id = 0; id < 8; ++id) {
    EXPECT_EQ(v.kind(id), expected[id].first) << id;
    EXPECT_EQ(v.token_bytes(id), expected[id].second) << id;
  }
  EXPECT_EQ(v.token_name(5), "<pad_7>");
  EXPECT_EQ(std::vector<int32_t>(v.eos_ids().begin(), v.eos_ids().end()), (std::vector<int32_t>{2, 7}));
}

TEST(FromGgufTest, ByteLevelUserDefinedIsLiteral) {
  GgufWriter w;
  w.kv_string("tokenizer.ggml.model", "gpt2");
  w.kv_strings("tokenizer.ggml.tokens", {"\xC4\xA0x", "\xC4\xA0<tool>", "<|end|>"});
  w.kv_i32s("tokenizer.ggml.token_type", {1, 4, 3});
  w.kv_i32("tokenizer.ggml.eos_token_id", 2);
  w.kv_i32("tokenizer.ggml.eom_token_id", -1);  // llama.cpp's "none"
  std::string path = write_temp("bpe.gguf", w.bytes());
  Vocabulary v = Vocabulary::from_gguf(path);
  fs::remove(path);
  EXPECT_EQ(v.family(), "byte_level_bpe");
  EXPECT_EQ(v.token_bytes(0), " x");
  EXPECT_EQ(v.token_bytes(1), "\xC4\xA0<tool>");
  EXPECT_EQ(v.kind(2), TokenKind::kSpecial);
  EXPECT_EQ(std::vector<int32_t>(v.eos_ids().begin(), v.eos_ids().end()), std::vector<int32_t>{2});
}

struct GgufVocabErrorCase {
  std::string label;
  std::vector<uint8_t> file;
  std::string key;      // expected in location()
  std::string message;  // substring of message()
};

std::vector<GgufVocabErrorCase> vocab_error_cases() {
  std::vector<GgufVocabErrorCase> cases;
  cases.push_back({"NoTokens", GgufWriter().kv_string("tokenizer.ggml.model", "llama").bytes(), "tokenizer.ggml.tokens",
                   "no tokenizer.ggml.tokens"});
  cases.push_back({"TokensNotStrings", GgufWriter().kv_i32s("tokenizer.ggml.tokens", {1}).bytes(),
                   "tokenizer.ggml.tokens", "array of strings"});
  cases.push_back(
      {"TypeCountMismatch",
       GgufWriter().kv_strings("tokenizer.ggml.tokens", {"a", "b"}).kv_i32s("tokenizer.ggml.token_type", {1}).bytes(),
       "tokenizer.ggml.token_type", "1 entries for 2 tokens"});
  cases.push_back(
      {"UnknownTokenType",
       GgufWriter().kv_strings("tokenizer.ggml.tokens", {"a"}).kv_i32s("tokenizer.ggml.token_type", {9}).bytes(),
       "tokenizer.ggml.token_type", "unknown token type 9"});
  cases.push_back(
      {"ByteTypeWithoutByteName",
       GgufWriter().kv_strings("tokenizer.ggml.tokens", {"a"}).kv_i32s("tokenizer.ggml.token_type", {6}).bytes(),
       "tokenizer.ggml.token_type", "not <0xNN>"});
  cases.push_back(
      {"EosOutOfRange",
       GgufWriter().kv_strings("tokenizer.ggml.tokens", {"a"}).kv_u32("tokenizer.ggml.eos_token_id", 5).bytes(),
       "tokenizer.ggml.eos_token_id", "5 is not a token id"});
  cases.push_back(
      {"EosNotInteger",
       GgufWriter().kv_strings("tokenizer.ggml.tokens", {"a"}).kv_string("tokenizer.ggml.eos_token_id", "x").bytes(),
       "tokenizer.ggml.eos_token_id", "expected an integer"});
  cases.push_back({"Empty", {}, "header", "truncated"});
  return cases;
}

class FromGgufErrorTest : public ::testing::TestWithParam<GgufVocabErrorCase> {};

TEST_P(FromGgufErrorTest, Throws) {
  const GgufVocabErrorCase& c = GetParam();
  std::string path = write_temp(c.label + ".gguf", c.file);
  try {
    Vocabulary::from_gguf(path);
    ADD_FAILURE() << "no error";
  } catch (const VocabularyError& e) {
    EXPECT_EQ(e.location().rfind(path + ": ", 0), 0u) << e.what();
    EXPECT_NE(e.location().find(c.key), std::string::npos) << e.what();
    EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
  }
  fs::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Files, FromGgufErrorTest, ::testing::ValuesIn(vocab_error_cases()),
                         [](const ::testing::TestParamInfo<GgufVocabErrorCase>& info) { return info.param.label; });

// The real GPT-2 vocab GGUF, cut short and with its token array length corrupted.
TEST(FromGgufTest, RealFileTruncatedOrCorrupted) {
  fs::path real = fs::path(STENCIL_SHARED_DIR) / "tokenizers/gpt2/ggml-vocab-gpt-2.gguf";
  if (!fs::is_regular_file(real)) GTEST_SKIP() << real << " is absent";
  std::ifstream in(real, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);

  for (size_t cut : {size_t{3}, size_t{20}, size_t{400}, bytes.size() / 2, bytes.size() - 1}) {
    std::string path = write_temp("cut.gguf", std::vector<uint8_t>(bytes.begin(), bytes.begin() + cut));
    try {
      Vocabulary::from_gguf(path);
      ADD_FAILURE() << "no error at " << cut;
    } catch (const VocabularyError& e) {
      EXPECT_NE(e.message().find("truncated"), std::string::npos) << e.what();
      EXPECT_EQ(e.location().rfind(path + ": offset ", 0), 0u) << e.what();
    }
    fs::remove(path);
  }

  // Find the tokens array: key "tokenizer.ggml.tokens", then type u32 (9), element type u32 (8), count u64.
  const std::string key = "tokenizer.ggml.tokens";
  auto it = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
  ASSERT_NE(it, bytes.end());
  size_t count_at = static_cast<size_t>(it - bytes.begin()) + key.size() + 8;
  uint64_t count;
  std::memcpy(&count, bytes.data() + count_at, 8);
  ASSERT_EQ(count, 50257u);
  count = 0x0000100000000000ull;
  std::vector<uint8_t> corrupt = bytes;
  std::memcpy(corrupt.data() + count_at, &count, 8);
  std::string path = write_temp("corrupt.gguf", corrupt);
  try {
    Vocabulary::from_gguf(path);
    ADD_FAILURE() << "no error";
  } catch (const VocabularyError& e) {
    EXPECT_EQ(e.location(), path + ": offset " + std::to_string(count_at) + ", tokenizer.ggml.tokens") << e.what();
    EXPECT_NE(e.message().find("array length 17592186044416 (of string) exceeds"), std::string::npos) << e.what();
  }
  // A count a little too large runs off the end instead.
  count = 50258;
  std::memcpy(corrupt.data() + count_at, &count, 8);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(corrupt.data()), corrupt.size());
  EXPECT_THROW(Vocabulary::from_gguf(path), VocabularyError);
  fs::remove(path);
}

// The stories260K model GGUFs (a model file, not vocab-only): tensor infos and the vocabulary.
// Expected values from a Python reading of the files (tests/vocab/expected_vocab.py's GGUF reader).
TEST(GgufMetadataTest, RealModelFiles) {
  struct Case {
    const char* file;
    size_t file_size;
    uint32_t tensor_type;  // of token_embd.weight: 0 = F32, 8 = Q8_0
    uint64_t last_offset;  // of blk.4.ffn_up.weight
  };
  int checked = 0;
  for (const Case& c :
       {Case{"stories260K-f32.gguf", 1054368, 0, 996096}, Case{"stories260K-q8_0.gguf", 454432, 8, 428480}}) {
    fs::path path = fs::path(STENCIL_SHARED_DIR) / "models/stories260K" / c.file;
    if (!fs::is_regular_file(path)) continue;
    ++checked;
    gguf::MappedFile file(path.string());
    ASSERT_EQ(file.bytes().size(), c.file_size);
    gguf::GgufMetadata m = gguf::GgufMetadata::parse(file.bytes(), path.string());
    EXPECT_EQ(m.get_string("general.architecture"), "llama");
    EXPECT_EQ(m.get_int("llama.vocab_size"), 512);
    ASSERT_EQ(m.tensors().size(), 47u);
    EXPECT_EQ(m.tensors()[0].name, "token_embd.weight");
    EXPECT_EQ(m.tensors()[0].dims, (std::vector<uint64_t>{64, 512}));
    EXPECT_EQ(m.tensors()[0].type, c.tensor_type);
    EXPECT_EQ(m.tensors()[0].offset, 0u);
    EXPECT_EQ(m.tensors().back().name, "blk.4.ffn_up.weight");
    EXPECT_EQ(m.tensors().back().dims, (std::vector<uint64_t>{64, 172}));
    EXPECT_EQ(m.tensors().back().offset, c.last_offset);
    EXPECT_EQ(m.alignment(), 32u);
    EXPECT_EQ(m.data_offset(), 14240u);

    Vocabulary v = Vocabulary::from_gguf(path.string());
    EXPECT_EQ(v.family(), "sentencepiece");
    EXPECT_EQ(v.size(), 512);
    EXPECT_EQ(v.normal_count(), 509);
    EXPECT_EQ(v.special_count(), 3);
    EXPECT_EQ(std::vector<int32_t>(v.eos_ids().begin(), v.eos_ids().end()), std::vector<int32_t>{2});
    EXPECT_EQ(v.token_bytes(3), std::string(1, '\0'));  // <0x00>
    EXPECT_EQ(v.token_bytes(13), "\n");                 // <0x0A>
    EXPECT_EQ(v.token_bytes(259), " t");                // ▁t
    EXPECT_EQ(v.token_bytes(300), " ha");
    EXPECT_EQ(v.token_bytes(511), "\xE2\x80\x8A");  // U+200A hair space, a normal piece
  }
  if (checked == 0) GTEST_SKIP() << "models/stories260K/*.gguf are absent";
}

// Random byte flips and cuts of a valid vocab GGUF: each either loads or throws
// VocabularyError; never a crash, hang or other exception (ASan/UBSan builds check memory).
TEST(FromGgufTest, RandomCorruptionNeverCrashes) {
  GgufWriter w;
  w.kv_string("tokenizer.ggml.model", "llama");
  w.kv_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0x0A>", "\xE2\x96\x81Hi", "ab"});
  w.kv_i32s("tokenizer.ggml.token_type", {2, 3, 3, 6, 1, 1});
  w.kv_u32("tokenizer.ggml.eos_token_id", 2);
  w.tensor("t", {2, 3}, 0, 0);
  const std::vector<uint8_t> good = w.bytes();
  std::string path = write_temp("fuzz.gguf", good);
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  int loaded = 0, rejected = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> bytes = good;
    int flips = 1 + next() % 4;
    for (int k = 0; k < flips; ++k) bytes[next() % bytes.size()] = static_cast<uint8_t>(next());
    if (next() % 4 == 0) bytes.resize(next() % bytes.size());
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    try {
      Vocabulary v = Vocabulary::from_gguf(path);
      ASSERT_GT(v.size(), 0);
      ++loaded;
    } catch (const VocabularyError&) {
      ++rejected;
    }
  }
  fs::remove(path);
  std::printf("[ fuzz     ] %d loaded, %d rejected\n", loaded, rejected);
  EXPECT_GT(rejected, 0);
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace stencil
