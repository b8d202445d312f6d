// Matcher behaviour on small vocabularies: exact masks against the brute-force
// reference, EOS, rollback, forced bytes, min_bytes_to_end, bad token ids.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/engine_test_util.h"
#include "grammar/grammar.h"
#include "grammar/recognizer.h"
#include "stencil/stencil.h"

namespace stencil {
namespace {

// Every single byte, plus multi-byte tokens that cross grammar boundaries.
Vocabulary small_vocab() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(std::string(1, static_cast<char>(b)));
  for (const char* t : {"ab", "abc", "\"", "\",", "\"}", "\"]", "{\"", "true", "tr", "false", "null", "12", "0.", "1e",
                        ", ", ",\"", "]}", "}]", "aa", "aaa", "aaaa", "ba", "cab", " a", "  ", "\n", "(", "()",
                        "(1", "+1", "1+", "x=", "\xc3\xa9", "\xc3", "\xa9x", "\xe2\x82\xac"}) {
    tokens.push_back(t);
  }
  tokens.push_back("");  // special: EOS
  tokens.push_back("");  // special: another control token
  const int32_t eos = static_cast<int32_t>(tokens.size()) - 2;
  return Vocabulary::from_tokens(tokens, {eos}, {eos, eos + 1});
}

struct Case {
  const char* name;
  const char* gbnf;
  std::vector<std::string> accept;
  std::vector<std::string> reject;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"literal", R"g(root ::= "abc")g", {"abc"}, {"", "ab", "abcd", "b"}},
      {"choice", R"g(root ::= "ab" | "abc" | "b")g", {"ab", "abc", "b"}, {"a", "bb", "abcc"}},
      {"star", R"g(root ::= "a"* "b")g", {"b", "ab", "aaaab"}, {"", "a", "ba"}},
      {"bounded", R"g(root ::= "a"{2,4})g", {"aa", "aaa", "aaaa"}, {"a", "aaaaa", ""}},
      {"class", R"g(root ::= [a-c]+ [^a-c])g", {"ad", "abcx", "a\xc3\xa9"}, {"a", "d", "aa\xc3"}},
      {"recursion", R"g(root ::= "(" root ")" | "x")g", {"x", "(x)", "((x))"}, {"()", "(x", "x)"}},
      {"nested-rules", R"g(root ::= item ("," item)*
item ::= num | "[" root "]"
num ::= [0-9]+)g",
       {"1", "1,2", "[1,2],3", "[[1]]"},
       {"", ",", "1,", "[1", "[]"}},
      {"nullable-calls", R"g(root ::= a b "c"
a ::= "a"?
b ::= "b"*)g",
       {"c", "ac", "abc", "bbc"},
       {"", "ca", "aac"}},
      {"unicode", R"g(root ::= [é€]+)g", {"\xc3\xa9", "\xe2\x82\xac\xc3\xa9"}, {"e", "\xc3", "\xc3\xa9\xe2"}},
  };
  return c;
}

class MatcherCases : public ::testing::TestWithParam<Case> {};

TEST_P(MatcherCases, AcceptsAndRejectsBytes) {
  const Case& c = GetParam();
  Compiler compiler(small_vocab());
  CompiledGrammar g = compiler.compile_grammar(c.gbnf);
  for (const std::string& s : c.accept) {
    Matcher m(g);
    EXPECT_TRUE(m.accept_bytes(s) && m.can_terminate()) << c.name << ": should accept '" << s << "'";
  }
  for (const std::string& s : c.reject) {
    Matcher m(g);
    EXPECT_FALSE(m.accept_bytes(s) && m.can_terminate()) << c.name << ": should reject '" << s << "'";
  }
}

