// Widely called rules (mask_cache.h, stack_machine.h): a rule returned to from more
// than kMaxEscapeReturns places ends as kWild in the precomputation and its states
// are refined lazily, one parent state at a time, on first use. What must hold: in a
// large schema the whitespace rule really is such a rule (called, not inlined), and
// the fast masks equal the brute-force ones at every step of walks that cross many
// different call sites, with and without a token budget.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "engine/automaton.h"
#include "engine/engine_test_util.h"
#include "engine/stack_machine.h"
#include "schema/json_schema_grammar.h"
#include "stencil/stencil.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;

// 90 optional properties of mixed types: every gap between JSON tokens calls one whitespace
// rule, so it has hundreds of return points.
std::string wide_schema() {
  const char* const types[] = {R"({"type":"string"})", R"({"type":"integer"})", R"({"type":"boolean"})",
                               R"({"type":"object","properties":{"x":{"type":"number"},"y":{"type":"string"}}})",
                               R"({"type":"array","items":{"type":"string"}})", R"({"enum":["red","green"]})"};
  std::string s = R"({"type":"object","properties":{)";
  for (int i = 0; i < 90; ++i) {
    if (i > 0) s += ",";
    s += "\"p" + std::to_string(i) + "\":" + types[i % 6];
  }
  return s + "}}";
}

TEST(LazyRefinement, WhitespaceOfAWideSchemaIsACalledRuleWithManyReturnPoints) {
  const schema::SchemaGrammar sg = schema::build_json_schema_grammar(wide_schema(), JsonOptions{});
  const engine::Automaton a = engine::build_automaton(sg.grammar, CompileLimits{}, 16);
  int32_t ws = -1;
  for (size_t r = 0; r < a.rule_names.size(); ++r) {
    if (a.rule_names[r] == "ws") ws = static_cast<int32_t>(r);
  }
  ASSERT_GE(ws, 0);
  ASSERT_GE(a.rule_start[static_cast<size_t>(ws)], 0) << "ws was inlined everywhere";
  const uint32_t returns = a.return_begin[static_cast<size_t>(ws) + 1] - a.return_begin[static_cast<size_t>(ws)];
  EXPECT_GT(returns, engine::kMaxEscapeReturns);
}

class LazyRefinementMasks : public ::testing::TestWithParam<const char*> {};

TEST_P(LazyRefinementMasks, EqualBruteForceAcrossManyCallSites) {
  const fs::path path = fs::path(STENCIL_DATA_DIR) / "tokenizers" / GetParam();
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent: run scripts/prepare-data";
  Vocabulary vocab = Vocabulary::from_file(path.string());
  Compiler compiler(vocab);
  CompiledGrammar g = compiler.compile_json_schema(wide_schema());
  std::mt19937_64 rng(5);
  int compared = 0;
  for (int walk = 0; walk < 12; ++walk) {
    constexpr int kBudget = 60;
    Matcher m(g);
    std::string out;
    for (int step = 0; step < kBudget + 1 && !m.is_terminated(); ++step) {
      TokenBitmask fast(vocab.size()), budgeted(vocab.size());
      ASSERT_TRUE(m.fill_next_token_bitmask(fast));
      {
        const TokenBitmask ref = testing::reference_mask(m);
        ASSERT_EQ(fast.words, ref.words) << "after '" << out << "':\n" << testing::describe_difference(vocab, fast, ref);
        ++compared;
      }
      ASSERT_TRUE(m.fill_next_token_bitmask(budgeted.words, kBudget - step));
      for (size_t w = 0; w < fast.words.size(); ++w) ASSERT_EQ(budgeted.words[w] & ~fast.words[w], 0u);
      // Half the walks take the budgeted mask from the start (short values, many members).
      const int32_t t = testing::pick_allowed(walk % 2 == 0 ? budgeted : fast, vocab, rng, 0.05);
      ASSERT_GE(t, 0) << "dead end after '" << out << "'";
      ASSERT_TRUE(m.accept_token(t));
      if (!m.is_terminated()) out += vocab.token_bytes(t);
    }
  }
  std::printf("[ lazy refinement ] %s: %d masks compared\n", GetParam(), compared);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, LazyRefinementMasks,
                         ::testing::Values("llama3/tokenizer.json", "gpt2/tokenizer.json",
                                           "llama2/ggml-vocab-llama-spm.gguf"),
                         testing::tokenizer_name);

}  // namespace
}  // namespace stencil
