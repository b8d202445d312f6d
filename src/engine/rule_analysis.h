// Which rules of a grammar are recursive (in a cycle of the call graph), a size
// estimate per rule, and from those which calls the automaton builder inlines.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/utf8_ranges.h"
#include "grammar/grammar.h"
#include "stencil/errors.h"
#include "support/strongly_connected.h"

namespace stencil::engine {

// Nesting of expressions and inlined rules expanded by the recursive walks of the builder.
inline constexpr int32_t kMaxExpressionDepth = 2000;

// Non-recursive rules estimated at or under this many NFA states are inlined at every call
// site, as long as all the copies together stay under kInlineCopiesStates: a rule called from
// thousands of places (the whitespace between JSON tokens, ~70 states, in a large schema)
// inlined everywhere would be most of the automaton, while a call costs the mask cache one
// lazily refined entry per parent (mask_cache.h).
inline constexpr int64_t kInlineAlwaysStates = 256;
inline constexpr int64_t kInlineCopiesStates = 8192;
// Recursive rules are inlined (see decide_recursive_inlining) up to this size.
inline constexpr int64_t kInlineRecursiveStates = 256;
inline constexpr int64_t kEstimateCap = int64_t{1} << 40;

inline int64_t capped_add(int64_t a, int64_t b) { return std::min(kEstimateCap, a + b); }
inline int64_t capped_mul(int64_t a, int64_t b) { return b != 0 && a > kEstimateCap / b ? kEstimateCap : a * b; }

class RuleAnalysis {
  using Expr = grammar::Expr;
  using ExprId = grammar::ExprId;
  using ExprKind = grammar::ExprKind;
  using Grammar = grammar::Grammar;

 public:
  explicit RuleAnalysis(const Grammar& g) : g_(g), n_(g.rule_count()) {
    for (int32_t r = 0; r < n_; ++r) {
      if (g.rule(r).body < 0) throw GrammarError("rule '" + g.rule(r).name + "' is used but never defined");
    }
    callees_.resize(n_);
    call_count_.assign(n_, 0);
    // Expressions are shared (a DAG: e.g. the tails of an object's optional members): each walk
    // visits an expression once, or the walks would be exponential in the sharing.
    visited_.assign(static_cast<size_t>(g.expr_count()), -1);
    for (int32_t r = 0; r < n_; ++r) collect_callees(g.rule(r).body, callees_[r], r, 0);
    find_recursive();
    size_.assign(n_, -1);
    expr_size_.assign(static_cast<size_t>(g.expr_count()), -1);
    decide_recursive_inlining();
  }

  bool recursive(int32_t r) const { return recursive_[r]; }
  int32_t call_count(int32_t r) const { return call_count_[r]; }

  // Estimated NFA states of a rule's body with inlinable calls expanded.
  // Shared subexpressions count once: the NFA builder emits a shared tail once too.
  int64_t rule_size(int32_t r, int depth) {
    if (size_[r] >= 0) return size_[r];
    size_[r] = 1;  // guards against re-entry (inlined rules are acyclic, so only a non-inlined call gets here)
    size_[r] = expr_size(g_.rule(r).body, depth + 1);
    return size_[r];
  }

  bool inline_call(int32_t r, int32_t root) {
    if (r == root) return false;
    if (recursive_[r]) return inline_recursive_[r];
    if (call_count_[r] <= 1) return true;
    const int64_t size = rule_size(r, 0);
    return size <= kInlineAlwaysStates && size * call_count_[r] <= kInlineCopiesStates;
  }

  int64_t expr_size(ExprId id, int depth) {
    int64_t& memo = expr_size_[static_cast<size_t>(id)];
    if (memo < 0) memo = expr_size_uncached(id, depth);
    return memo;
  }

  int64_t expr_size_uncached(ExprId id, int depth) {
    if (depth > kMaxExpressionDepth) throw LimitError("grammar nesting deeper than kMaxExpressionDepth (2000)");
    const Expr& e = g_.expr(id);
    switch (e.kind) {
      case ExprKind::kEmpty: return 1;
      case ExprKind::kLiteral: return static_cast<int64_t>(e.bytes.size()) + 1;
      case ExprKind::kByteClass: return 2;
      case ExprKind::kCharClass: {
        int64_t total = 1;
        std::vector<Utf8Sequence> seqs;
        for (const auto& r : e.ranges) utf8_sequences(r.lo, r.hi, seqs);
        for (const auto& s : seqs) total += static_cast<int64_t>(s.size());
        return total;
      }
      case ExprKind::kRuleRef: return inline_call(e.rule, g_.root()) ? rule_size(e.rule, depth + 1) : 2;
      case ExprKind::kSequence:
      case ExprKind::kChoice: {
        int64_t total = 1;
        for (ExprId c : e.children) total = capped_add(total, expr_size(c, depth + 1));
        return total;
      }
      case ExprKind::kRepeat: {
        const int64_t child = expr_size(e.children[0], depth + 1);
        const int64_t copies = e.max == grammar::kUnbounded ? std::max(e.min, 1) : e.max;
        return capped_add(capped_mul(child + 2, copies), 2);
      }
    }
    return 1;
  }

