// Fitting a `pattern`'s matches into minLength/maxLength (see pattern_length.h).
#include "schema/pattern_length.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "schema/schema_node.h"
#include "schema/string_grammar.h"
#include "stencil/errors.h"

namespace stencil::schema {
namespace {

using grammar::ExprId;
using grammar::Grammar;

class PatternLengths {
 public:
  PatternLengths(Grammar& g, bool portable_classes) : g_(g), portable_(portable_classes) {}

  // `pattern` with minLength/maxLength, for anchored patterns that are a sequence of fixed-length pieces
  // and at most one repeated character class (`^[A-Z]{2}[0-9]+$`): the length bounds move into that
  // repeat's bounds. `handled` false: not of that shape. body nullopt: no allowed length; body -1: the
  // lengths are implied by the pattern (use the plain pattern).
  LengthBoundedPattern bounded_pattern(const std::string& pattern, int64_t min_len, int64_t max_len) {
    LengthBoundedPattern out;
    Grammar rg;
    try {
      rg = grammar::parse_regex(pattern, portable_);
    } catch (const Error&) {
      return out;
    }
    ExprId e = rg.rule(rg.root()).body;
    for (int hops = 0; hops < 8 && e >= 0 && rg.expr(e).kind == grammar::ExprKind::kRuleRef; ++hops) e = rg.rule(rg.expr(e).rule).body;
    if (e < 0) return out;
    std::vector<ExprId> parts = rg.expr(e).kind == grammar::ExprKind::kSequence ? rg.expr(e).children : std::vector<ExprId>{e};
    int64_t fixed = 0;
    int variable = -1;
    auto code_points = [](const std::string& bytes) {
      int64_t c = 0;
      for (unsigned char ch : bytes) c += (ch & 0xC0) != 0x80;
      return c;
    };
    for (size_t i = 0; i < parts.size(); ++i) {
      const grammar::Expr& x = rg.expr(parts[i]);
      if (x.kind == grammar::ExprKind::kLiteral) {
        fixed += code_points(x.bytes);
      } else if (x.kind == grammar::ExprKind::kCharClass) {
        fixed += 1;
      } else if (x.kind == grammar::ExprKind::kRepeat) {
        const grammar::Expr& c = rg.expr(x.children[0]);
        if (c.kind != grammar::ExprKind::kCharClass && c.kind != grammar::ExprKind::kLiteral) return out;
        const int64_t unit = c.kind == grammar::ExprKind::kLiteral ? code_points(c.bytes) : 1;
        if (x.min == x.max) {
          fixed += unit * x.min;
        } else if (variable < 0 && unit == 1) {
          variable = static_cast<int>(i);
        } else {
          return out;
        }
      } else {
        return out;
      }
    }
    out.handled = true;
    int64_t lo = 0, hi = 0;
    if (variable >= 0) {
      const grammar::Expr& v = rg.expr(parts[static_cast<size_t>(variable)]);
      lo = std::max<int64_t>(v.min, min_len - fixed);
      hi = v.max == grammar::kUnbounded ? (max_len == kNoMax ? -1 : max_len - fixed)
                                        : (max_len == kNoMax ? v.max : std::min<int64_t>(v.max, max_len - fixed));
      if (hi >= 0 && lo > hi) return out;  // body stays nullopt: unsatisfiable
    } else {
      if (fixed < min_len || (max_len != kNoMax && fixed > max_len)) return out;
      out.body = -1;
      return out;
    }
    // Rebuild in this grammar with JSON string encoding (canonical escapes).
    std::vector<ExprId> seq;
    for (size_t i = 0; i < parts.size(); ++i) {
      const grammar::Expr& x = rg.expr(parts[i]);
      if (static_cast<int>(i) == variable) {
        seq.push_back(g_.repeat(json_class(rg.expr(x.children[0]).ranges), static_cast<int32_t>(std::min<int64_t>(lo, INT32_MAX)),
                                hi < 0 ? grammar::kUnbounded : static_cast<int32_t>(std::min<int64_t>(hi, INT32_MAX))));
      } else if (x.kind == grammar::ExprKind::kRepeat) {
        const grammar::Expr& c = rg.expr(x.children[0]);
        ExprId unit = c.kind == grammar::ExprKind::kLiteral ? json_literal(c.bytes) : json_class(c.ranges);
        seq.push_back(g_.repeat(unit, x.min, x.max));
      } else if (x.kind == grammar::ExprKind::kLiteral) {
        seq.push_back(json_literal(x.bytes));
      } else {
        seq.push_back(json_class(x.ranges));
      }
    }
    out.body = g_.sequence(seq);
    return out;
  }

