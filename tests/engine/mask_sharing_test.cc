// Exactness of the mask cache's shortcuts (mask_cache.h, text_runs.h): entries
// shared between states that no token tells apart, entries derived from a
// state that only long tokens tell apart, whole text subtrees classified at
// once and whole-text tokens classified by their character count. Each is
// checked the only way that matters: on random walks through grammars full
// of counted text (maxLength strings, bounded classes, UTF-8), every fast mask
// equals the brute-force one, and budget-aware walks always finish.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/engine_test_util.h"
#include "stencil/stencil.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;

struct Case {
  const char* name;
  const char* schema;   // JSON Schema, or nullptr
  const char* grammar;  // GBNF, or nullptr
};

const Case kCases[] = {
    {"max_length_200", R"({"type":"string","maxLength":200})", nullptr},
    {"min_and_max_length", R"({"type":"string","minLength":30,"maxLength":90})", nullptr},
    {"unbounded_string", R"({"type":"string"})", nullptr},
    // Short bounds: each state of the count is walked (no token-length shortcut), and a token's
    // text prefix must be counted exactly to know whether its closing quote comes too early.
    {"short_min_and_max_length", R"({"type":"array","items":{"type":"string","minLength":3,"maxLength":7}})", nullptr},
    // A minimum and no maximum: the count's last state reads text back to itself, and the longer
    // prefixes are walked together from it, less the shorter ones walked from their own states.
    {"min_length_only", R"({"type":"array","items":{"type":"string","minLength":3}})", nullptr},
    {"array_of_bounded_strings", R"({"type":"array","items":{"type":"string","maxLength":40},"maxItems":3})", nullptr},
    {"object_of_text", R"({"type":"object","properties":{"a":{"type":"string","maxLength":150},
       "b":{"type":"string","pattern":"^[a-z ]{0,60}$"},"c":{"type":"string","maxLength":5}},"required":["a","b","c"]})",
     nullptr},
    {"text_class_grammar", nullptr, "root ::= \"say: \" [ -~]{0,70} \".\" | \"utf8: \" [^\\x00-\\x1f]{2,30} \"!\"\n"},
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class MaskSharing : public ::testing::TestWithParam<const char*> {};

void walk_and_compare(const Vocabulary& vocab, const CompiledGrammar& g, const std::string& name, uint64_t seed,
                      int& compared) {
  std::mt19937_64 rng(seed);
  for (int walk = 0; walk < 2; ++walk) {
    constexpr int kBudget = 48;
    Matcher m(g);
    std::string out;
    for (int step = 0; step < kBudget + 1 && !m.is_terminated(); ++step) {
      TokenBitmask fast(vocab.size()), budgeted(vocab.size());
      ASSERT_TRUE(m.fill_next_token_bitmask(fast));
      TokenBitmask ref = testing::reference_mask(m);
      ASSERT_EQ(fast.words, ref.words) << name << " after '" << out << "':\n"
                                       << testing::describe_difference(vocab, fast, ref);
      ++compared;
      ASSERT_TRUE(m.fill_next_token_bitmask(budgeted.words, kBudget - step));
      for (size_t w = 0; w < fast.words.size(); ++w) ASSERT_EQ(budgeted.words[w] & ~fast.words[w], 0u);
      // The first half of the walk prefers long tokens, to reach the ends of the counted runs quickly.
      const int32_t t = testing::pick_allowed(budgeted, vocab, rng, step < 8 ? 0.0 : 0.2);
      ASSERT_GE(t, 0) << name << ": dead end after '" << out << "' with " << kBudget - step << " left";
      ASSERT_TRUE(m.accept_token(t));
      if (!m.is_terminated()) out += vocab.token_bytes(t);
    }
    ASSERT_TRUE(m.is_terminated()) << name << ": not finished within " << kBudget << ": '" << out << "'";
  }
}

TEST_P(MaskSharing, FastMaskEqualsBruteForce) {
  const fs::path path = fs::path(STENCIL_DATA_DIR) / "tokenizers" / GetParam();
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent: run scripts/prepare-data";
  Vocabulary vocab = Vocabulary::from_file(path.string());
  Compiler compiler(vocab);
  int compared = 0;
  uint64_t seed = 5;
  for (const Case& c : kCases) {
    CompiledGrammar g = testing::compile_schema_or_grammar(compiler, c.schema, c.grammar);
    walk_and_compare(vocab, g, c.name, ++seed, compared);
    if (HasFatalFailure()) return;
  }
  const std::string weather = read_file(fs::path(STENCIL_SOURCE_DIR) / "examples" / "schemas" / "weather.json");
  walk_and_compare(vocab, compiler.compile_json_schema(weather), "weather.json", ++seed, compared);
  // Enough members that the whitespace between them stays a called rule: a number's digits state
  // then calls it, and walks through it stay in single form at a calling state (tokens such as
  // "12 ," or "3}," leave it on bytes that only the called rule or its return reads).
  std::string integers = R"({"type":"object","properties":{)";
  for (int k = 0; k < 40; ++k) integers += (k ? "," : "") + std::string("\"n") + std::to_string(k) + R"(":{"type":"integer"})";
  integers += "}}";
  const CompiledGrammar many = compiler.compile_json_schema(integers);
  walk_and_compare(vocab, many, "forty_integers", ++seed, compared);
  std::printf("[ mask sharing ] %s: %d masks compared\n", GetParam(), compared);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, MaskSharing,
                         ::testing::Values("llama3/tokenizer.json", "llama2/ggml-vocab-llama-spm.gguf"),
                         testing::tokenizer_name);

}  // namespace
}  // namespace stencil