// Walks random token paths; at every step the fast mask equals the brute-force one,
// and every finished text is accepted by the independent Earley recognizer.
TEST_P(MatcherCases, MaskIsExactOnRandomWalks) {
  const Case& c = GetParam();
  Vocabulary vocab = small_vocab();
  Compiler compiler(vocab);
  CompiledGrammar g = compiler.compile_grammar(c.gbnf);
  grammar::Grammar ir = grammar::parse_gbnf(c.gbnf);
  std::mt19937_64 rng(7);
  for (int walk = 0; walk < 20; ++walk) {
    Matcher m(g);
    std::string text;
    for (int step = 0; step < 30; ++step) {
      TokenBitmask fast(vocab.size());
      ASSERT_TRUE(m.fill_next_token_bitmask(fast));
      TokenBitmask ref = testing::reference_mask(m);
      ASSERT_EQ(fast.words, ref.words) << c.name << " after '" << text << "':\n"
                                       << testing::describe_difference(vocab, fast, ref);
      const int32_t t = testing::pick_allowed(fast, vocab, rng, 0.3);
      ASSERT_GE(t, 0) << c.name << ": no token allowed after '" << text << "'";
      ASSERT_TRUE(m.accept_token(t));
      if (m.is_terminated()) break;
      text += vocab.token_bytes(t);
    }
    if (m.is_terminated()) {
      EXPECT_TRUE(grammar::recognizes(ir, text)) << c.name << ": produced '" << text << "'";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Grammars, MatcherCases, ::testing::ValuesIn(cases()),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& ch : n) if (ch == '-') ch = '_';
                           return n;
                         });

TEST(Matcher, EosOnlyWhenComplete) {
  Vocabulary vocab = small_vocab();
  const int32_t eos = vocab.eos_ids()[0];
  Matcher m(Compiler(vocab).compile_grammar(R"g(root ::= "ab")g"));
  EXPECT_FALSE(m.accept_token(eos));
  EXPECT_TRUE(m.accept_bytes("ab"));
  TokenBitmask mask(vocab.size());
  m.fill_next_token_bitmask(mask);
  EXPECT_EQ(mask.allowed_ids(), std::vector<int32_t>{eos});
  EXPECT_TRUE(m.accept_token(eos));
  EXPECT_TRUE(m.is_terminated());
  EXPECT_FALSE(m.accept_token('a'));
}

TEST(Matcher, RejectsBadTokenIdsWithoutStateChange) {
  Vocabulary vocab = small_vocab();
  Matcher m(Compiler(vocab).compile_grammar(R"g(root ::= "ab")g"));
  EXPECT_FALSE(m.accept_token(-1));
  EXPECT_FALSE(m.accept_token(vocab.size()));
  EXPECT_FALSE(m.accept_token(vocab.size() - 1));  // a special token that is not EOS
  EXPECT_FALSE(m.accept_token('b'));
  EXPECT_TRUE(m.accept_token('a'));
  EXPECT_TRUE(m.accept_token('b'));
}

TEST(Matcher, RollbackRestoresEarlierStates) {
  Vocabulary vocab = small_vocab();
  Matcher m(Compiler(vocab).compile_grammar(R"g(root ::= "a"+ "b")g"));
  TokenBitmask before(vocab.size()), after(vocab.size());
  m.fill_next_token_bitmask(before);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(m.accept_token('a'));
  ASSERT_TRUE(m.accept_token('b'));
  EXPECT_TRUE(m.can_terminate());
  EXPECT_TRUE(m.rollback(1));
  EXPECT_FALSE(m.can_terminate());
  EXPECT_TRUE(m.rollback(16));
  EXPECT_FALSE(m.rollback(1000));
  m.reset();
  m.fill_next_token_bitmask(after);
  EXPECT_EQ(before.words, after.words);
}