  // Are minLength/maxLength implied by the pattern? Every string that matches contains a full match of
  // the pattern, so it is at least the shortest full match long; it is at most the longest full match
  // long only when the pattern is anchored at both ends (`^...$`, no top-level `|`).
  bool lengths_implied(const std::string& pattern, int64_t min_len, int64_t max_len) {
    Grammar rg;
    try {
      rg = grammar::parse_regex(pattern, portable_);
    } catch (const Error&) {
      return false;
    }
    const auto range = code_point_lengths(rg, rg.rule(rg.root()).body, 0);
    if (!range) return false;
    if (range->first < min_len) return false;
    if (max_len == kNoMax) return true;
    return anchored_both_ends(pattern) && range->second != kNoMax && range->second <= max_len;
  }

  // Shortest and longest full match in code points (second kNoMax: unbounded); nullopt if unknown.
  static std::optional<std::pair<int64_t, int64_t>> code_point_lengths(const Grammar& rg, ExprId id, int depth) {
    if (depth > 200) return std::nullopt;
    const grammar::Expr& x = rg.expr(id);
    auto cps = [](const std::string& bytes) {
      int64_t c = 0;
      for (unsigned char ch : bytes) c += (ch & 0xC0) != 0x80;
      return c;
    };
    constexpr int64_t kCap = int64_t{1} << 40;  // lengths beyond this count as unbounded
    auto add = [&](int64_t a, int64_t b) { return a == kNoMax || b == kNoMax || a + b > kCap ? kNoMax : a + b; };
    switch (x.kind) {
      case grammar::ExprKind::kEmpty: return std::make_pair(int64_t{0}, int64_t{0});
      case grammar::ExprKind::kLiteral: return std::make_pair(cps(x.bytes), cps(x.bytes));
      case grammar::ExprKind::kCharClass: return std::make_pair(int64_t{1}, int64_t{1});
      case grammar::ExprKind::kByteClass: return std::nullopt;  // not produced by parse_regex
      case grammar::ExprKind::kRuleRef: return code_point_lengths(rg, rg.rule(x.rule).body, depth + 1);
      case grammar::ExprKind::kSequence: {
        std::pair<int64_t, int64_t> r{0, 0};
        for (ExprId c : x.children) {
          auto cr = code_point_lengths(rg, c, depth + 1);
          if (!cr) return std::nullopt;
          r.first = std::min(kCap, r.first + cr->first);
          r.second = add(r.second, cr->second);
        }
        return r;
      }
      case grammar::ExprKind::kChoice: {
        std::optional<std::pair<int64_t, int64_t>> r;
        for (ExprId c : x.children) {
          auto cr = code_point_lengths(rg, c, depth + 1);
          if (!cr) return std::nullopt;
          if (!r) {
            r = cr;
          } else {
            r->first = std::min(r->first, cr->first);
            r->second = r->second == kNoMax || cr->second == kNoMax ? kNoMax : std::max(r->second, cr->second);
          }
        }
        return r;
      }
      case grammar::ExprKind::kRepeat: {
        auto cr = code_point_lengths(rg, x.children[0], depth + 1);
        if (!cr) return std::nullopt;
        const int64_t lo = std::min(kCap, cr->first * x.min);
        int64_t hi;
        if (x.max == grammar::kUnbounded || cr->second == kNoMax) {
          hi = cr->second == 0 ? 0 : kNoMax;
        } else {
          hi = cr->second > kCap / std::max<int64_t>(1, x.max) ? kNoMax : cr->second * x.max;
        }
        return std::make_pair(lo, hi);
      }
    }
    return std::nullopt;
  }

  // The pattern's full matches of at most `max_len` code points, as JSON string content: every part of
  // the regex gets a share of the length (a sequence splits the slack left by its parts' shortest
  // matches evenly among the parts that vary; a repeat caps its count and its iterations), so every
  // string produced fits and matches. `exact` is cleared where strings that fit are left out (more
  // than one varying part, a capped repeat of varying iterations, an unanchored pattern). nullopt
  // when the regex cannot be parsed or has a piece this does not handle.
  std::optional<ExprId> capped_pattern(const std::string& pattern, int64_t max_len, bool& exact) {
    Grammar rg;
    try {
      rg = grammar::parse_regex(pattern, portable_);
    } catch (const Error&) {
      return std::nullopt;
    }
    if (!anchored_both_ends(pattern)) exact = false;
    bool ok = true;
    int budget_nodes = 4096;  // rebuilt expressions (a share can duplicate a sub-expression)
    auto e = capped(rg, rg.rule(rg.root()).body, max_len, exact, ok, budget_nodes, 0);
    if (!ok) return std::nullopt;
    return e;
  }

