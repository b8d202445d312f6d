// The pre-tokenizer on RE2: regex translation (Unicode \s, the hand-made \s+(?!\S), rejected
// lookarounds) and the split behaviours, with exact pieces.
#include "runtime/tokenizer_pretokenize.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stencil/errors.h"

namespace stencil::runtime::detail {
namespace {

std::vector<std::string> split(const PreTokenizer& p, const std::string& text) {
  std::vector<Piece> pieces, scratch;
  p.split(text, pieces, scratch);
  std::vector<std::string> out;
  for (const Piece& piece : pieces) out.push_back(text.substr(piece.begin, piece.end - piece.begin));
  return out;
}

using V = std::vector<std::string>;

constexpr std::string_view kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

TEST(PreTokenizeTest, Gpt2RegexWithTheLookaheadByHand) {
  PreTokenizer p;
  p.add_regex(kGpt2Regex, SplitBehavior::kIsolated, false);
  EXPECT_EQ(split(p, "Hello world"), (V{"Hello", " world"}));
  // "\s+(?!\S)": a run of spaces before a word leaves its last space to the word.
  EXPECT_EQ(split(p, "a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(split(p, "a \tb"), (V{"a", " ", "\t", "b"}));
  EXPECT_EQ(split(p, "x  "), (V{"x", "  "}));      // at the end the whole run stays
  EXPECT_EQ(split(p, "\tb"), (V{"\t", "b"}));       // a single space char before a word: \s+
  EXPECT_EQ(split(p, "I'm 42!!"), (V{"I", "'m", " 42", "!!"}));
  // Unicode White_Space (NBSP, U+3000) counts as space, as in Oniguruma and llama.cpp.
  EXPECT_EQ(split(p, "a\xC2\xA0\xC2\xA0" "b"), (V{"a", "\xC2\xA0", "\xC2\xA0", "b"}));
  EXPECT_EQ(split(p, "x\xE3\x80\x80\xE3\x80\x80y"), (V{"x", "\xE3\x80\x80", "\xE3\x80\x80", "y"}));
}

TEST(PreTokenizeTest, Llama3Regex) {
  PreTokenizer p;
  p.add_regex(kLlama3, SplitBehavior::kIsolated, false);
  EXPECT_EQ(split(p, "1234567 HE'S"), (V{"123", "456", "7", " HE", "'S"}));
  EXPECT_EQ(split(p, "a\n\n  b"), (V{"a", "\n\n", " ", " b"}));
  EXPECT_EQ(split(p, "x=-42;"), (V{"x", "=-", "42", ";"}));
}

TEST(PreTokenizeTest, Behaviours) {
  PreTokenizer removed;
  removed.add_literal("-", SplitBehavior::kRemoved, false);
  EXPECT_EQ(split(removed, "a-b--c"), (V{"a", "b", "c"}));
  PreTokenizer prev;
  prev.add_literal("-", SplitBehavior::kMergedWithPrevious, false);
  EXPECT_EQ(split(prev, "a-b-"), (V{"a-", "b-"}));
  PreTokenizer next;
  next.add_literal("-", SplitBehavior::kMergedWithNext, false);
  EXPECT_EQ(split(next, "a-b-c"), (V{"a", "-b", "-c"}));
  PreTokenizer contiguous;
  contiguous.add_literal("-", SplitBehavior::kContiguous, false);
  EXPECT_EQ(split(contiguous, "a--b"), (V{"a", "--", "b"}));
  // invert: the matches are the pieces, the gaps are the delimiters (o200k's Split).
  PreTokenizer inverted;
  inverted.add_regex(R"(\p{L}+)", SplitBehavior::kRemoved, true);
  EXPECT_EQ(split(inverted, "ab, cd!"), (V{"ab", "cd"}));
  // Two steps: digits first, then words.
  PreTokenizer seq;
  seq.add_regex(R"(\p{N})", SplitBehavior::kIsolated, false);
  seq.add_regex(kGpt2Regex, SplitBehavior::kIsolated, false);
  EXPECT_EQ(split(seq, "ab 123"), (V{"ab", " ", "1", "2", "3"}));
  EXPECT_EQ(split(seq, ""), V{});
}

TEST(PreTokenizeTest, Translation) {
  bool look = false;
  EXPECT_EQ(translate_pretokenizer_regex(R"((a)\d)", &look), R"((?:a)\p{Nd})");
  EXPECT_FALSE(look);
  const std::string t = translate_pretokenizer_regex(R"(x|\s+(?!\S)|\s+)", &look);
  EXPECT_TRUE(look);
  EXPECT_EQ(t.substr(0, 4), "x|([");
  EXPECT_EQ(t.find("(?!"), std::string::npos);
  // [^\s...] keeps \s inside the class as ranges.
  EXPECT_NE(translate_pretokenizer_regex(R"([^\s\p{L}])", &look).find(R"([^\t-\r \x{85})"), std::string::npos);
  for (const char* bad : {R"(a(?=b))", R"((?<=a)b)", R"((a)\1)", R"(\bword)", R"([\S])", R"((?>a))"}) {
    EXPECT_THROW(translate_pretokenizer_regex(bad, &look), VocabularyError) << bad;
  }
  PreTokenizer p;
  EXPECT_THROW(p.add_regex("(unclosed", SplitBehavior::kIsolated, false), VocabularyError);
  EXPECT_THROW(p.add_literal("", SplitBehavior::kIsolated, false), VocabularyError);
}

}  // namespace
}  // namespace stencil::runtime::detail
