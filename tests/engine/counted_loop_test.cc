// Counted loops (automaton.h: CountedLoop): long optional repetitions kept as one
// copy plus a counter. What must hold: the language is exactly the grammar's (the
// bound is neither lost nor off by one, across the switch to the unrolled tail and
// across rollback); the cached masks, computed as if the loop never ended, equal
// the brute-force masks everywhere, also next to the limit; repetitions that cannot
// be counted exactly are unrolled instead; and long bounds stay small.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>

#include "engine/automaton.h"
#include "engine/engine_test_util.h"
#include "grammar/grammar.h"
#include "stencil/stencil.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;

engine::Automaton automaton_of(const char* gbnf, int32_t longest_token) {
  return engine::build_automaton(grammar::parse_gbnf(gbnf), CompileLimits{}, longest_token);
}

TEST(CountedLoop, LongOptionalRepetitionIsOneLoopAndATail) {
  const engine::Automaton a = automaton_of("root ::= \"\\\"\" [a-z]{0,20} \"\\\"\"\n", 3);
  ASSERT_EQ(a.loops.size(), 1u);
  EXPECT_EQ(a.loops[0].limit, 17);  // 20 - the 3 unrolled for the longest token
  EXPECT_LT(a.states.size(), 10u) << engine::describe(a);
  // Too short to count (<= slack + 1), or no vocabulary bound: unrolled.
  EXPECT_TRUE(automaton_of("root ::= [a-z]{0,4}\n", 3).loops.empty());
  EXPECT_TRUE(automaton_of("root ::= [a-z]{0,20}\n", 0).loops.empty());
  // The slack is what one token can complete: 1 + (longest - 1) / (fewest bytes of an iteration).
  const engine::Automaton pairs = automaton_of("root ::= (\"ab\" | \"cde\"){0,40}\n", 4);
  ASSERT_EQ(pairs.loops.size(), 1u);
  EXPECT_EQ(pairs.loops[0].limit, 38);
}

TEST(CountedLoop, AmbiguousRepetitionsAreUnrolled) {
  // A byte that may begin the next iteration or go on with this one ((a|aa): after "a", another
  // "a"), or the text after the repetition starts like an iteration: a count per DFA state would
  // be wrong, so no loop.
  EXPECT_TRUE(automaton_of("root ::= (\"a\" | \"aa\"){0,40}\n", 3).loops.empty());
  EXPECT_TRUE(automaton_of("root ::= [a-z]{0,40} [a-c]\n", 3).loops.empty());
  // Counting starts, an iteration may end ambiguously: after "a" of (a|ab), "b" goes on, "a" begins.
  EXPECT_EQ(automaton_of("root ::= (\"a\" | \"ab\"){0,40}\n", 3).loops.size(), 1u);
  EXPECT_EQ(automaton_of("root ::= (\",\" \" \"? [0-9]+ \" \"?){0,40} \"]\"\n", 3).loops.size(), 1u);
}

// A small vocabulary: every byte, and a few longer tokens (the longest, 4 bytes, sets the tail).
Vocabulary small_vocab() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  for (const char* t : {"ab", "abc", "abcd", "\\u00", "\xc3\xa9", "a\"", "\"}", "zz"}) tokens.emplace_back(t);
  tokens.emplace_back("");  // EOS
  const int32_t eos = static_cast<int32_t>(tokens.size()) - 1;
  return Vocabulary::from_tokens(std::move(tokens), {eos}, {eos});
}

bool accepts(const CompiledGrammar& g, const std::string& text) {
  Matcher m(g);
  return m.accept_bytes(text) && m.can_terminate();
}

std::string repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

TEST(CountedLoop, StringLengthBoundIsExact) {
  Compiler compiler(small_vocab());
  const CompiledGrammar g = compiler.compile_json_schema(R"({"type":"string","minLength":3,"maxLength":30})");
  ASSERT_LT(g.stats().automaton_states, 300) << "30 characters with a 4-byte longest token should be counted";
  for (const std::string unit : {"x", "\xc3\xa9", "\\u00e9", "\\n", "\xf0\x9f\x98\x80", "\\ud83d\\ude00"}) {
    for (int n = 0; n <= 32; ++n) {
      EXPECT_EQ(accepts(g, "\"" + repeat(unit, n) + "\""), n >= 3 && n <= 30) << "unit '" << unit << "' x " << n;
    }
  }
  // Mixed units: counting is per character, whatever its bytes.
  EXPECT_TRUE(accepts(g, "\"" + repeat("a\xc3\xa9\\t", 10) + "\""));
  EXPECT_FALSE(accepts(g, "\"" + repeat("a\xc3\xa9\\t", 10) + "b\""));
}