  // `id` of `rg` with every match at most `budget` code points; nullopt: no match fits.
  std::optional<ExprId> capped(const Grammar& rg, ExprId id, int64_t budget, bool& exact, bool& ok, int& nodes, int depth) {
    if (!ok) return std::nullopt;
    if (depth > 100 || --nodes < 0) {
      ok = false;
      return std::nullopt;
    }
    const grammar::Expr& x = rg.expr(id);
    const auto len = code_point_lengths(rg, id, 0);
    if (!len) {
      ok = false;
      return std::nullopt;
    }
    if (len->first > budget) return std::nullopt;
    const bool fits = len->second != kNoMax && len->second <= budget;
    switch (x.kind) {
      case grammar::ExprKind::kEmpty: return g_.empty();
      case grammar::ExprKind::kLiteral: return json_literal(x.bytes);
      case grammar::ExprKind::kCharClass: return json_class(x.ranges);
      case grammar::ExprKind::kRuleRef: return capped(rg, rg.rule(x.rule).body, budget, exact, ok, nodes, depth + 1);
      case grammar::ExprKind::kSequence: {
        // Shortest lengths first; the slack goes evenly to the parts that may be longer.
        std::vector<std::pair<int64_t, int64_t>> lens;
        int64_t fixed = 0;
        int varying = 0;
        for (ExprId c : x.children) {
          lens.push_back(*code_point_lengths(rg, c, 0));
          fixed += lens.back().first;
          if (lens.back().second != lens.back().first) ++varying;
        }
        int64_t slack = budget - fixed;
        if (slack < 0) return std::nullopt;
        // Parts whose longest match fits in an even share take only what they need; the rest share again.
        std::vector<int64_t> extra(lens.size(), -1);
        for (bool changed = true; changed && varying > 0;) {
          changed = false;
          const int64_t share = slack / varying;
          for (size_t i = 0; i < lens.size(); ++i) {
            if (extra[i] >= 0 || lens[i].second == lens[i].first) continue;
            if (lens[i].second != kNoMax && lens[i].second - lens[i].first <= share) {
              extra[i] = lens[i].second - lens[i].first;
              slack -= extra[i];
              --varying;
              changed = true;
            }
          }
        }
        const int64_t share = varying > 0 ? slack / varying : 0;
        if (varying > 1) exact = false;
        std::vector<ExprId> parts;
        for (size_t i = 0; i < lens.size(); ++i) {
          const int64_t b = lens[i].first + (lens[i].second == lens[i].first ? 0 : extra[i] >= 0 ? extra[i] : share);
          auto c = capped(rg, x.children[i], b, exact, ok, nodes, depth + 1);
          if (!c) return std::nullopt;
          parts.push_back(*c);
        }
        return g_.sequence(parts);
      }
      case grammar::ExprKind::kChoice: {
        std::vector<ExprId> alts;
        for (ExprId c : x.children) {
          if (auto a = capped(rg, c, budget, exact, ok, nodes, depth + 1)) alts.push_back(*a);
        }
        if (alts.empty()) return std::nullopt;
        return g_.choice(alts);
      }
      case grammar::ExprKind::kRepeat: {
        const auto child = *code_point_lengths(rg, x.children[0], 0);
        if (child.second == 0) return g_.empty();
        if (fits) {
          auto c = capped(rg, x.children[0], child.second, exact, ok, nodes, depth + 1);
          if (!c) return std::nullopt;
          return g_.repeat(*c, x.min, x.max);
        }
        if (child.first == child.second && child.first > 0) {
          // Fixed-length iterations: the count cap is exact.
          const int64_t k = budget / child.first;
          if (k < x.min) return std::nullopt;
          auto c = capped(rg, x.children[0], child.first, exact, ok, nodes, depth + 1);
          if (!c) return std::nullopt;
          const int64_t hi = x.max == grammar::kUnbounded ? k : std::min<int64_t>(x.max, k);
          return g_.repeat(*c, x.min, static_cast<int32_t>(std::min<int64_t>(hi, INT32_MAX)));
        }
        // Varying iterations: k iterations of at most budget / k each (k at least 1 and at least min).
        exact = false;
        const int64_t m = std::max<int64_t>(1, child.first);
        int64_t k = std::min<int64_t>(budget / m, x.max == grammar::kUnbounded ? INT64_MAX : x.max);
        if (k < std::max<int64_t>(x.min, 1)) {
          if (x.min == 0) return g_.empty();
          return std::nullopt;
        }
        // Fewer, longer iterations where the count is large: about sqrt(budget) of each.
        int64_t root = 1;
        while ((root + 1) * (root + 1) <= budget) ++root;
        k = std::max<int64_t>(x.min, std::min(k, root));
        const int64_t each = budget / k;
        if (each < child.first) return std::nullopt;
        auto c = capped(rg, x.children[0], each, exact, ok, nodes, depth + 1);
        if (!c) return std::nullopt;
        return g_.repeat(*c, x.min, static_cast<int32_t>(std::min<int64_t>(k, INT32_MAX)));
      }
      case grammar::ExprKind::kByteClass: break;
    }
    ok = false;
    return std::nullopt;
  }

