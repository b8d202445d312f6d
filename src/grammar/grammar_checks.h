// Semantic checks on a grammar IR that every front end can run before compiling:
// a root rule exists, every referenced rule is defined, no rule is left-recursive
// (directly, indirectly, or through a nullable prefix: the engine parses top-down),
// and every defined rule can derive at least one finite string.
//
// These are whole-grammar properties computed with worklists and explicit stacks,
// never recursion over the IR. They do not check anything about sizes or budgets
// (the compiler's limits do that) nor source locations (the IR has none: front ends
// map the offending rule back to their own text, as parse_gbnf does).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "grammar/grammar.h"

namespace stencil::grammar {

// One problem found by find_grammar_problem: the message users see, and the rule it is
// about (-1 when it is not about one rule, e.g. a missing root).
struct GrammarProblem {
  std::string message;
  RuleId rule = -1;
};

// The first problem of the grammar, checked in this order: root, undefined rules,
// left recursion, empty languages (within each, lowest rule id first), or nullopt.
std::optional<GrammarProblem> find_grammar_problem(const Grammar& grammar);

// Throws GrammarError (without a location) with the message of find_grammar_problem.
void check_grammar(const Grammar& grammar);

// For each expression id: can it derive the empty string? Precondition: every
// referenced rule id is in range (undefined rules count as deriving nothing).
std::vector<bool> nullable_exprs(const Grammar& grammar);

// For each expression id: can it derive at least one finite string (is its language non-empty)?
std::vector<bool> productive_exprs(const Grammar& grammar);

}  // namespace stencil::grammar
