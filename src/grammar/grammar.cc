// The Grammar builder: node factories that normalise as they go, and rule naming.
#include "grammar/grammar.h"

#include <algorithm>
#include <string>

#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

// Sorts and merges overlapping or adjacent ranges.
std::vector<Range> normalise(std::vector<Range> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
  std::vector<Range> out;
  for (const Range& r : ranges) {
    if (r.lo > r.hi) continue;
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

Expr make(ExprKind kind) {
  Expr e;
  e.kind = kind;
  return e;
}

}  // namespace

std::vector<Range> complement_ranges(const std::vector<Range>& sorted, uint32_t max_value) {
  std::vector<Range> out;
  uint32_t next = 0;
  for (const Range& r : sorted) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= max_value) out.push_back({next, max_value});
  return out;
}

namespace {

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h;
}

uint64_t structural_hash(const Expr& e) {
  uint64_t h = mix(0, static_cast<uint64_t>(e.kind));
  for (unsigned char c : e.bytes) h = mix(h, c);
  for (const Range& r : e.ranges) h = mix(mix(h, r.lo), r.hi);
  h = mix(h, static_cast<uint32_t>(e.rule));
  for (ExprId c : e.children) h = mix(h, static_cast<uint32_t>(c));
  return mix(mix(h, static_cast<uint32_t>(e.min)), static_cast<uint32_t>(e.max));
}

bool same_structure(const Expr& a, const Expr& b) {
  auto same_ranges = [](const std::vector<Range>& x, const std::vector<Range>& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                      [](const Range& p, const Range& q) { return p.lo == q.lo && p.hi == q.hi; });
  };
  return a.kind == b.kind && a.bytes == b.bytes && same_ranges(a.ranges, b.ranges) && a.rule == b.rule &&
         a.children == b.children && a.min == b.min && a.max == b.max;
}

}  // namespace

ExprId Grammar::add(Expr e) {
  const uint64_t h = structural_hash(e);
  auto [lo, hi] = expr_index_.equal_range(h);
  for (auto it = lo; it != hi; ++it) {
    if (same_structure(exprs_[static_cast<size_t>(it->second)], e)) return it->second;
  }
  exprs_.push_back(std::move(e));
  const auto id = static_cast<ExprId>(exprs_.size() - 1);
  expr_index_.emplace(h, id);
  return id;
}

ExprId Grammar::empty() { return add(make(ExprKind::kEmpty)); }

ExprId Grammar::literal(std::string_view bytes) {
  if (bytes.empty()) return empty();
  Expr e = make(ExprKind::kLiteral);
  e.bytes = std::string(bytes);
  return add(std::move(e));
}

ExprId Grammar::char_class(std::vector<Range> ranges, bool negated) {
  for (Range& r : ranges) r.hi = std::min(r.hi, kMaxCodepoint);
  ranges = normalise(std::move(ranges));
  if (negated) ranges = complement_ranges(ranges, kMaxCodepoint);
  Expr e = make(ExprKind::kCharClass);
  e.ranges = std::move(ranges);
  return add(std::move(e));
}

ExprId Grammar::byte_class(std::vector<Range> ranges, bool negated) {
  for (Range& r : ranges) r.hi = std::min<uint32_t>(r.hi, 0xFF);
  ranges = normalise(std::move(ranges));
  if (negated) ranges = complement_ranges(ranges, 0xFF);
  Expr e = make(ExprKind::kByteClass);
  e.ranges = std::move(ranges);
  return add(std::move(e));
}

ExprId Grammar::rule_ref(RuleId rule) {
  Expr e = make(ExprKind::kRuleRef);
  e.rule = rule;
  return add(std::move(e));
}

ExprId Grammar::sequence(std::vector<ExprId> children) {
  // Flatten nested sequences and drop empties.
  std::vector<ExprId> flat;
  for (ExprId c : children) {
    const Expr& ce = expr(c);
    if (ce.kind == ExprKind::kEmpty) continue;
    if (ce.kind == ExprKind::kSequence) {
      flat.insert(flat.end(), ce.children.begin(), ce.children.end());
    } else {
      flat.push_back(c);
    }
  }
  if (flat.empty()) return empty();
  if (flat.size() == 1) return flat[0];
  Expr e = make(ExprKind::kSequence);
  e.children = std::move(flat);
  return add(std::move(e));
}

ExprId Grammar::choice(std::vector<ExprId> children) {
  std::vector<ExprId> flat;
  for (ExprId c : children) {
    const Expr& ce = expr(c);
    if (ce.kind == ExprKind::kChoice) {
      flat.insert(flat.end(), ce.children.begin(), ce.children.end());
    } else {
      flat.push_back(c);
    }
  }
  if (flat.empty()) throw GrammarError("a choice needs at least one alternative");
  if (flat.size() == 1) return flat[0];
  Expr e = make(ExprKind::kChoice);
  e.children = std::move(flat);
  return add(std::move(e));
}

ExprId Grammar::repeat(ExprId child, int32_t min, int32_t max) {
  if (min < 0 || (max != kUnbounded && max < min)) {
    throw GrammarError("repetition bounds {" + std::to_string(min) + "," + std::to_string(max) + "} are invalid");
  }
  if (max == 0) return empty();
  if (min == 1 && max == 1) return child;
  if (expr(child).kind == ExprKind::kEmpty) return child;
  Expr e = make(ExprKind::kRepeat);
  e.children = {child};
  e.min = min;
  e.max = max;
  return add(std::move(e));
}

RuleId Grammar::declare_rule(std::string_view name) {
  RuleId existing = find_rule(name);
  if (existing >= 0) return existing;
  rules_.push_back(Rule{std::string(name), -1});
  rule_index_.emplace(std::string(name), static_cast<RuleId>(rules_.size() - 1));
  return static_cast<RuleId>(rules_.size() - 1);
}

RuleId Grammar::fresh_rule(std::string_view prefix) {
  std::string name(prefix);
  int32_t& next = fresh_counter_[name];
  while (find_rule(name) >= 0) name = std::string(prefix) + "-" + std::to_string(++next);
  return declare_rule(name);
}

void Grammar::define_rule(RuleId rule, ExprId body) { rules_[static_cast<size_t>(rule)].body = body; }

RuleId Grammar::find_rule(std::string_view name) const {
  auto it = rule_index_.find(std::string(name));
  return it == rule_index_.end() ? -1 : it->second;
}

}  // namespace stencil::grammar
