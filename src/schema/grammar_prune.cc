// Productive/reachable pruning (see grammar_prune.h).
//
// Productivity is the usual least fixpoint: a rule is productive once its body can
// derive a string using only rules already known productive. The copy then walks
// from the root and rebuilds only productive pieces (a choice loses its dead
// alternatives, a Repeat of a dead child with min 0 becomes empty).
#include "schema/grammar_prune.h"

#include <unordered_map>
#include <vector>

namespace stencil::schema {

using grammar::Expr;
using grammar::ExprId;
using grammar::ExprKind;
using grammar::Grammar;
using grammar::RuleId;

namespace {

class Pruner {
 public:
  explicit Pruner(const Grammar& g) : g_(g), productive_rule_(static_cast<size_t>(g.rule_count()), false) {}

  std::optional<Grammar> run() {
    bool changed = true;
    while (changed) {
      changed = false;
      memo_.assign(static_cast<size_t>(g_.expr_count()), -1);
      for (RuleId r = 0; r < g_.rule_count(); ++r) {
        if (productive_rule_[static_cast<size_t>(r)] || g_.rule(r).body < 0) continue;
        if (productive(g_.rule(r).body)) {
          productive_rule_[static_cast<size_t>(r)] = true;
          changed = true;
        }
      }
    }
    memo_.assign(static_cast<size_t>(g_.expr_count()), -1);
    if (g_.root() < 0 || !productive_rule_[static_cast<size_t>(g_.root())]) return std::nullopt;
    RuleId root = map_rule(g_.root());
    while (!pending_.empty()) {
      RuleId old = pending_.back();
      pending_.pop_back();
      out_.define_rule(rule_map_[old], *copy(g_.rule(old).body));
    }
    out_.set_root(root);
    return std::move(out_);
  }

 private:
  bool productive(ExprId id) {
    int8_t& m = memo_[static_cast<size_t>(id)];
    if (m >= 0) return m == 1;
    const Expr& e = g_.expr(id);
    bool p = false;
    switch (e.kind) {
      case ExprKind::kEmpty:
      case ExprKind::kLiteral: p = true; break;
      case ExprKind::kCharClass:
      case ExprKind::kByteClass: p = !e.ranges.empty(); break;
      case ExprKind::kRuleRef: p = e.rule >= 0 && e.rule < g_.rule_count() && productive_rule_[static_cast<size_t>(e.rule)]; break;
      case ExprKind::kSequence:
        p = true;
        for (ExprId c : e.children) p = p && productive(c);
        break;
      case ExprKind::kChoice:
        for (ExprId c : e.children) p = productive(c) || p;
        break;
      case ExprKind::kRepeat: p = e.min == 0 || productive(e.children[0]); break;
    }
    m = p ? 1 : 0;
    return p;
  }

  RuleId map_rule(RuleId old) {
    if (auto it = rule_map_.find(old); it != rule_map_.end()) return it->second;
    RuleId r = out_.declare_rule(g_.rule(old).name);
    rule_map_[old] = r;
    pending_.push_back(old);
    return r;
  }

  // The copy of a productive expression (nullopt for a dead one).
  std::optional<ExprId> copy(ExprId id) {
    if (!productive(id)) return std::nullopt;
    if (auto it = copied_.find(id); it != copied_.end()) return it->second;
    const Expr e = g_.expr(id);
    ExprId out = -1;
    switch (e.kind) {
      case ExprKind::kEmpty: out = out_.empty(); break;
      case ExprKind::kLiteral: out = out_.literal(e.bytes); break;
      case ExprKind::kCharClass: out = out_.char_class(e.ranges); break;
      case ExprKind::kByteClass: out = out_.byte_class(e.ranges); break;
      case ExprKind::kRuleRef: out = out_.rule_ref(map_rule(e.rule)); break;
      case ExprKind::kSequence: {
        std::vector<ExprId> cs;
        for (ExprId c : e.children) cs.push_back(*copy(c));
        out = out_.sequence(cs);
        break;
      }
      case ExprKind::kChoice: {
        std::vector<ExprId> cs;
        for (ExprId c : e.children) {
          if (auto x = copy(c)) cs.push_back(*x);
        }
        out = out_.choice(cs);
        break;
      }
      case ExprKind::kRepeat: {
        auto c = copy(e.children[0]);
        out = c ? out_.repeat(*c, e.min, e.max) : out_.empty();
        break;
      }
    }
    copied_[id] = out;
    return out;
  }

  const Grammar& g_;
  std::vector<bool> productive_rule_;
  std::vector<int8_t> memo_;  // per expr: -1 unknown, 0 dead, 1 productive (this pass)
  Grammar out_;
  std::unordered_map<RuleId, RuleId> rule_map_;
  std::unordered_map<ExprId, ExprId> copied_;
  std::vector<RuleId> pending_;
};

}  // namespace

std::optional<Grammar> prune_grammar(const Grammar& g) { return Pruner(g).run(); }

}  // namespace stencil::schema
