// The automaton builder emits shared parts of a grammar once (a fragment used twice towards the same
// state, equal sequence suffixes, `X (S X)*` lists with one X). These tests pin the two things that
// matter: the language is unchanged (exact accept/reject checks, including loops inside shared
// parts), and sizes grow linearly where copying would make them exponential.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stencil/stencil.h"

namespace stencil {
namespace {

Vocabulary byte_vocab() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(std::string(1, static_cast<char>(b)));
  tokens.push_back("");  // EOS
  const int32_t eos = static_cast<int32_t>(tokens.size()) - 1;
  return Vocabulary::from_tokens(tokens, {eos}, {eos});
}

bool accepts(const CompiledGrammar& g, const std::string& text) {
  Matcher m(g);
  return m.accept_bytes(text) && m.can_terminate();
}

const Vocabulary& vocab() {
  static const Vocabulary v = byte_vocab();
  return v;
}

TEST(AutomatonSharing, SharedSuffixesKeepTheLanguage) {
  Compiler compiler(vocab());
  // The three alternatives end in the same suffix ("b" "c"+) towards the same state.
  CompiledGrammar g = compiler.compile_grammar(R"g(root ::= "a" "b" "c"+ | "x" "b" "c"+ | "b" "c"+ | "a" "y")g");
  for (const char* ok : {"abc", "abccc", "xbc", "bc", "bcc", "ay"}) EXPECT_TRUE(accepts(g, ok)) << ok;
  for (const char* bad : {"ab", "xb", "b", "ac", "xy", "aby", "abcy", "", "abcb"}) EXPECT_FALSE(accepts(g, bad)) << bad;
}

TEST(AutomatonSharing, SeparatedListsKeepTheLanguage) {
  Compiler compiler(vocab());
  // item has a loop of its own; the list loops back to the item's start through ", ".
  CompiledGrammar g = compiler.compile_grammar(R"g(root ::= "[" (item (", " item)*)? "]"
item ::= [a-z]+ ("=" [0-9]+)?)g");
  for (const char* ok : {"[]", "[a]", "[ab, c]", "[a=1, bc=22, d]", "[x, y, z, w]"}) EXPECT_TRUE(accepts(g, ok)) << ok;
  for (const char* bad : {"[", "[a,]", "[a, ]", "[, a]", "[a=]", "[a b]", "[a, b", "a, b]", "[=1]", "[a==1]"}) {
    EXPECT_FALSE(accepts(g, bad)) << bad;
  }
}

TEST(AutomatonSharing, ListsAfterAPrefixAndBeforeASuffix) {
  Compiler compiler(vocab());
  // The list is in the middle of a sequence; its end state also leads on to "!".
  CompiledGrammar g = compiler.compile_grammar(R"g(root ::= "<" [0-9] ("," [0-9])* ">" "!"?)g");
  for (const char* ok : {"<1>", "<1,2>", "<1,2,3>!", "<9>!"}) EXPECT_TRUE(accepts(g, ok)) << ok;
  for (const char* bad : {"<>", "<1,>", "<,1>", "<1,2", "<1>!!", "1,2>", "<12>"}) EXPECT_FALSE(accepts(g, bad)) << bad;
}

// Many optional properties: every member once, in schema order, any subset.
TEST(AutomatonSharing, ManyOptionalPropertiesCompileLinearly) {
  Compiler compiler(vocab());
  JsonOptions compact;
  compact.whitespace = WhitespacePolicy::kCompact;
  auto schema = [](int k) {
    std::string s = R"({"type":"object","properties":{)";
    for (int i = 0; i < k; ++i) s += (i ? "," : "") + std::string("\"p") + std::to_string(i) + R"(":{"type":"integer"})";
    return s + "}}";
  };
  const CompiledGrammar g20 = compiler.compile_json_schema(schema(20), compact);
  const CompiledGrammar g40 = compiler.compile_json_schema(schema(40), compact);
  // Linear: doubling the properties at most ~doubles the states (copying per tail was exponential
  // and exceeded max_automaton_states at 16 properties).
  EXPECT_LT(g40.stats().automaton_states, 3 * g20.stats().automaton_states)
      << g20.stats().automaton_states << " -> " << g40.stats().automaton_states;
  for (const char* ok : {"{}", R"({"p0":1})", R"({"p3":1,"p17":-2,"p39":30})", R"({"p38":0,"p39":0})"}) {
    EXPECT_TRUE(accepts(g40, ok)) << ok;
  }
  for (const char* bad : {R"({"p17":2,"p3":1})", R"({"p3":1,"p3":1})", R"({"p40":1})", R"({,"p1":1})", R"({"p1":1,})"}) {
    EXPECT_FALSE(accepts(g40, bad)) << bad;
  }
}

// Arrays nested n deep: each level adds a constant number of states. Emitting the first item and the
// repeated items as two copies doubled the NFA per level (2^20 copies exceed max_automaton_states).
TEST(AutomatonSharing, NestedArraysGrowLinearly) {
  Compiler compiler(vocab());
  JsonOptions compact;
  compact.whitespace = WhitespacePolicy::kCompact;
  auto schema = [](int depth) {
    std::string s = R"({"type":"integer"})";
    for (int i = 0; i < depth; ++i) s = R"({"type":"array","items":)" + s + "}";
    return s;
  };
  const int32_t s18 = compiler.compile_json_schema(schema(18), compact).stats().automaton_states;
  const int32_t s19 = compiler.compile_json_schema(schema(19), compact).stats().automaton_states;
  const int32_t s20 = compiler.compile_json_schema(schema(20), compact).stats().automaton_states;
  EXPECT_EQ(s20 - s19, s19 - s18) << s18 << " " << s19 << " " << s20;
  const CompiledGrammar g = compiler.compile_json_schema(schema(3), compact);
  for (const char* ok : {"[]", "[[]]", "[[[1]]]", "[[[1,2],[]],[[3]]]"}) EXPECT_TRUE(accepts(g, ok)) << ok;
  for (const char* bad : {"[[[[1]]]]", "[1]", "[[1]]", "[[[1],2]]", "[[[1,]]]", "[[[]],]"}) EXPECT_FALSE(accepts(g, bad)) << bad;
}

}  // namespace
}  // namespace stencil
