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

// Many optional properties: every member once, in schema order, any subset. Copying each member per
// shared tail was exponential (over max_automaton_states at 16 properties). What remains grows with
// the key tries of "the keys still allowed after key j" (at most quadratic: keys p1, p10..p19 share
// prefixes), so doubling the properties may about quadruple the states, never more.
TEST(AutomatonSharing, ManyOptionalPropertiesStaySmall) {
  Compiler compiler(vocab());
  JsonOptions compact;
  compact.whitespace = WhitespacePolicy::kCompact;
  auto schema = [](int k) {
    std::string s = R"({"type":"object","properties":{)";
    for (int i = 0; i < k; ++i) s += (i ? "," : "") + std::string("\"p") + std::to_string(i) + R"(":{"type":"integer"})";
    return s + "}}";
  };
  const int32_t s20 = compiler.compile_json_schema(schema(20), compact).stats().automaton_states;
  const CompiledGrammar g40 = compiler.compile_json_schema(schema(40), compact);
  const int32_t s80 = compiler.compile_json_schema(schema(80), compact).stats().automaton_states;
  const int32_t s40 = g40.stats().automaton_states;
  EXPECT_LE(s40, 4 * s20 + 64) << s20 << " -> " << s40;
  EXPECT_LE(s80, 4 * s40 + 64) << s40 << " -> " << s80;
  for (const char* ok : {"{}", R"({"p0":1})", R"({"p3":1,"p17":-2,"p39":30})", R"({"p38":0,"p39":0})"}) {
    EXPECT_TRUE(accepts(g40, ok)) << ok;
  }
  for (const char* bad : {R"({"p17":2,"p3":1})", R"({"p3":1,"p3":1})", R"({"p40":1})", R"({,"p1":1})", R"({"p1":1,})"}) {
    EXPECT_FALSE(accepts(g40, bad)) << bad;
  }
}

// An unanchored pattern with alternatives is written `.* alt_i .*` per alternative. Equal pieces are
// one expression (Grammar hash-conses them), so the trailing `.*` is one state set and the subset
// construction does not track which of the nine alternatives matched (2^9 subsets, ~44,000 states
// before minimisation, when each `.*` was its own copy).
TEST(AutomatonSharing, UnanchoredPatternAlternativesStaySmall) {
  CompileOptions options;
  options.limits.max_automaton_states = 2000;
  Compiler compiler(vocab(), options);
  JsonOptions compact;
  compact.whitespace = WhitespacePolicy::kCompact;
  const CompiledGrammar g = compiler.compile_json_schema(
      R"j({"type":"string","pattern":"(top-left|top-center|top-right|middle-left|middle-center|middle-right|bottom-left|bottom-center|bottom-right)"})j",
      compact);
  for (const char* ok : {R"("top-left")", R"("at the bottom-right corner")", R"("middle-center\n")"}) {
    EXPECT_TRUE(accepts(g, ok)) << ok;
  }
  for (const char* bad : {R"("top")", R"("top-middle")", R"("")", R"("bottom-lef")"}) EXPECT_FALSE(accepts(g, bad)) << bad;
}

// A rule referenced from two places counts as called twice even when both places share one
// reference expression: counted once, the pretty layout's per-depth any-JSON rules were all inlined
// into one another and `{}` exceeded max_automaton_states.
TEST(AutomatonSharing, SharedReferencesStillCountAsSeveralCalls) {
  Compiler compiler(vocab());
  JsonOptions pretty;
  pretty.whitespace = WhitespacePolicy::kPretty;
  pretty.indent = 2;
  pretty.strict = false;
  const CompiledGrammar g = compiler.compile_json_schema("{}", pretty);
  EXPECT_TRUE(accepts(g, "{\n  \"a\": [\n    1,\n    {}\n  ]\n}"));
  EXPECT_FALSE(accepts(g, "{\"a\": 1}"));
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