TEST(Matcher, ForcedBytesFollowTheGrammar) {
  Vocabulary vocab = small_vocab();
  Matcher m(Compiler(vocab).compile_grammar(R"g(root ::= "{\"name\": \"" [a-z]+ "\"}")g"));
  EXPECT_EQ(m.forced_bytes(), "{\"name\": \"");
  ASSERT_TRUE(m.accept_bytes("{\"name\": \"x"));
  EXPECT_EQ(m.forced_bytes(), "");
}

TEST(Matcher, MinBytesToEnd) {
  Vocabulary vocab = small_vocab();
  Matcher m(Compiler(vocab).compile_grammar(R"g(root ::= "(" root ")" | "x")g"));
  EXPECT_EQ(m.min_bytes_to_end(), 1);
  ASSERT_TRUE(m.accept_bytes("(("));
  EXPECT_EQ(m.min_bytes_to_end(), 3);
  ASSERT_TRUE(m.accept_bytes("x)"));
  EXPECT_EQ(m.min_bytes_to_end(), 1);
}

TEST(Matcher, BudgetMaskAlwaysLeavesAWayToFinish) {
  Vocabulary vocab = small_vocab();
  CompiledGrammar g = Compiler(vocab).compile_grammar(R"g(root ::= "(" root ")" | "x")g");
  std::mt19937_64 rng(3);
  for (int budget = 1; budget < 12; ++budget) {
    Matcher m(g);
    for (int left = budget; left > 0 && !m.can_terminate(); --left) {
      TokenBitmask mask(vocab.size());
      m.fill_next_token_bitmask(mask.words, left);
      const int32_t t = testing::pick_allowed(mask, vocab, rng, 0.0);
      ASSERT_GE(t, 0) << "budget " << budget;
      ASSERT_TRUE(m.accept_token(t));
    }
    EXPECT_TRUE(m.can_terminate()) << "budget " << budget;
  }
}

TEST(Matcher, LeftRecursionIsAnError) {
  Compiler compiler(small_vocab());
  EXPECT_THROW(compiler.compile_grammar("root ::= root \"a\" | \"b\""), GrammarError);
}

TEST(Matcher, ForkIsIndependent) {
  Vocabulary vocab = small_vocab();
  Matcher m(Compiler(vocab).compile_grammar(R"g(root ::= "ab" | "ac")g"));
  ASSERT_TRUE(m.accept_token('a'));
  Matcher f = m.fork();
  EXPECT_TRUE(f.accept_token('b'));
  EXPECT_TRUE(f.can_terminate());
  EXPECT_FALSE(m.can_terminate());
  EXPECT_TRUE(m.accept_token('c'));
}

// The batched fill on a pool gives, row by row, the masks of sequential fills.
TEST(BatchFiller, MatchesSequentialFills) {
  Vocabulary vocab = small_vocab();
  CompiledGrammar g = Compiler(vocab).compile_grammar(R"g(root ::= item ("," item)*
item ::= [0-9]+ | "[" root "]")g");
  std::mt19937_64 rng(5);
  std::vector<Matcher> matchers;
  for (int i = 0; i < 24; ++i) {
    matchers.emplace_back(g);
    for (int step = 0; step < i % 7; ++step) {
      TokenBitmask mask(vocab.size());
      matchers.back().fill_next_token_bitmask(mask);
      const int32_t t = testing::pick_allowed(mask, vocab, rng, 0.0);
      ASSERT_TRUE(matchers.back().accept_token(t));
    }
  }
  const int32_t words = bitmask_words(vocab.size());
  std::vector<uint32_t> batched(matchers.size() * static_cast<size_t>(words), 0xDEADBEEFu);
  std::vector<Matcher*> ptrs;
  for (Matcher& m : matchers) ptrs.push_back(&m);
  BatchFiller filler(3);
  for (int round = 0; round < 3; ++round) {
    filler.fill(ptrs, batched, words);
    for (size_t i = 0; i < matchers.size(); ++i) {
      TokenBitmask one(vocab.size());
      matchers[i].fill_next_token_bitmask(one);
      EXPECT_TRUE(std::equal(one.words.begin(), one.words.end(), batched.begin() + static_cast<long>(i) * words))
          << "row " << i;
    }
  }
  std::vector<uint32_t> too_small(static_cast<size_t>(words));
  EXPECT_THROW(filler.fill(ptrs, too_small, words), ArgumentError);
}

// compile_builtin_json(json) takes its own whitespace policy; the Compiler's options are unchanged.
TEST(Compiler, BuiltinJsonTakesPerCallOptions) {
  Vocabulary vocab = small_vocab();
  CompileOptions options;
  options.threads = 1;  // precompute on the calling thread only: same masks
  Compiler compiler(vocab, options);
  JsonOptions compact;
  compact.whitespace = WhitespacePolicy::kCompact;
  Matcher strict(compiler.compile_builtin_json(compact));
  Matcher flexible(compiler.compile_builtin_json());
  ASSERT_TRUE(strict.accept_token('['));
  ASSERT_TRUE(flexible.accept_token('['));
  EXPECT_FALSE(strict.accept_token(' '));
  EXPECT_TRUE(flexible.accept_token(' '));
  EXPECT_EQ(compiler.options().json.whitespace, WhitespacePolicy::kFlexible);
}

TEST(ApplyBitmask, MasksDisallowedAndPadding) {
  TokenBitmask mask(40);
  mask.words[0] = 0b101;
  mask.words[1] = 1u << 3;  // token 35
  std::vector<float> logits(48, 1.0f);
  apply_token_bitmask(logits, mask);
  for (int i = 0; i < 48; ++i) {
    const bool allowed = i == 0 || i == 2 || i == 35;
    EXPECT_EQ(logits[i] == 1.0f, allowed) << i;
  }
}

}  // namespace
}  // namespace stencil