 private:
  // Each expression is walked once per rule, but a reference is counted once per place it is used
  // (per edge of the DAG, and for the body itself): a rule referenced from two places is emitted
  // twice if inlined, even when the two places share one reference expression.
  void collect_callees(ExprId id, std::vector<int32_t>& out, int32_t rule, int depth) {
    if (depth == 0) count_reference(id, out);
    if (depth > kMaxExpressionDepth) throw LimitError("grammar nesting deeper than kMaxExpressionDepth (2000)");
    if (visited_[static_cast<size_t>(id)] == rule) return;
    visited_[static_cast<size_t>(id)] = rule;
    for (ExprId c : g_.expr(id).children) {
      count_reference(c, out);
      collect_callees(c, out, rule, depth + 1);
    }
  }
  void count_reference(ExprId id, std::vector<int32_t>& out) {
    const Expr& e = g_.expr(id);
    if (e.kind != ExprKind::kRuleRef) return;
    out.push_back(e.rule);
    ++call_count_[e.rule];
  }

  // Recursive rules can be inlined too, as long as some rule on every cycle
  // stays a real call (otherwise the expansion would never end). Small ones are
  // picked greedily, smallest first, while the inlined ones stay acyclic among
  // themselves. In JSON this inlines `value` and `member` into `object` and
  // `array`, so a string value ends inside the rule that reads the `,` or `}`
  // after it, and the mask cache decides those tokens at compile time.
  void decide_recursive_inlining() {
    inline_recursive_.assign(n_, false);
    std::vector<std::pair<int64_t, int32_t>> candidates;
    for (int32_t r = 0; r < n_; ++r) {
      if (recursive_[r] && r != g_.root()) candidates.emplace_back(rule_size(r, 0), r);
    }
    std::sort(candidates.begin(), candidates.end());
    for (const auto& [size, r] : candidates) {
      if (size > kInlineRecursiveStates) break;
      inline_recursive_[r] = true;
      if (reaches_itself_through_inlined(r)) inline_recursive_[r] = false;
    }
    size_.assign(n_, -1);  // sizes change with the decisions
    expr_size_.assign(expr_size_.size(), -1);
  }

  bool reaches_itself_through_inlined(int32_t start) const {
    std::vector<int32_t> stack(callees_[start].begin(), callees_[start].end());
    std::vector<bool> seen(n_, false);
    while (!stack.empty()) {
      const int32_t r = stack.back();
      stack.pop_back();
      if (r == start) return true;
      if (seen[r] || !recursive_[r] || !inline_recursive_[r]) continue;
      seen[r] = true;
      stack.insert(stack.end(), callees_[r].begin(), callees_[r].end());
    }
    return false;
  }

  // A rule is recursive when it calls itself or sits in a cycle of calls.
  void find_recursive() {
    recursive_.assign(n_, false);
    std::vector<int32_t> all(static_cast<size_t>(n_));
    for (int32_t r = 0; r < n_; ++r) all[static_cast<size_t>(r)] = r;
    support::strongly_connected_components(
        n_, all, [&](int32_t r) -> const std::vector<int32_t>& { return callees_[r]; },
        [&](const std::vector<int32_t>& component) {
          if (component.size() > 1) {
            for (int32_t c : component) recursive_[c] = true;
          }
        });
    for (int32_t r = 0; r < n_; ++r) {
      for (int32_t c : callees_[r]) {
        if (c == r) recursive_[r] = true;
      }
    }
  }

  const Grammar& g_;
  int32_t n_;
  std::vector<std::vector<int32_t>> callees_;
  std::vector<int32_t> call_count_;
  std::vector<bool> recursive_;
  std::vector<bool> inline_recursive_;  // recursive rules expanded at their call sites
  std::vector<int64_t> size_;
  std::vector<int64_t> expr_size_;  // per expression, -1 until estimated
  std::vector<int32_t> visited_;    // per expression: the rule whose callee walk last visited it
};

}  // namespace stencil::engine
