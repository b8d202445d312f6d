// The mask-exactness suite of issue 2: for every tokenizer under shared/ and
// every grammar in grammars/, random walks over allowed tokens where the fast
// mask must equal the brute-force one (each token's bytes tried on the
// matcher), every walk must finish within its token budget (budget-aware
// fill), and every output must be accepted by the independent Earley
// recognizer (and parse with nlohmann::json for json.gbnf).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/engine_test_util.h"
#include "grammar/grammar.h"
#include "grammar/recognizer.h"
#include "stencil/stencil.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;

const char* const kTokenizers[] = {"llama3/tokenizer.json", "qwen3/tokenizer.json", "gemma3/tokenizer.json",
                                   "gpt4o/tokenizer.json", "deepseek_v3/tokenizer.json", "gpt2/tokenizer.json",
                                   "smollm2/tokenizer.json", "mistral/tokenizer.json",
                                   "llama2/ggml-vocab-llama-spm.gguf"};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> grammar_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(STENCIL_SOURCE_DIR) / "grammars")) {
    if (e.path().extension() == ".gbnf") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class Exactness : public ::testing::TestWithParam<const char*> {};

TEST_P(Exactness, FastMaskEqualsBruteForceOnEveryGrammar) {
  const fs::path path = fs::path(STENCIL_DATA_DIR) / "tokenizers" / GetParam();
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent: run scripts/prepare-data";
  Vocabulary vocab = Vocabulary::from_file(path.string());
  Compiler compiler(vocab);
  int checked_steps = 0, finished = 0;
  for (const fs::path& gpath : grammar_files()) {
    const std::string text = read_file(gpath);
    CompiledGrammar g = compiler.compile_grammar(text);
    grammar::Grammar ir = grammar::parse_gbnf(text);
    std::mt19937_64 rng(11);
    for (int walk = 0; walk < 3; ++walk) {
      // Every walk must finish within kBudget tokens: the budget-aware fill closes it.
      constexpr int kBudget = 40;
      Matcher m(g);
      std::string out;
      for (int step = 0; step < kBudget + 1 && !m.is_terminated(); ++step) {
        TokenBitmask fast(vocab.size()), budgeted(vocab.size());
        ASSERT_TRUE(m.fill_next_token_bitmask(fast));
        if (step < 10) {
          TokenBitmask ref = testing::reference_mask(m);
          ASSERT_EQ(fast.words, ref.words) << gpath.filename() << " after '" << out << "':\n"
                                           << testing::describe_difference(vocab, fast, ref);
          ++checked_steps;
        }
        ASSERT_TRUE(m.fill_next_token_bitmask(budgeted.words, kBudget - step));
        for (size_t w = 0; w < fast.words.size(); ++w) ASSERT_EQ(budgeted.words[w] & ~fast.words[w], 0u);
        const int32_t t = testing::pick_allowed(budgeted, vocab, rng, 0.2);
        ASSERT_GE(t, 0) << gpath.filename() << ": dead end after '" << out << "' with " << kBudget - step << " left";
        ASSERT_TRUE(m.accept_token(t));
        if (!m.is_terminated()) out += vocab.token_bytes(t);
      }
      ASSERT_TRUE(m.is_terminated()) << gpath.filename() << ": not finished within " << kBudget << ": '" << out << "'";
      ++finished;
      EXPECT_TRUE(grammar::recognizes(ir, out)) << gpath.filename() << " produced '" << out << "'";
      if (gpath.filename() == "json.gbnf") {
        EXPECT_NO_THROW((void)nlohmann::json::parse(out)) << out;
      }
    }
  }
  std::printf("[ exactness ] %s: %d masks compared, %d walks finished\n", GetParam(), checked_steps, finished);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, Exactness, ::testing::ValuesIn(kTokenizers), [](const auto& info) {
  std::string n = info.param;
  n = n.substr(0, n.find('/'));
  return n;
});

}  // namespace
}  // namespace stencil
