// Object and array bodies (see containers.h).
//
// Objects: S(j, c) is "the rest of the member list from member j on, c members
// written so far" (c capped where the bounds stop caring). With no count bounds c
// is 0 or 1 (it only decides whether the next member needs a comma), so S(j, 1) is
// a plain sequence of optional ", member" pieces and S(j, 0) a choice of which
// member comes first. With count bounds each S(j, c) with c >= 1 becomes a rule,
// so shared tails are not copied.
#include "schema/containers.h"

#include <algorithm>
#include <map>
#include <string>

#include "stencil/errors.h"

namespace stencil::schema {

using grammar::ExprId;
using grammar::Grammar;
using grammar::kUnbounded;

namespace {

int32_t clamp32(int64_t v) { return static_cast<int32_t>(std::min<int64_t>(v, INT32_MAX)); }
int32_t bound(int64_t v) { return v < 0 ? kUnbounded : clamp32(v); }

}  // namespace

std::optional<ExprId> object_grammar(Grammar& g, JsonLayout& layout, int depth, const std::vector<ObjectMember>& members,
                                     std::optional<ExprId> extra, int64_t mn, int64_t mx, int64_t max_states) {
  const auto k = static_cast<int64_t>(members.size());
  int64_t n_required = 0;
  for (const auto& m : members) n_required += m.required ? 1 : 0;
  if (mx != kNoMax && n_required > mx) return std::nullopt;
  if (!extra && mn > k) return std::nullopt;
  if (!extra && mx != kNoMax && mx >= k) mx = kNoMax;  // the bound cannot bite
  const bool counting = mx != kNoMax || mn > 1;
  const int64_t cap = mx != kNoMax ? mx : std::max<int64_t>(mn, 1);
  if (counting && (k + 1) * (cap + 1) > max_states) {
    throw LimitError("minProperties/maxProperties with " + std::to_string(k) + " properties needs more than max_states (" +
                     std::to_string(max_states) + ") states");
  }
  const ExprId sep = layout.separator(depth);
  std::map<std::pair<int64_t, int64_t>, std::optional<ExprId>> memo;
  std::map<std::pair<int64_t, int64_t>, grammar::RuleId> rules;

  // Extras after the declared members, given c members so far.
  auto extras = [&](int64_t c) -> std::optional<ExprId> {
    const int64_t lo = std::max<int64_t>(0, mn - c);
    const int64_t hi = mx == kNoMax ? -1 : mx - c;
    if (!extra) {
      if (lo > 0 || c == 0) return std::nullopt;  // c == 0: the empty object is handled by the caller
      return g.empty();
    }
    if (hi == 0) return c == 0 ? std::nullopt : std::optional<ExprId>(g.empty());
    const ExprId more = g.sequence({sep, *extra});
    if (c == 0) {
      return g.sequence({*extra, g.repeat(more, bound(std::max<int64_t>(lo, 1) - 1), hi < 0 ? kUnbounded : bound(hi - 1))});
    }
    return g.repeat(more, bound(lo), hi < 0 ? kUnbounded : bound(hi));
  };

  // Iterates j from k down to 0 so every S(j+1, .) exists before S(j, .) needs it.
  auto next_c = [&](int64_t c) { return mx == kNoMax ? std::min(c + 1, cap) : c + 1; };
  for (int64_t j = k; j >= 0; --j) {
    for (int64_t c = std::min<int64_t>(cap, j); c >= 0; --c) {
      std::optional<ExprId> result;
      if (j == k) {
        result = extras(c);
      } else {
        std::vector<ExprId> alts;
        const int64_t c1 = next_c(c);
        if (mx == kNoMax || c1 <= mx) {
          auto it = memo.find({j + 1, c1});
          if (it != memo.end() && it->second) {
            ExprId present = members[static_cast<size_t>(j)].member;
            if (c > 0) present = g.sequence({sep, present});
            alts.push_back(g.sequence({present, *it->second}));
          }
        }
        if (!members[static_cast<size_t>(j)].required) {
          auto it = memo.find({j + 1, c});
          if (it != memo.end() && it->second) alts.push_back(*it->second);
        }
        if (!alts.empty()) result = g.choice(alts);
      }
      // Shared tails become rules: always with counting, and every 32 members otherwise
      // (so flattening sequences never copies more than 32 children at a time).
      if (result && c >= 1 && j < k && (counting || (k - j) % 32 == 0)) {
        grammar::RuleId r = g.fresh_rule("members");
        g.define_rule(r, *result);
        result = g.rule_ref(r);
      }
      memo[{j, c}] = result;
    }
  }
  std::vector<ExprId> alts;
  if (n_required == 0 && mn == 0) alts.push_back(layout.empty('{', '}'));
  if (auto body = memo[{0, 0}]) alts.push_back(g.sequence({layout.open('{', depth), *body, layout.close('}', depth)}));
  if (alts.empty()) return std::nullopt;
  return g.choice(alts);
}

std::optional<ExprId> array_grammar(Grammar& g, JsonLayout& layout, int depth,
                                    const std::vector<std::optional<ExprId>>& prefix, std::optional<ExprId> items,
                                    int64_t mn, int64_t mx) {
  const auto p = static_cast<int64_t>(prefix.size());
  // Where the elements must stop: at the first impossible prefix element, or after the prefix without items.
  int64_t limit = mx == kNoMax ? INT64_MAX : mx;
  for (int64_t i = 0; i < p; ++i) {
    if (!prefix[static_cast<size_t>(i)]) {
      limit = std::min(limit, i);
      break;
    }
  }
  if (!items) limit = std::min(limit, p);
  if (mn > limit) return std::nullopt;
  std::vector<ExprId> alts;
  if (mn == 0) alts.push_back(layout.empty('[', ']'));
  if (limit > 0) {
    const ExprId sep = layout.separator(depth);
    // tail after i elements (1 <= i), built from the back.
    const int64_t last_prefix = std::min(p, limit);
    std::optional<ExprId> tail;  // tail(last_prefix)
    if (items && limit > p) {
      const int64_t from = std::max<int64_t>(p, 1);
      const int64_t lo = std::max<int64_t>(0, mn - from);
      const int32_t hi = limit == INT64_MAX ? kUnbounded : bound(limit - from);
      if (p == 0 && hi != kUnbounded) {
        // A bounded list, split so that each repetition starts with the comma (json_layout.h).
        // (Unbounded lists keep the item (separator item)* shape the automaton builder shares.)
        const ExprId gap = layout.leading_gap();
        const ExprId more = g.repeat(g.sequence({layout.separator_rest(depth), *items, gap}), bound(lo), hi);
        alts.push_back(g.sequence({layout.open('[', depth), *items, gap, more, layout.close_rest(']', depth)}));
        // One rule per distinct list: inside the items of another bounded list the engine then
        // calls it rather than nesting one counted loop in another (automaton_builder.cc: inlined).
        const ExprId list = g.choice(alts);
        const std::string name = "bounded-list-e" + std::to_string(list);
        grammar::RuleId rule = g.find_rule(name);
        if (rule < 0) {
          rule = g.declare_rule(name);
          g.define_rule(rule, list);
        }
        return g.rule_ref(rule);
      }
      tail = g.repeat(g.sequence({sep, *items}), bound(lo), hi);
    } else {
      tail = g.empty();
    }
    ExprId body;
    if (p == 0) {
      body = g.sequence({*items, *tail});
    } else {
      ExprId t = *tail;
      for (int64_t i = last_prefix - 1; i >= 1; --i) {
        // after i elements: element i+1 (prefix[i]) then tail
        ExprId next = g.sequence({sep, *prefix[static_cast<size_t>(i)], t});
        t = i >= mn ? g.optional(next) : next;
      }
      body = g.sequence({*prefix[0], t});
    }
    alts.push_back(g.sequence({layout.open('[', depth), body, layout.close(']', depth)}));
  }
  if (alts.empty()) return std::nullopt;
  return g.choice(alts);
}

}  // namespace stencil::schema
