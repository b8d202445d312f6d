// Tests of the semantic checks (grammar_checks.h) on hand-built IR: root, undefined rules,
// left recursion (direct, indirect, through nullable prefixes and repeats), empty languages,
// the nullable/productive analyses, and long rule chains (no recursion over the IR).
#include "grammar/grammar_checks.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

RuleId define(Grammar& g, std::string_view name, ExprId body) {
  const RuleId r = g.declare_rule(name);
  g.define_rule(r, body);
  return r;
}

const std::string kLeftRecursionAdvice =
    "; the engine parses top-down: rewrite it with repetition, e.g. 'list ::= item (\",\" item)*'";

struct CheckCase {
  std::string name;
  std::function<void(Grammar&)> build;
  std::string message;  // empty: no problem
  std::string rule;     // the rule the problem is about ("" for none)
};
void PrintTo(const CheckCase& c, std::ostream* os) { *os << c.name; }

class GrammarChecks : public testing::TestWithParam<CheckCase> {};

TEST_P(GrammarChecks, FindsTheExpectedProblem) {
  const CheckCase& c = GetParam();
  Grammar g;
  c.build(g);
  const std::optional<GrammarProblem> problem = find_grammar_problem(g);
  if (c.message.empty()) {
    EXPECT_FALSE(problem.has_value()) << problem->message;
    EXPECT_NO_THROW(check_grammar(g));
    return;
  }
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->message, c.message);
  EXPECT_EQ(problem->rule >= 0 ? g.rule(problem->rule).name : "", c.rule);
  try {
    check_grammar(g);
    FAIL() << "check_grammar did not throw";
  } catch (const GrammarError& e) {
    EXPECT_EQ(e.message(), c.message);
    EXPECT_EQ(e.location(), "");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GrammarChecks,
    testing::Values(
        CheckCase{"valid", [](Grammar& g) { g.set_root(define(g, "root", g.literal("a"))); }, "", ""},
        CheckCase{"no_root", [](Grammar& g) { define(g, "a", g.literal("a")); }, "the grammar has no root rule", ""},
        CheckCase{"root_not_defined", [](Grammar& g) { g.set_root(g.declare_rule("start")); },
                  "the root rule 'start' is not defined", "start"},
        CheckCase{"undefined_reference",
                  [](Grammar& g) {
                    const RuleId x = g.declare_rule("x");
                    g.set_root(define(g, "root", g.sequence({g.literal("a"), g.rule_ref(x)})));
                  },
                  "undefined rule 'x'", "x"},
        CheckCase{"undefined_but_unreferenced_is_fine",
                  [](Grammar& g) {
                    g.declare_rule("x");
                    g.set_root(define(g, "root", g.literal("a")));
                  },
                  "", ""},
        CheckCase{"right_recursion_is_fine",
                  [](Grammar& g) {
                    const RuleId r = g.declare_rule("root");
                    g.define_rule(r, g.choice({g.sequence({g.literal("a"), g.rule_ref(r)}), g.empty()}));
                    g.set_root(r);
                  },
                  "", ""},
        CheckCase{"direct_left_recursion",
                  [](Grammar& g) {
                    const RuleId r = g.declare_rule("root");
                    g.define_rule(r, g.choice({g.sequence({g.rule_ref(r), g.literal("a")}), g.literal("b")}));
                    g.set_root(r);
                  },
                  "rule 'root' is left-recursive (root -> root)" + kLeftRecursionAdvice, "root"},
        CheckCase{"indirect_left_recursion",
                  [](Grammar& g) {
                    const RuleId root = g.declare_rule("root");
                    const RuleId a = g.declare_rule("a");
                    const RuleId b = g.declare_rule("b");
                    g.define_rule(root, g.sequence({g.literal("x"), g.rule_ref(a)}));
                    g.define_rule(a, g.choice({g.sequence({g.rule_ref(b), g.literal("y")}), g.literal("z")}));
                    g.define_rule(b, g.sequence({g.literal(""), g.rule_ref(a), g.literal("w")}));
                    g.set_root(root);
                  },
                  "rule 'a' is left-recursive (a -> b -> a)" + kLeftRecursionAdvice, "a"},
        CheckCase{"left_recursion_through_nullable_rule_and_repeat",
                  [](Grammar& g) {
                    const RuleId root = g.declare_rule("root");
                    const RuleId e = define(g, "e", g.choice({g.literal("q"), g.empty()}));
                    g.define_rule(root, g.choice({g.sequence({g.rule_ref(e), g.star(g.literal("s")),
                                                              g.repeat(g.literal("t"), 0, 3), g.rule_ref(root)}),
                                                  g.literal("b")}));
                    g.set_root(root);
                  },
                  "rule 'root' is left-recursive (root -> root)" + kLeftRecursionAdvice, "root"},
        CheckCase{"non_nullable_prefix_stops_left_recursion",
                  [](Grammar& g) {
                    const RuleId root = g.declare_rule("root");
                    const RuleId e = define(g, "e", g.choice({g.literal("q"), g.plus(g.literal("p"))}));
                    g.define_rule(root, g.choice({g.sequence({g.repeat(g.rule_ref(e), 1, 2), g.rule_ref(root)}),
                                                  g.literal("b")}));
                    g.set_root(root);
                  },
                  "", ""},
        CheckCase{"left_recursion_reported_before_empty_language",
                  [](Grammar& g) {
                    const RuleId r = g.declare_rule("root");
                    g.define_rule(r, g.rule_ref(r));
                    g.set_root(r);
                  },
                  "rule 'root' is left-recursive (root -> root)" + kLeftRecursionAdvice, "root"},
        CheckCase{"empty_byte_class", [](Grammar& g) { g.set_root(define(g, "root", g.byte_class({}))); },
                  "rule 'root' cannot derive any finite string (its language is empty)", "root"},
        CheckCase{"surrogate_only_char_class",
                  [](Grammar& g) {
                    g.set_root(define(g, "root", g.char_class({{0xD800, 0xDFFF}})));
                  },
                  "rule 'root' cannot derive any finite string (its language is empty)", "root"},
        CheckCase{"empty_language_reports_the_cause_not_the_victim",
                  [](Grammar& g) {
                    const RuleId root = g.declare_rule("root");
                    const RuleId a = g.declare_rule("a");
                    const RuleId b = g.declare_rule("b");
                    g.define_rule(root, g.choice({g.rule_ref(a), g.sequence({g.literal("x"), g.rule_ref(a)})}));
                    g.define_rule(a, g.sequence({g.literal("y"), g.rule_ref(b)}));
                    g.define_rule(b, g.sequence({g.literal("z"), g.rule_ref(a)}));
                    g.set_root(root);
                  },
                  "rule 'a' cannot derive any finite string (its language is empty)", "a"},
        CheckCase{"repeat_with_min_zero_of_empty_language_is_fine_but_the_rule_is_not",
                  [](Grammar& g) {
                    const RuleId never = g.declare_rule("never");
                    g.define_rule(never, g.sequence({g.literal("a"), g.rule_ref(never)}));
                    g.set_root(define(g, "root", g.star(g.rule_ref(never))));
                  },
                  "rule 'never' cannot derive any finite string (its language is empty)", "never"}),
    [](const testing::TestParamInfo<CheckCase>& info) { return info.param.name; });

