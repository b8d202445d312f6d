// Numeric grammars (see number_grammar.h).
//
// Integer ranges: the classic digit-automaton construction. For non-negative
// [a, b] with |a| < |b| digits the range splits into [a, 9..9], all numbers with
// |a|+1 .. |b|-1 digits (one counted repeat), and [10..0, b]. Equal-length ranges
// split at the first differing digit into "a's digit then >= a's tail", "a digit
// strictly between, then anything", "b's digit then <= b's tail". Everything is
// linear in the number of digits, so 10^300 costs no more than it takes to write.
//
// Decimal ranges work on the magnitude: integer part via the integer automaton,
// and the fraction part compared digit by digit (0.F >= 0.f and so on), with the
// sign handled by mirroring. Exponents are not produced when a bound is present
// (every number has an exponent-free spelling, so only spellings are lost).
#include "schema/number_grammar.h"

#include <string>

namespace stencil::schema {
namespace {

using grammar::ExprId;
using grammar::Grammar;
using grammar::kUnbounded;

ExprId digits(Grammar& g, char lo, char hi) { return g.byte_class({{static_cast<uint32_t>(lo), static_cast<uint32_t>(hi)}}); }
ExprId any_digits(Grammar& g, int64_t n) { return g.repeat(digits(g, '0', '9'), static_cast<int32_t>(n), static_cast<int32_t>(n)); }


// Digit strings of length |s| (leading zeros allowed) >= s.
ExprId ge_same_len(Grammar& g, std::string_view s) {
  if (s.empty()) return g.empty();
  if (s.find_first_not_of('0') == std::string_view::npos) return any_digits(g, static_cast<int64_t>(s.size()));
  std::vector<ExprId> alts;
  alts.push_back(g.sequence({g.literal(s.substr(0, 1)), ge_same_len(g, s.substr(1))}));
  if (s[0] < '9') alts.push_back(g.sequence({digits(g, static_cast<char>(s[0] + 1), '9'), any_digits(g, static_cast<int64_t>(s.size()) - 1)}));
  return g.choice(alts);
}

// Digit strings of length |s| <= s.
ExprId le_same_len(Grammar& g, std::string_view s) {
  if (s.empty()) return g.empty();
  if (s.find_first_not_of('9') == std::string_view::npos) return any_digits(g, static_cast<int64_t>(s.size()));
  std::vector<ExprId> alts;
  alts.push_back(g.sequence({g.literal(s.substr(0, 1)), le_same_len(g, s.substr(1))}));
  if (s[0] > '0') alts.push_back(g.sequence({digits(g, '0', static_cast<char>(s[0] - 1)), any_digits(g, static_cast<int64_t>(s.size()) - 1)}));
  return g.choice(alts);
}

// Digit strings of length |a| == |b| between a and b (a <= b).
ExprId same_len_range(Grammar& g, std::string_view a, std::string_view b) {
  size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (i == a.size()) return g.literal(a);
  std::vector<ExprId> alts;
  const auto rest = static_cast<int64_t>(a.size() - i - 1);
  alts.push_back(g.sequence({g.literal(a.substr(i, 1)), ge_same_len(g, a.substr(i + 1))}));
  if (b[i] - a[i] > 1) alts.push_back(g.sequence({digits(g, static_cast<char>(a[i] + 1), static_cast<char>(b[i] - 1)), any_digits(g, rest)}));
  alts.push_back(g.sequence({g.literal(b.substr(i, 1)), le_same_len(g, b.substr(i + 1))}));
  return g.sequence({g.literal(a.substr(0, i)), g.choice(alts)});
}

bool le_digits(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return a <= b;
}

// Canonical non-negative integers (no leading zeros) in [a, b]; b empty = unbounded.
std::optional<ExprId> uint_range(Grammar& g, const std::string& a, const std::string& b) {
  if (!b.empty() && !le_digits(a, b)) return std::nullopt;
  const size_t la = a.size();
  std::vector<ExprId> alts;
  if (!b.empty() && b.size() == la) return same_len_range(g, a, b);
  alts.push_back(same_len_range(g, a, std::string(la, '9')));
  if (b.empty()) {
    alts.push_back(g.sequence({digits(g, '1', '9'), g.repeat(digits(g, '0', '9'), static_cast<int32_t>(la), kUnbounded)}));
  } else {
    if (b.size() > la + 1) {
      alts.push_back(g.sequence({digits(g, '1', '9'), g.repeat(digits(g, '0', '9'), static_cast<int32_t>(la), static_cast<int32_t>(b.size() - 2))}));
    }
    alts.push_back(same_len_range(g, "1" + std::string(b.size() - 1, '0'), b));
  }
  return g.choice(alts);
}

// Fraction digit strings F (non-empty) compared as 0.F against 0.f.
std::optional<ExprId> frac_ge(Grammar& g, std::string_view f, bool strict) {
  if (f.empty()) {
    if (!strict) return g.plus(digits(g, '0', '9'));
    return g.sequence({g.star(digits(g, '0', '9')), digits(g, '1', '9'), g.star(digits(g, '0', '9'))});
  }
  std::vector<ExprId> alts;
  if (f[0] < '9') alts.push_back(g.sequence({digits(g, static_cast<char>(f[0] + 1), '9'), g.star(digits(g, '0', '9'))}));
  std::string_view rest = f.substr(1);
  std::vector<ExprId> tail;
  if (rest.empty() && !strict) tail.push_back(g.empty());
  if (auto t = frac_ge(g, rest, strict)) tail.push_back(*t);
  if (!tail.empty()) alts.push_back(g.sequence({g.literal(f.substr(0, 1)), g.choice(tail)}));
  if (alts.empty()) return std::nullopt;
  return g.choice(alts);
}

std::optional<ExprId> frac_le(Grammar& g, std::string_view f, bool strict) {
  if (f.empty()) {
    if (strict) return std::nullopt;
    return g.plus(g.literal("0"));
  }
  std::vector<ExprId> alts;
  if (f[0] > '0') alts.push_back(g.sequence({digits(g, '0', static_cast<char>(f[0] - 1)), g.star(digits(g, '0', '9'))}));
  std::string_view rest = f.substr(1);
  std::vector<ExprId> tail;
  if (!strict || !rest.empty()) tail.push_back(g.empty());
  if (auto t = frac_le(g, rest, strict)) tail.push_back(*t);
  if (!tail.empty()) alts.push_back(g.sequence({g.literal(f.substr(0, 1)), g.choice(tail)}));
  if (alts.empty()) return std::nullopt;
  return g.choice(alts);
}

// 0.a <(=) 0.F <(=) 0.b, F non-empty. Precondition 0.a <= 0.b.
std::optional<ExprId> frac_between(Grammar& g, std::string_view a, bool ae, std::string_view b, bool be) {
  if (a.empty() && b.empty()) {
    if (ae || be) return std::nullopt;
    return g.plus(g.literal("0"));
  }
  const char da = a.empty() ? '0' : a[0];
  const char db = b.empty() ? '0' : b[0];
  std::string_view ar = a.empty() ? a : a.substr(1);
  std::string_view br = b.empty() ? b : b.substr(1);
  std::vector<ExprId> alts;
  if (da == db) {
    std::vector<ExprId> tail;
    // F = d exactly: 0.d vs 0.a (equal iff ar empty) and 0.b (equal iff br empty).
    if (ar.empty() && !ae && (!br.empty() || !be)) tail.push_back(g.empty());
    if (auto t = frac_between(g, ar, ae, br, be)) tail.push_back(*t);
    if (tail.empty()) return std::nullopt;
    return g.sequence({g.literal(std::string(1, da)), g.choice(tail)});
  }
  {
    std::vector<ExprId> tail;
    if (ar.empty() && !ae) tail.push_back(g.empty());
    if (auto t = frac_ge(g, ar, ae)) tail.push_back(*t);
    if (!tail.empty()) alts.push_back(g.sequence({g.literal(std::string(1, da)), g.choice(tail)}));
  }
  if (db - da > 1) alts.push_back(g.sequence({digits(g, static_cast<char>(da + 1), static_cast<char>(db - 1)), g.star(digits(g, '0', '9'))}));
  {
    std::vector<ExprId> tail;
    if (!be || !br.empty()) tail.push_back(g.empty());
    if (auto t = frac_le(g, br, be)) tail.push_back(*t);
    if (!tail.empty()) alts.push_back(g.sequence({g.literal(std::string(1, db)), g.choice(tail)}));
  }
  if (alts.empty()) return std::nullopt;
  return g.choice(alts);
}

// An optional fraction part: ε if `zero_ok`, "." F for F in `digits`.
std::optional<ExprId> fraction(Grammar& g, bool zero_ok, std::optional<ExprId> frac) {
  std::vector<ExprId> alts;
  if (zero_ok) alts.push_back(g.empty());
  if (frac) alts.push_back(g.sequence({g.literal("."), *frac}));
  if (alts.empty()) return std::nullopt;
  return g.choice(alts);
}

// Non-negative decimal magnitudes m with a <(=) m <(=) b (b absent: unbounded).
std::optional<ExprId> magnitude_range(Grammar& g, const Decimal& a, bool ae, const std::optional<Decimal>& b, bool be) {
  if (b) {
    int c = compare(a, *b);
    if (c > 0 || (c == 0 && (ae || be))) return std::nullopt;
  }
  std::vector<ExprId> alts;
  if (b && a.int_digits == b->int_digits) {
    auto f = fraction(g, a.frac_digits.empty() && !ae && (!be || !b->frac_digits.empty()),
                      frac_between(g, a.frac_digits, ae, b->frac_digits, be));
    if (!f) return std::nullopt;
    return g.sequence({g.literal(a.int_digits), *f});
  }
  if (auto f = fraction(g, a.frac_digits.empty() && !ae, frac_ge(g, a.frac_digits, ae))) {
    alts.push_back(g.sequence({g.literal(a.int_digits), *f}));
  }
  const ExprId any_frac = g.optional(g.sequence({g.literal("."), g.plus(digits(g, '0', '9'))}));
  Decimal a1 = add_one(floor_integer(a.abs()));
  if (b) {
    Decimal b1 = sub_one(floor_integer(*b));
    if (compare(a1, b1) <= 0) {
      if (auto mid = uint_range(g, a1.int_digits, b1.int_digits)) alts.push_back(g.sequence({*mid, any_frac}));
    }
    if (auto f = fraction(g, !be || !b->frac_digits.empty(), frac_le(g, b->frac_digits, be))) {
      alts.push_back(g.sequence({g.literal(b->int_digits), *f}));
    }
  } else if (auto mid = uint_range(g, a1.int_digits, "")) {
    alts.push_back(g.sequence({*mid, any_frac}));
  }
  if (alts.empty()) return std::nullopt;
  return g.choice(alts);
}

}  // namespace

ExprId any_integer(Grammar& g) {
  return g.sequence({g.optional(g.literal("-")),
                     g.choice({g.literal("0"), g.sequence({digits(g, '1', '9'), g.star(digits(g, '0', '9'))})})});
}

ExprId any_number(Grammar& g) {
  return g.sequence({any_integer(g), g.optional(g.sequence({g.literal("."), g.plus(digits(g, '0', '9'))})),
                     g.optional(g.sequence({g.byte_class({{'e', 'e'}, {'E', 'E'}}), g.optional(g.byte_class({{'+', '+'}, {'-', '-'}})),
                                            g.plus(digits(g, '0', '9'))}))});
}

std::optional<ExprId> integer_range(Grammar& g, const std::optional<Decimal>& lo, const std::optional<Decimal>& hi) {
  if (lo && hi && compare(*lo, *hi) > 0) return std::nullopt;
  std::vector<ExprId> alts;
  // n >= 0
  if (!hi || !hi->negative) {
    std::string a = (lo && !lo->negative) ? lo->int_digits : "0";
    if (auto e = uint_range(g, a, hi ? hi->int_digits : "")) alts.push_back(*e);
  }
  // n < 0: "-" then magnitudes in [max(1, -hi), -lo]
  if (!lo || lo->negative) {
    std::string a = (hi && hi->negative) ? hi->int_digits : "1";
    if (auto e = uint_range(g, a, lo ? lo->int_digits : "")) alts.push_back(g.sequence({g.literal("-"), *e}));
  }
  if (alts.empty()) return std::nullopt;
  return g.choice(alts);
}

std::optional<ExprId> number_range(Grammar& g, const std::optional<Decimal>& lo, bool lo_exclusive,
                                   const std::optional<Decimal>& hi, bool hi_exclusive) {
  if (!lo && !hi) return any_number(g);
  if (lo && hi) {
    int c = compare(*lo, *hi);
    if (c > 0 || (c == 0 && (lo_exclusive || hi_exclusive))) return std::nullopt;
  }
  std::vector<ExprId> alts;
  Decimal zero;
  // x >= 0
  if (!hi || !hi->negative) {
    Decimal a = (lo && !lo->negative) ? *lo : zero;
    bool ae = (lo && !lo->negative) ? lo_exclusive : false;
    if (auto e = magnitude_range(g, a, ae, hi, hi_exclusive)) alts.push_back(*e);
  }
  // x < 0: "-" m with m > 0 and -m within the bounds.
  if (!lo || lo->negative) {
    Decimal a = (hi && hi->negative) ? hi->abs() : zero;
    bool ae = (hi && hi->negative) ? hi_exclusive : true;
    std::optional<Decimal> b;
    if (lo) b = lo->abs();
    if (auto e = magnitude_range(g, a, ae, b, lo_exclusive)) alts.push_back(g.sequence({g.literal("-"), *e}));
  }
  if (alts.empty()) return std::nullopt;
  return g.choice(alts);
}

std::optional<ExprId> integer_multiple(Grammar& g, const Decimal& k, const std::optional<Decimal>& lo,
                                       const std::optional<Decimal>& hi, bool& unsupported) {
  unsupported = false;
  if (k.int_digits == "1") return integer_range(g, lo, hi);
  if (lo && hi && compare(*lo, *hi) > 0) return std::nullopt;
  constexpr int kMaxEnumerated = 2000;
  constexpr uint64_t kMaxModulus = 1000;
  // Small ranges: enumerate the multiples.
  if (lo && hi && k.int_digits.size() <= 18 && lo->int_digits.size() <= 18 && hi->int_digits.size() <= 18) {
    const long long kk = std::stoll(k.int_digits);
    const long long l = std::stoll(lo->to_string());
    const long long h = std::stoll(hi->to_string());
    if ((h - l) / kk <= kMaxEnumerated) {
      long long first = l % kk == 0 ? l : (l >= 0 ? l + (kk - l % kk) : l - l % kk);
      std::vector<ExprId> alts;
      for (long long v = first; v <= h; v += kk) alts.push_back(g.literal(std::to_string(v)));
      if (alts.empty()) return std::nullopt;
      return g.choice(alts);
    }
  }
  if (k.int_digits.size() > 4 || std::stoull(k.int_digits) > kMaxModulus) {
    unsupported = true;
    return std::nullopt;
  }
  // Bounds at zero (or none) are exact with the remainder automaton; other bounds are not supported.
  const bool lo_zero = lo && lo->is_zero();
  const bool hi_zero = hi && hi->is_zero();
  if ((lo && !lo_zero) || (hi && !hi_zero)) {
    unsupported = true;
    return std::nullopt;
  }
  if (lo_zero && hi_zero) return g.literal("0");
  const uint64_t kk = std::stoull(k.int_digits);
  // Rule r: the rest of a digit string that ends with remainder 0, given remainder r so far.
  std::vector<grammar::RuleId> rules;
  for (uint64_t r = 0; r < kk; ++r) rules.push_back(g.fresh_rule("multiple-of-" + std::to_string(kk) + "-r" + std::to_string(r)));
  for (uint64_t r = 0; r < kk; ++r) {
    std::vector<ExprId> alts;
    if (r == 0) alts.push_back(g.empty());
    for (int d = 0; d <= 9; ++d) {
      alts.push_back(g.sequence({g.literal(std::string(1, static_cast<char>('0' + d))), g.rule_ref(rules[(r * 10 + static_cast<uint64_t>(d)) % kk])}));
    }
    g.define_rule(rules[r], g.choice(alts));
  }
  std::vector<ExprId> starts;
  for (int d = 1; d <= 9; ++d) {
    starts.push_back(g.sequence({g.literal(std::string(1, static_cast<char>('0' + d))), g.rule_ref(rules[static_cast<uint64_t>(d) % kk])}));
  }
  const ExprId positive = g.choice(starts);
  std::vector<ExprId> alts = {g.literal("0")};
  if (!hi_zero) alts.push_back(positive);
  if (!lo_zero) alts.push_back(g.sequence({g.literal("-"), positive}));
  return g.choice(alts);
}

}  // namespace stencil::schema
