// Tests of the reference Earley recognizer on hand-built grammars: each case builds
// a grammar with the Grammar factory and lists strings it must accept and reject.
// Covers left recursion, empty rules, nested and counted repeats, ambiguity,
// UTF-8 char classes (strict decoding), byte classes and undefined rules.
#include "grammar/recognizer.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

struct Case {
  std::string name;
  std::function<void(Grammar&)> build;  // must set the root
  std::vector<std::string> accept;
  std::vector<std::string> reject;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

RuleId define(Grammar& g, std::string_view name, ExprId body) {
  RuleId r = g.declare_rule(name);
  g.define_rule(r, body);
  return r;
}

std::vector<Case> cases() {
  return {
      {"literal",
       [](Grammar& g) { g.set_root(define(g, "root", g.literal("abc"))); },
       {"abc"},
       {"", "ab", "abcd", "abd", "xabc"}},
      {"empty_root",
       [](Grammar& g) { g.set_root(define(g, "root", g.empty())); },
       {""},
       {"a", " "}},
      {"choice_and_sequence",
       [](Grammar& g) {
         ExprId ab = g.choice({g.literal("a"), g.literal("bb")});
         g.set_root(define(g, "root", g.sequence({ab, g.literal("-"), ab})));
       },
       {"a-a", "a-bb", "bb-a", "bb-bb"},
       {"a-", "-a", "a-b", "b-a", "abb", "a--a"}},
      {"left_recursion",
       [](Grammar& g) {
         // expr ::= expr "+" num | num ; num ::= [0-9]+
         RuleId expr = g.declare_rule("expr");
         ExprId num = g.plus(g.char_class({{'0', '9'}}));
         g.define_rule(expr, g.choice({g.sequence({g.rule_ref(expr), g.literal("+"), num}), num}));
         g.set_root(expr);
       },
       {"1", "12", "1+2", "10+20+3", "1+2+3+4+5+6+7+8+9"},
       {"", "+", "1+", "+1", "1++2", "a"}},
      {"hidden_left_recursion_through_empty_rule",
       [](Grammar& g) {
         // s ::= e s "x" | "y" ; e ::= ""   (s is left recursive behind a nullable e)
         RuleId s = g.declare_rule("s");
         RuleId e = define(g, "e", g.empty());
         g.define_rule(s, g.choice({g.sequence({g.rule_ref(e), g.rule_ref(s), g.literal("x")}), g.literal("y")}));
         g.set_root(s);
       },
       {"y", "yx", "yxxx"},
       {"", "x", "xy", "yy"}},
      {"empty_rules",
       [](Grammar& g) {
         // root ::= b b "x" b ; b ::= "" | "b"
         RuleId b = define(g, "b", g.choice({g.empty(), g.literal("b")}));
         g.set_root(define(g, "root", g.sequence({g.rule_ref(b), g.rule_ref(b), g.literal("x"), g.rule_ref(b)})));
       },
       {"x", "bx", "bbx", "xb", "bxb", "bbxb"},
       {"", "bbbx", "xbb", "b"}},
      {"chain_of_empty_rules",
       [](Grammar& g) {
         // a ::= b ; b ::= c ; c ::= "" ; root ::= a a "!" a
         RuleId c = define(g, "c", g.empty());
         RuleId b = define(g, "b", g.rule_ref(c));
         RuleId a = define(g, "a", g.rule_ref(b));
         g.set_root(define(g, "root", g.sequence({g.rule_ref(a), g.rule_ref(a), g.literal("!"), g.rule_ref(a)})));
       },
       {"!"},
       {"", "!!"}},
      {"ambiguous",
       [](Grammar& g) {
         // s ::= s s | "a"
         RuleId s = g.declare_rule("s");
         g.define_rule(s, g.choice({g.sequence({g.rule_ref(s), g.rule_ref(s)}), g.literal("a")}));
         g.set_root(s);
       },
       {"a", "aa", "aaa", "aaaaaaaaaaaa"},
       {"", "ab", "b"}},
      {"balanced_parentheses",
       [](Grammar& g) {
         // s ::= "(" s ")" s | ""
         RuleId s = g.declare_rule("s");
         g.define_rule(s, g.choice({g.sequence({g.literal("("), g.rule_ref(s), g.literal(")"), g.rule_ref(s)}),
                                    g.empty()}));
         g.set_root(s);
       },
       {"", "()", "()()", "(())", "(()())()"},
       {"(", ")", ")(", "(()", "())"}},
      {"counted_repeat",
       [](Grammar& g) { g.set_root(define(g, "root", g.repeat(g.literal("ab"), 2, 4))); },
       {"abab", "ababab", "abababab"},
       {"", "ab", "aba", "ababababab", "abba"}},
      {"repeat_at_least",
       [](Grammar& g) { g.set_root(define(g, "root", g.repeat(g.literal("a"), 3, kUnbounded))); },
       {"aaa", "aaaa", std::string(50, 'a')},
       {"", "a", "aa", "aab"}},
      {"optional_and_star",
       [](Grammar& g) {
         g.set_root(define(g, "root", g.sequence({g.optional(g.literal("-")), g.star(g.literal("0"))})));
       },
       {"", "-", "0", "-000", "00"},
       {"--", "0-", "-0-"}},
      {"nested_repeats_of_nullable",
       [](Grammar& g) {
         // (("a"{0,2}){2,3})  : 0..6 a's, each inner part possibly empty
         g.set_root(define(g, "root", g.repeat(g.repeat(g.literal("a"), 0, 2), 2, 3)));
       },
       {"", "a", "aaa", "aaaaaa"},
       {"aaaaaaa", "b"}},
      {"star_of_star",
       [](Grammar& g) { g.set_root(define(g, "root", g.star(g.star(g.literal("ab"))))); },
       {"", "ab", "abab", "ababab"},
       {"a", "aba", "ba"}},
      {"star_of_nullable_choice",
       [](Grammar& g) {
         g.set_root(define(g, "root", g.sequence({g.star(g.choice({g.empty(), g.literal("x")})), g.literal(";")})));
       },
       {";", "x;", "xxxx;"},
       {"", "x", ";;"}},
      {"large_bounded_repeat",
       [](Grammar& g) { g.set_root(define(g, "root", g.repeat(g.char_class({{'a', 'z'}}), 0, 10000))); },
       {"", "z", std::string(300, 'q')},
       {"A", std::string(299, 'q') + "1"}},
      {"exact_large_repeat",
       [](Grammar& g) { g.set_root(define(g, "root", g.repeat(g.literal("x"), 200, 200))); },
       {std::string(200, 'x')},
       {std::string(199, 'x'), std::string(201, 'x')}},
      {"char_class_utf8",
       [](Grammar& g) {
         // [a-c] or Greek lowercase or CJK U+4E00..U+9FFF or one emoji range, repeated
         g.set_root(define(g, "root", g.plus(g.char_class({{'a', 'c'}, {0x3B1, 0x3C9}, {0x4E00, 0x9FFF},
                                                            {0x1F600, 0x1F64F}}))));
       },
       {"a", "\xCE\xB1", "abc\xCF\x89", "\xE4\xB8\x80", "\xF0\x9F\x98\x80", "a\xF0\x9F\x99\x8F" "c"},
       {"", "d", "\xCE", "\xCE\xB1\xCE", "\xCE\x91", "\xF0\x9F\x98", "\xC0\x81", "\xE2\x82\xAC"}},
      {"negated_char_class",
       [](Grammar& g) { g.set_root(define(g, "root", g.star(g.char_class({{'"', '"'}, {'\\', '\\'}}, true)))); },
       {"", "abc", "\xC3\xA9", "\xF4\x8F\xBF\xBF", std::string("\0", 1)},
       {"\"", "a\\", "\xED\xA0\x80" /* surrogate */, "\xF4\x90\x80\x80" /* > U+10FFFF */, "\xE0\x80\xAF" /* overlong */,
        "\x80", "\xFF"}},
      {"byte_class",
       [](Grammar& g) { g.set_root(define(g, "root", g.repeat(g.byte_class({{0x80, 0xFF}}), 2, 2))); },
       {"\x80\xFF", "\xCE\xB1", "\xFF\xFF"},
       {"\xFF", "a\x80", "\x80\x80\x80"}},
      {"literal_with_multibyte",
       [](Grammar& g) { g.set_root(define(g, "root", g.literal("caf\xC3\xA9"))); },
       {"caf\xC3\xA9"},
       {"cafe", "caf\xC3"}},
      {"undefined_rule_matches_nothing",
       [](Grammar& g) {
         RuleId missing = g.declare_rule("missing");
         g.set_root(define(g, "root", g.choice({g.literal("a"), g.sequence({g.literal("b"), g.rule_ref(missing)})})));
       },
       {"a"},
       {"b", "", "ba"}},
      {"mutual_recursion",
       [](Grammar& g) {
         // even ::= "" | "a" odd ; odd ::= "a" even
         RuleId even = g.declare_rule("even");
         RuleId odd = g.declare_rule("odd");
         g.define_rule(even, g.choice({g.empty(), g.sequence({g.literal("a"), g.rule_ref(odd)})}));
         g.define_rule(odd, g.sequence({g.literal("a"), g.rule_ref(even)}));
         g.set_root(even);
       },
       {"", "aa", "aaaa", std::string(40, 'a')},
       {"a", "aaa", std::string(41, 'a')}},
  };
}

class RecognizerTest : public ::testing::TestWithParam<Case> {};

TEST_P(RecognizerTest, AcceptsAndRejects) {
  const Case& c = GetParam();
  Grammar g;
  c.build(g);
  for (const std::string& s : c.accept) EXPECT_TRUE(recognizes(g, s)) << "should accept: " << testing::PrintToString(s);
  for (const std::string& s : c.reject) EXPECT_FALSE(recognizes(g, s)) << "should reject: " << testing::PrintToString(s);
}

INSTANTIATE_TEST_SUITE_P(Grammars, RecognizerTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(RecognizerErrors, NoRootIsAnArgumentError) {
  Grammar g;
  define(g, "a", g.literal("a"));
  EXPECT_THROW(recognizes(g, "a"), ArgumentError);
}

TEST(RecognizerErrors, RootWithoutBodyMatchesNothing) {
  Grammar g;
  g.set_root(g.declare_rule("root"));
  EXPECT_FALSE(recognizes(g, ""));
  EXPECT_FALSE(recognizes(g, "a"));
}

}  // namespace
}  // namespace stencil::grammar
