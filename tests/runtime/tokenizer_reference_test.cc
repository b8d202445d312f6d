// The runtime tokenizer against golden data made by llama.cpp:
//   - shared/models/reference/tokenization.jsonl: 49 strings x 9 tokenizers (ids from llama-tokenize,
//     no BOS, with and without parse_special), for every tokenizer we can load (tokenizer.json, and the
//     GGUF vocab files / the stories260K model);
//   - llama.cpp's own test vectors *.gguf.inp / *.gguf.out for the llama-spm and gpt-2 vocab GGUFs;
//   - the spot checks of shared/tokenizers/README.md.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/tokenizer_test_util.h"

namespace stencil {
namespace {

using testing::load_tokenizer;
using testing::shared_dir;

struct RefRow {
  std::string tokenizer;
  std::string id;
  std::string text;
  bool parse_special = true;
  std::vector<int32_t> ids;
};

const std::vector<RefRow>& reference_rows() {
  static const std::vector<RefRow> rows = [] {
    std::vector<RefRow> out;
    std::ifstream in(shared_dir() + "/models/reference/tokenization.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      RefRow r;
      r.tokenizer = j["tokenizer"];
      r.id = j["id"];
      if (j["text"].is_string()) {
        r.text = j["text"];
      } else {
        const std::string hex = j["bytes_hex"];
        for (size_t i = 0; i + 1 < hex.size(); i += 2) r.text.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
      }
      r.parse_special = j["parse_special"];
      r.ids = j["ids"].get<std::vector<int32_t>>();
      out.push_back(std::move(r));
    }
    return out;
  }();
  return rows;
}

// Where llama.cpp (the reference) departs from the tokenizer.json's own Hugging Face semantics, which
// we follow for tokenizer.json (see shared/models/reference/README.md, "Known divergences"):
//   qwen3/special_spm_bos: llama.cpp forces Qwen's ordinary token "</s>" to CONTROL;
//   gpt4o/arabic_hindi_thai, gpt4o/llama_chktxt: llama.cpp's regex engine splits at combining marks.
// NFC (qwen3/combining_nfd) is not listed: we follow llama.cpp and do not normalise.
const std::set<std::pair<std::string, std::string>>& known_divergences() {
  static const std::set<std::pair<std::string, std::string>> s = {
      {"qwen3", "special_spm_bos"}, {"gpt4o", "arabic_hindi_thai"}, {"gpt4o", "llama_chktxt"}};
  return s;
}

std::string ids_str(const std::vector<int32_t>& v) {
  std::ostringstream s;
  for (size_t i = 0; i < v.size(); ++i) s << (i ? " " : "") << v[i];
  return s.str();
}

struct Source {
  std::string reference_name;  // "tokenizer" in tokenization.jsonl
  std::string source;          // for load_tokenizer
};

class TokenizerReferenceTest : public ::testing::TestWithParam<Source> {};

TEST_P(TokenizerReferenceTest, MatchesLlamaCppIds) {
  const Source& p = GetParam();
  if (reference_rows().empty()) GTEST_SKIP() << "shared/models/reference/tokenization.jsonl is absent";
  STENCIL_LOAD_TOKENIZER_OR_SKIP(tok, p.source);
  int checked = 0, skipped = 0;
  for (const RefRow& r : reference_rows()) {
    if (r.tokenizer != p.reference_name) continue;
    if (known_divergences().count({r.tokenizer, r.id})) {
      ++skipped;
      continue;
    }
    EncodeOptions opt;
    opt.add_special = false;
    opt.parse_special = r.parse_special;
    const std::vector<int32_t> got = tok->encode(r.text, opt);
    EXPECT_EQ(ids_str(got), ids_str(r.ids)) << p.source << " / " << r.id << " parse_special=" << r.parse_special;
    ++checked;
  }
  EXPECT_GE(checked, 49) << "too few reference rows for " << p.reference_name;
  EXPECT_LE(skipped, 2);
}

INSTANTIATE_TEST_SUITE_P(All, TokenizerReferenceTest,
                         ::testing::Values(Source{"llama3", "llama3"}, Source{"qwen3", "qwen3"},
                                           Source{"gpt4o", "gpt4o"}, Source{"deepseek_v3", "deepseek_v3"},
                                           Source{"smollm2", "smollm2"}, Source{"gpt2", "gpt2"},
                                           Source{"gpt2", "gpt2.gguf"}, Source{"mistral", "mistral"},
                                           Source{"llama2", "llama2.gguf"}, Source{"stories260k", "stories260k"}),
                         [](const ::testing::TestParamInfo<Source>& info) {
                           std::string n = info.param.source;
                           for (char& c : n) {
                             if (c == '.') c = '_';
                           }
                           return n;
                         });

// llama.cpp's test-tokenizer-0 vectors: inputs separated by "\n__ggml_vocab_test__\n", one line of
// expected ids per input (encoded without BOS, special tokens parsed).
void check_ggml_vectors(const std::string& source, const std::string& base) {
  const Tokenizer* tok = load_tokenizer(source);
  std::ifstream inp(base + ".inp", std::ios::binary), outp(base + ".out");
  if (tok == nullptr || !inp || !outp) GTEST_SKIP() << base << ".inp/.out or the GGUF is absent";
  std::stringstream ss;
  ss << inp.rdbuf();
  const std::string all = ss.str();
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  for (size_t pos = 0;;) {
    const size_t f = all.find(sep, pos);
    if (f == std::string::npos) break;
    inputs.push_back(all.substr(pos, f - pos));
    pos = f + sep.size();
  }
  std::vector<std::string> expected;
  std::string line;
  while (std::getline(outp, line)) expected.push_back(line);
  ASSERT_EQ(inputs.size(), 46u);  // 46 strings, each ended by the separator
  ASSERT_EQ(expected.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> got = tok->encode(inputs[i], {.add_special = false, .parse_special = false});
    std::string want = expected[i];
    while (!want.empty() && want[0] == ' ') want.erase(0, 1);
    EXPECT_EQ(ids_str(got), want) << "input " << i << ": \"" << inputs[i] << "\"";
  }
}

TEST(TokenizerGgmlVectorsTest, LlamaSpm) {
  check_ggml_vectors("llama2.gguf", testing::data_dir() + "/tokenizers/llama2/ggml-vocab-llama-spm.gguf");
}
TEST(TokenizerGgmlVectorsTest, Gpt2) {
  check_ggml_vectors("gpt2.gguf", testing::data_dir() + "/tokenizers/gpt2/ggml-vocab-gpt-2.gguf");
}

// shared/tokenizers/README.md spot checks.
struct Spot {
  std::string source;
  std::string text;
  bool add_special;
  std::vector<int32_t> ids;
};

class TokenizerSpotTest : public ::testing::TestWithParam<Spot> {};

TEST_P(TokenizerSpotTest, Encodes) {
  const Spot& s = GetParam();
  STENCIL_LOAD_TOKENIZER_OR_SKIP(tok, s.source);
  EXPECT_EQ(ids_str(tok->encode(s.text, {.add_special = s.add_special})), ids_str(s.ids)) << s.source;
}

INSTANTIATE_TEST_SUITE_P(
    Readme, TokenizerSpotTest,
    ::testing::Values(Spot{"llama3", "Hello world", false, {9906, 1917}},
                      Spot{"llama3", "Hello world", true, {128000, 9906, 1917}},
                      Spot{"qwen3", "Hello world", false, {9707, 1879}},
                      Spot{"gpt4o", "Hello world", false, {13225, 2375}},
                      Spot{"deepseek_v3", "Hello world", false, {19923, 2058}},
                      Spot{"gpt2", "Hello world", false, {15496, 995}},
                      Spot{"smollm2", "Hello world", false, {19556, 905}},
                      Spot{"gemma3", "Hello", false, {9259}},
                      Spot{"gemma3", "<start_of_turn><end_of_turn>", false, {105, 106}},
                      Spot{"gemma3", "Hello world", true, {2, 9259, 1902}},
                      Spot{"mistral", "Hello", false, {22557}},
                      Spot{"mistral", "[INST]", false, {733, 16289, 28793}},
                      Spot{"llama2.gguf", "Hello world", true, {1, 15043, 3186}},
                      Spot{"gpt2.gguf", "Hello world", true, {15496, 995}},
                      Spot{"stories260k", "Once upon a time", true, {1, 403, 407, 261, 378}}));

}  // namespace
}  // namespace stencil