TEST(CountedLoop, AmbiguousRepetitionsKeepTheirLanguage) {
  Compiler compiler(small_vocab());
  const CompiledGrammar g = compiler.compile_grammar("root ::= (\"a\" | \"ab\"){0,40} \".\"\n");
  EXPECT_TRUE(accepts(g, repeat("ab", 40) + "."));
  EXPECT_TRUE(accepts(g, repeat("a", 40) + "."));
  EXPECT_TRUE(accepts(g, repeat("a", 20) + repeat("ab", 20) + "."));
  EXPECT_FALSE(accepts(g, repeat("ab", 40) + "a."));
  EXPECT_FALSE(accepts(g, repeat("a", 41) + "."));
  const CompiledGrammar twice = compiler.compile_grammar("root ::= (\"a\" | \"aa\"){0,40} \".\"\n");
  EXPECT_TRUE(accepts(twice, repeat("a", 80) + "."));
  EXPECT_FALSE(accepts(twice, repeat("a", 81) + "."));
  // Iterations with ambiguous ends (a number and optional spaces), counted by their starts.
  const CompiledGrammar list = compiler.compile_grammar("root ::= \"[0\" (\",\" \" \"? [0-9]+ \" \"?){0,30} \"]\"\n");
  EXPECT_TRUE(accepts(list, "[0" + repeat(", 12 ", 30) + "]"));
  EXPECT_TRUE(accepts(list, "[0" + repeat(",7", 30) + "]"));
  EXPECT_FALSE(accepts(list, "[0" + repeat(", 12 ", 31) + "]"));
  EXPECT_FALSE(accepts(list, "[0" + repeat(",7", 31) + "]"));
  const CompiledGrammar h = compiler.compile_grammar("root ::= [a-z]{0,40} [a-c]\n");
  EXPECT_TRUE(accepts(h, repeat("z", 40) + "a"));
  EXPECT_FALSE(accepts(h, repeat("z", 41) + "a"));
  EXPECT_TRUE(accepts(h, repeat("a", 41)));
  EXPECT_FALSE(accepts(h, repeat("a", 42)));
}

TEST(CountedLoop, RollbackRestoresTheCount) {
  Compiler compiler(small_vocab());
  const CompiledGrammar g = compiler.compile_json_schema(R"({"type":"string","maxLength":30})");
  const Vocabulary& vocab = g.vocabulary();
  Matcher m(g);
  ASSERT_TRUE(m.accept_token('"'));
  for (int i = 0; i < 28; ++i) ASSERT_TRUE(m.accept_token('x'));  // past the limit (26): in the tail
  ASSERT_TRUE(m.rollback(10));                                     // back to 18, inside the loop
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(m.accept_token('y')) << i;
  EXPECT_FALSE(m.accept_token('y'));  // 31st
  ASSERT_TRUE(m.accept_token('"'));
  EXPECT_TRUE(m.can_terminate());
  (void)vocab;
}

TEST(CountedLoop, CallsInsideALoopKeepTheCount) {
  // Each nesting level has its own loop node; a return into the loop carries (and may complete) its count.
  const engine::Automaton a = automaton_of("root ::= ([a-z] | x){0,40}\nx ::= \"<\" root \">\"\n", 3);
  EXPECT_EQ(a.loops.size(), 1u);
  Compiler compiler(small_vocab());
  const CompiledGrammar g = compiler.compile_grammar("root ::= ([a-z] | x){0,12}\nx ::= \"<\" root \">\"\n");
  EXPECT_TRUE(accepts(g, "abcdefghijk<abcdefghijkl>"));   // 12 at both levels
  EXPECT_FALSE(accepts(g, "abcdefghijkl<a>"));            // 13 at the top
  EXPECT_FALSE(accepts(g, "ab<abcdefghijklm>"));          // 13 inside
  EXPECT_TRUE(accepts(g, "<<<>>>abcdefghijk"));
  EXPECT_FALSE(accepts(g, "<<<>>>abcdefghijkl"));
  EXPECT_TRUE(accepts(g, "abc<xy>defghijk"));     // the count goes through the call: 3 + 1 + 8
  EXPECT_FALSE(accepts(g, "abc<xy>defghijkl"));
}

