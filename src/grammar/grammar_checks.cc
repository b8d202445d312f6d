// Semantic checks on the grammar IR: root, undefined rules, left recursion, empty languages.
//
// Nullability and productivity are least fixpoints over the expression DAG and the rule
// references, computed with one worklist (each expression becomes true at most once, so the
// whole pass is linear in the size of the IR). Left recursion is a cycle in the "can start
// with" graph between rules: rule A has an edge to B when a reference to B can be reached in
// A's body after only nullable material. Cycles are found with an iterative depth-first search.
#include "grammar/grammar_checks.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

bool valid_rule(const Grammar& g, RuleId r) { return r >= 0 && r < g.rule_count(); }

// True when a code point class has at least one code point outside the surrogates (which never match).
bool char_class_matches_something(const std::vector<Range>& ranges) {
  for (const Range& r : ranges) {
    if (r.lo > kMaxCodepoint) continue;
    if (r.lo < 0xD800 || r.hi > 0xDFFF) return true;
  }
  return false;
}

enum class Property { kNullable, kProductive };

// A compact adjacency list (CSR): the neighbours of node i are targets[offsets[i] .. offsets[i + 1]).
struct Adjacency {
  std::vector<int32_t> offsets;
  std::vector<int32_t> targets;
  // Builds from (from, to) pairs over `n` nodes.
  Adjacency(size_t n, const std::vector<std::pair<int32_t, int32_t>>& edges)
      : offsets(n + 1, 0), targets(edges.size()) {
    for (const auto& [from, to] : edges) ++offsets[static_cast<size_t>(from) + 1];
    for (size_t i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
    std::vector<int32_t> next(offsets.begin(), offsets.end() - 1);
    for (const auto& [from, to] : edges) targets[static_cast<size_t>(next[static_cast<size_t>(from)]++)] = to;
  }
  template <typename F>
  void for_each(int32_t node, F&& f) const {
    for (int32_t i = offsets[static_cast<size_t>(node)]; i < offsets[static_cast<size_t>(node) + 1]; ++i) {
      f(targets[static_cast<size_t>(i)]);
    }
  }
};

// Least fixpoint of `property` for every expression (see the file comment).
std::vector<bool> fixpoint(const Grammar& g, Property property) {
  const auto n = static_cast<size_t>(g.expr_count());
  std::vector<bool> value(n, false);
  std::vector<int32_t> pending(n, 0);  // children still false, for "all children" nodes
  std::vector<ExprId> work;

  auto mark = [&](ExprId e) {
    if (value[static_cast<size_t>(e)]) return;
    value[static_cast<size_t>(e)] = true;
    work.push_back(e);
  };

  // Edges along which truth propagates: child -> parent expression, and rule body ->
  // the references to that rule (a body expression may be shared by several rules).
  std::vector<std::pair<int32_t, int32_t>> up;
  std::vector<std::pair<int32_t, int32_t>> body_to_refs;
  std::vector<ExprId> body_of(static_cast<size_t>(g.rule_count()), -1);
  for (RuleId r = 0; r < g.rule_count(); ++r) body_of[static_cast<size_t>(r)] = g.rule(r).body;
  for (ExprId e = 0; e < g.expr_count(); ++e) {
    const Expr& x = g.expr(e);
    for (ExprId c : x.children) up.emplace_back(c, e);
    switch (x.kind) {
      case ExprKind::kEmpty:
        mark(e);
        break;
      case ExprKind::kLiteral:
        if (property == Property::kProductive) mark(e);
        break;
      case ExprKind::kCharClass:
        if (property == Property::kProductive && char_class_matches_something(x.ranges)) mark(e);
        break;
      case ExprKind::kByteClass:
        if (property == Property::kProductive && !x.ranges.empty()) mark(e);
        break;
      case ExprKind::kRuleRef:
        if (valid_rule(g, x.rule) && body_of[static_cast<size_t>(x.rule)] >= 0) {
          body_to_refs.emplace_back(body_of[static_cast<size_t>(x.rule)], e);
        }
        break;
      case ExprKind::kSequence:
        pending[static_cast<size_t>(e)] = static_cast<int32_t>(x.children.size());
        if (x.children.empty()) mark(e);
        break;
      case ExprKind::kChoice:
        break;
      case ExprKind::kRepeat:
        if (x.min == 0) {
          mark(e);
        } else {
          pending[static_cast<size_t>(e)] = 1;
        }
        break;
    }
  }
  const Adjacency parents(n, up);
  const Adjacency refs(n, body_to_refs);
  while (!work.empty()) {
    const ExprId e = work.back();
    work.pop_back();
    parents.for_each(e, [&](ExprId p) {
      const Expr& px = g.expr(p);
      if (px.kind == ExprKind::kChoice) {
        mark(p);
      } else if (px.kind == ExprKind::kSequence || (px.kind == ExprKind::kRepeat && px.min > 0)) {
        if (--pending[static_cast<size_t>(p)] == 0) mark(p);
      }
    });
    refs.for_each(e, mark);
  }
  return value;
}

// Rules whose body is `e`'s value: rule r has the property iff its body does.
bool rule_has(const Grammar& g, const std::vector<bool>& expr_value, RuleId r) {
  const ExprId body = g.rule(r).body;
  return body >= 0 && expr_value[static_cast<size_t>(body)];
}

// The expressions reachable from the defined rule bodies.
std::vector<bool> used_exprs(const Grammar& g) {
  std::vector<bool> used(static_cast<size_t>(g.expr_count()), false);
  std::vector<ExprId> stack;
  for (RuleId r = 0; r < g.rule_count(); ++r) {
    if (g.rule(r).body >= 0) stack.push_back(g.rule(r).body);
  }
  while (!stack.empty()) {
    const ExprId e = stack.back();
    stack.pop_back();
    if (used[static_cast<size_t>(e)]) continue;
    used[static_cast<size_t>(e)] = true;
    for (ExprId c : g.expr(e).children) stack.push_back(c);
  }
  return used;
}

std::optional<GrammarProblem> find_undefined(const Grammar& g) {
  const std::vector<bool> used = used_exprs(g);
  RuleId worst = -1;
  for (ExprId e = 0; e < g.expr_count(); ++e) {
    const Expr& x = g.expr(e);
    if (!used[static_cast<size_t>(e)] || x.kind != ExprKind::kRuleRef) continue;
    if (!valid_rule(g, x.rule))
      return GrammarProblem{"reference to rule id " + std::to_string(x.rule) + ", which does not exist", -1};
    if (g.rule(x.rule).body < 0 && (worst < 0 || x.rule < worst)) worst = x.rule;
  }
  if (worst >= 0) return GrammarProblem{"undefined rule '" + g.rule(worst).name + "'", worst};
  return std::nullopt;
}

// For each rule, the rules it can start with (see the file comment).
std::vector<std::vector<RuleId>> left_corner_edges(const Grammar& g, const std::vector<bool>& nullable) {
  std::vector<std::vector<RuleId>> edges(static_cast<size_t>(g.rule_count()));
  std::vector<RuleId> seen_by(static_cast<size_t>(g.expr_count()), -1);
  std::vector<ExprId> stack;
  for (RuleId r = 0; r < g.rule_count(); ++r) {
    if (g.rule(r).body < 0) continue;
    stack.assign(1, g.rule(r).body);
    while (!stack.empty()) {
      const ExprId e = stack.back();
      stack.pop_back();
      if (seen_by[static_cast<size_t>(e)] == r) continue;
      seen_by[static_cast<size_t>(e)] = r;
      const Expr& x = g.expr(e);
      switch (x.kind) {
        case ExprKind::kRuleRef:
          edges[static_cast<size_t>(r)].push_back(x.rule);
          break;
        case ExprKind::kSequence:
          for (ExprId c : x.children) {
            stack.push_back(c);
            if (!nullable[static_cast<size_t>(c)]) break;
          }
          break;
        case ExprKind::kChoice:
          for (ExprId c : x.children) stack.push_back(c);
          break;
        case ExprKind::kRepeat:
          if (x.max != 0) stack.push_back(x.children[0]);
          break;
        default:
          break;
      }
    }
  }
  return edges;
}

std::optional<GrammarProblem> find_left_recursion(const Grammar& g, const std::vector<bool>& nullable) {
  const std::vector<std::vector<RuleId>> edges = left_corner_edges(g, nullable);
  enum : uint8_t { kWhite, kGray, kBlack };
  std::vector<uint8_t> color(static_cast<size_t>(g.rule_count()), kWhite);
  std::vector<std::pair<RuleId, size_t>> stack;  // (rule, next edge to follow); the gray path
  std::vector<RuleId> starts;
  if (valid_rule(g, g.root())) starts.push_back(g.root());
  for (RuleId r = 0; r < g.rule_count(); ++r) starts.push_back(r);
  for (RuleId start : starts) {
    if (color[static_cast<size_t>(start)] != kWhite) continue;
    color[static_cast<size_t>(start)] = kGray;
    stack.emplace_back(start, 0);
    while (!stack.empty()) {
      auto& [r, next] = stack.back();
      const std::vector<RuleId>& out = edges[static_cast<size_t>(r)];
      if (next == out.size()) {
        color[static_cast<size_t>(r)] = kBlack;
        stack.pop_back();
        continue;
      }
      const RuleId to = out[next++];
      if (color[static_cast<size_t>(to)] == kWhite) {
        color[static_cast<size_t>(to)] = kGray;
        stack.emplace_back(to, 0);
      } else if (color[static_cast<size_t>(to)] == kGray) {
        // The cycle is the part of the gray path from `to` to the top, then back to `to`.
        size_t i = 0;
        while (stack[i].first != to) ++i;
        std::string path;
        for (; i < stack.size(); ++i) path += g.rule(stack[i].first).name + " -> ";
        path += g.rule(to).name;
        return GrammarProblem{"rule '" + g.rule(to).name + "' is left-recursive (" + path +
                                  "); the engine parses top-down: rewrite it with repetition, e.g. "
                                  "'list ::= item (\",\" item)*'",
                              to};
      }
    }
  }
  return std::nullopt;
}

// The rule referenced first in `r`'s body (in text order) whose language is empty, or -1.
RuleId first_empty_reference(const Grammar& g, const std::vector<bool>& productive, RuleId r) {
  std::vector<ExprId> stack{g.rule(r).body};
  std::vector<bool> seen(static_cast<size_t>(g.expr_count()), false);
  while (!stack.empty()) {
    const ExprId e = stack.back();
    stack.pop_back();
    if (seen[static_cast<size_t>(e)]) continue;
    seen[static_cast<size_t>(e)] = true;
    const Expr& x = g.expr(e);
    if (x.kind == ExprKind::kRuleRef && !rule_has(g, productive, x.rule)) return x.rule;
    for (size_t i = x.children.size(); i-- > 0;) stack.push_back(x.children[i]);
  }
  return -1;
}

// Empty languages spread to every rule that needs one, so report the cause rather than the
// first victim: from the lowest-id empty rule, follow references to empty rules until a rule
// that is empty by itself (e.g. `[]`) or one already visited (a cycle such as `x ::= "a" x`).
std::optional<GrammarProblem> find_empty_language(const Grammar& g) {
  const std::vector<bool> productive = productive_exprs(g);
  RuleId r = 0;
  while (r < g.rule_count() && (g.rule(r).body < 0 || rule_has(g, productive, r))) ++r;
  if (r == g.rule_count()) return std::nullopt;
  std::vector<bool> visited(static_cast<size_t>(g.rule_count()), false);
  while (true) {
    visited[static_cast<size_t>(r)] = true;
    const RuleId next = first_empty_reference(g, productive, r);
    if (next < 0 || visited[static_cast<size_t>(next)]) {
      const RuleId culprit = next < 0 ? r : next;
      return GrammarProblem{
          "rule '" + g.rule(culprit).name + "' cannot derive any finite string (its language is empty)", culprit};
    }
    r = next;
  }
}

}  // namespace

std::vector<bool> nullable_exprs(const Grammar& grammar) { return fixpoint(grammar, Property::kNullable); }

std::vector<bool> productive_exprs(const Grammar& grammar) { return fixpoint(grammar, Property::kProductive); }

std::optional<GrammarProblem> find_grammar_problem(const Grammar& g) {
  if (!valid_rule(g, g.root())) return GrammarProblem{"the grammar has no root rule", -1};
  if (g.rule(g.root()).body < 0) {
    return GrammarProblem{"the root rule '" + g.rule(g.root()).name + "' is not defined", g.root()};
  }
  if (auto problem = find_undefined(g)) return problem;
  if (auto problem = find_left_recursion(g, nullable_exprs(g))) return problem;
  if (auto problem = find_empty_language(g)) return problem;
  return std::nullopt;
}

void check_grammar(const Grammar& grammar) {
  if (auto problem = find_grammar_problem(grammar)) throw GrammarError(problem->message);
}

}  // namespace stencil::grammar