  // `^...$` with no `|` outside parentheses and classes (so search semantics are full-match semantics).
  static bool anchored_both_ends(const std::string& p) {
    if (p.size() < 2 || p.front() != '^' || p.back() != '$') return false;
    int depth = 0;
    bool in_class = false;
    size_t i = 1;
    for (; i + 1 < p.size(); ++i) {
      const char c = p[i];
      if (c == '\\') {
        ++i;
        continue;
      }
      if (in_class) {
        if (c == ']') in_class = false;
      } else if (c == '[') {
        in_class = true;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        --depth;
      } else if (c == '|' && depth == 0) {
        return false;
      }
    }
    // The final `$` must not be escaped (`\$` is a literal dollar).
    return i == p.size() - 1 && !in_class && depth == 0;
  }

  // Text inside a JSON string, canonically escaped.
  ExprId json_literal(const std::string& utf8) {
    auto s = canonical_json_string(utf8);
    return s ? g_.literal(s->substr(1, s->size() - 2)) : g_.char_class({});
  }

  // One code point of `ranges`, written as JSON string content (raw, or its canonical escape).
  ExprId json_class(const std::vector<grammar::Range>& ranges) {
    std::vector<grammar::Range> raw;
    std::vector<ExprId> alts;
    for (const grammar::Range& r : ranges) {
      for (uint32_t cp = r.lo; cp <= std::min<uint32_t>(r.hi, 0x5C); ++cp) {
        if (cp < 0x20 || cp == '"' || cp == '\\') {
          std::string one(1, static_cast<char>(cp));
          alts.push_back(json_literal(one));
        }
      }
      // raw part: r minus controls, " and \ .
      uint32_t lo = std::max<uint32_t>(r.lo, 0x20);
      for (uint32_t cut : {uint32_t{'"'}, uint32_t{'\\'}}) {
        if (lo <= cut && cut <= r.hi) {
          if (lo < cut) raw.push_back({lo, cut - 1});
          lo = cut + 1;
        }
      }
      if (lo <= r.hi) raw.push_back({lo, r.hi});
    }
    if (!raw.empty()) alts.push_back(g_.char_class(raw));
    if (alts.empty()) return g_.char_class({});
    return g_.choice(alts);
  }

 private:
  Grammar& g_;
  const bool portable_;  // grammar::RegexOptions::portable_classes
};

}  // namespace

LengthBoundedPattern length_bounded_pattern(Grammar& g, const std::string& pattern, int64_t min_len, int64_t max_len,
                                            bool portable_classes) {
  PatternLengths p(g, portable_classes);
  LengthBoundedPattern bounded = p.bounded_pattern(pattern, min_len, max_len);
  if (!bounded.handled && p.lengths_implied(pattern, min_len, max_len)) {
    bounded.handled = true;
    bounded.body = -1;  // every string the pattern produces has an allowed length
  }
  if (!bounded.handled && max_len != kNoMax && p.lengths_implied(pattern, min_len, kNoMax)) {
    bool exact = true;
    if (auto capped = p.capped_pattern(pattern, max_len, exact)) {
      bounded.handled = true;
      bounded.body = *capped;
      bounded.exact = exact;
    }
  }
  return bounded;
}

}  // namespace stencil::schema