// Random walks: the fast mask equals the brute-force one at every step, through the loop, across
// its limit and along the tail; walks prefer long tokens and only end where the bound forces it.
void walk_and_compare(const CompiledGrammar& g, const char* name, uint64_t seed, int steps, int& compared) {
  const Vocabulary& vocab = g.vocabulary();
  std::mt19937_64 rng(seed);
  for (int walk = 0; walk < 3; ++walk) {
    Matcher m(g);
    std::string out;
    for (int step = 0; step < steps && !m.is_terminated(); ++step) {
      TokenBitmask fast(vocab.size());
      ASSERT_TRUE(m.fill_next_token_bitmask(fast));
      const TokenBitmask ref = testing::reference_mask(m);
      ASSERT_EQ(fast.words, ref.words) << name << " after '" << out << "':\n" << testing::describe_difference(vocab, fast, ref);
      ++compared;
      const int32_t t = testing::pick_allowed(fast, vocab, rng, 0.0);
      ASSERT_GE(t, 0) << name << ": dead end after '" << out << "'";
      ASSERT_TRUE(m.accept_token(t));
      if (!m.is_terminated()) out += vocab.token_bytes(t);
    }
  }
}

TEST(CountedLoop, MasksEqualBruteForceAcrossTheLimit) {
  Compiler compiler(small_vocab());
  int compared = 0;
  const char* schemas[] = {
      R"({"type":"string","maxLength":30})",
      R"({"type":"string","minLength":12,"maxLength":40})",
      R"({"type":"object","properties":{"a":{"type":"string","maxLength":25},"b":{"type":"string","maxLength":11}},"required":["a","b"]})",
      R"({"type":"string","pattern":"^[a-c]{0,30}$"})",
      // Items are calls inside the loop; their strings are loops of their own.
      R"({"type":"array","items":{"type":"object","properties":{"k":{"type":"string","maxLength":12}},"required":["k"]},"maxItems":9})",
      R"({"type":"array","items":{"type":"integer"},"maxItems":25})",
  };
  uint64_t seed = 11;
  for (const char* schema : schemas) {
    walk_and_compare(compiler.compile_json_schema(schema), schema, ++seed, 80, compared);
    if (HasFatalFailure()) return;
  }
  walk_and_compare(compiler.compile_grammar("root ::= \"<\" ([a-z] | \"\\xc3\\xa9\"){2,29} \">\" [0-9]\n"), "gbnf", ++seed,
                   80, compared);
  walk_and_compare(compiler.compile_grammar("root ::= ([a-z] | x){0,12} \".\"\nx ::= \"<\" ([a-z] | x){0,12} \">\"\n"),
                   "recursive gbnf", ++seed, 80, compared);
  std::printf("[ counted loop ] %d masks compared\n", compared);
}

TEST(CountedLoop, HugeBoundsCompileSmall) {
  Compiler compiler(small_vocab());
  // maxLength 2^31 - 1 (above max_repetition) is counted: a few states, the bound still exact.
  const CompiledGrammar g = compiler.compile_json_schema(R"({"type":"string","maxLength":2147483647})");
  EXPECT_LT(g.stats().automaton_states, 300);
  EXPECT_TRUE(accepts(g, "\"" + repeat("ab", 5000) + "\""));
}

// The Llama-3 vocabulary (longest token well over 100 bytes): a string of 1000 characters is counted,
// and next to its end the masks still equal the brute-force ones.
TEST(CountedLoop, Llama3MasksNextToTheEnd) {
  const fs::path path = fs::path(STENCIL_DATA_DIR) / "tokenizers" / "llama3" / "tokenizer.json";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent: run scripts/prepare-data";
  Compiler compiler(Vocabulary::from_file(path.string()));
  const CompiledGrammar g = compiler.compile_json_schema(R"({"type":"string","maxLength":1000})");
  EXPECT_LT(g.stats().automaton_states, 8000);  // unrolled: ~20 states per character
  const Vocabulary& vocab = g.vocabulary();
  int longest = 0;
  for (int32_t id = 0; id < vocab.size(); ++id) longest = std::max<int>(longest, static_cast<int>(vocab.token_bytes(id).size()));
  // Inside the loop, at its last iterations, just past the limit, in the tail, at the end.
  for (int prefix : {600, 1000 - longest - 1, 1000 - longest + 1, 1000 - longest / 2, 1000}) {
    Matcher m(g);
    ASSERT_TRUE(m.accept_bytes("\"" + repeat("a", prefix - 1) + "\xc3\xa9"));
    const TokenBitmask ref = testing::reference_mask(m);
    TokenBitmask fast(vocab.size());
    ASSERT_TRUE(m.fill_next_token_bitmask(fast));
    ASSERT_EQ(fast.words, ref.words) << "after " << prefix << " characters:\n" << testing::describe_difference(vocab, fast, ref);
  }
  Matcher m(g);
  EXPECT_TRUE(m.accept_bytes("\"" + repeat("a", 1000) + "\""));
  Matcher over(g);
  EXPECT_FALSE(over.accept_bytes("\"" + repeat("a", 1001)));
}

}  // namespace
}  // namespace stencil