TEST(GrammarAnalyses, NullableAndProductivePerExpression) {
  Grammar g;
  const RuleId loop = g.declare_rule("loop");
  const ExprId empty = g.empty();                  // nullable, productive
  const ExprId lit = g.literal("a");               // productive
  const ExprId none = g.char_class({});            // neither
  const ExprId star = g.star(none);                // nullable, productive
  const ExprId plus = g.plus(none);                // neither
  const ExprId ref = g.rule_ref(loop);             // neither (loop is empty)
  const ExprId seq = g.sequence({lit, star});      // productive
  const ExprId alt = g.choice({ref, empty});       // nullable, productive
  const ExprId seq_none = g.sequence({lit, ref});  // neither
  g.define_rule(loop, seq_none);
  g.set_root(define(g, "root", g.choice({seq, alt, plus})));
  const std::vector<bool> nullable = nullable_exprs(g);
  const std::vector<bool> productive = productive_exprs(g);
  const std::vector<std::pair<ExprId, std::pair<bool, bool>>> expected = {
      {empty, {true, true}}, {lit, {false, true}},   {none, {false, false}},
      {star, {true, true}},  {plus, {false, false}}, {ref, {false, false}},
      {seq, {false, true}},  {alt, {true, true}},    {seq_none, {false, false}}};
  for (const auto& [e, want] : expected) {
    EXPECT_EQ(nullable[static_cast<size_t>(e)], want.first) << "expr " << e;
    EXPECT_EQ(productive[static_cast<size_t>(e)], want.second) << "expr " << e;
  }
}

// 200000 rules chained r0 -> r1 -> ... : the checks must not recurse per rule.
TEST(GrammarChecksScale, LongRuleChains) {
  constexpr int kRules = 200000;
  Grammar right;
  std::vector<RuleId> rules;
  for (int i = 0; i < kRules; ++i) rules.push_back(right.declare_rule("r" + std::to_string(i)));
  for (int i = 0; i + 1 < kRules; ++i) {
    right.define_rule(rules[i], right.sequence({right.literal("a"), right.rule_ref(rules[i + 1])}));
  }
  right.define_rule(rules.back(), right.literal("b"));
  right.set_root(rules[0]);
  EXPECT_FALSE(find_grammar_problem(right).has_value());

  // The same chain at the left, closed into a cycle: one left recursion through all rules.
  Grammar left;
  rules.clear();
  for (int i = 0; i < kRules; ++i) rules.push_back(left.declare_rule("r" + std::to_string(i)));
  for (int i = 0; i < kRules; ++i) {
    left.define_rule(rules[i], left.choice({left.sequence({left.rule_ref(rules[(i + 1) % kRules]), left.literal("a")}),
                                            left.literal("b")}));
  }
  left.set_root(rules[0]);
  const std::optional<GrammarProblem> problem = find_grammar_problem(left);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->rule, rules[0]);
  EXPECT_EQ(problem->message.substr(0, 50), "rule 'r0' is left-recursive (r0 -> r1 -> r2 -> r3 ");
}

}  // namespace
}  // namespace stencil::grammar
