// Grammar for JSON numbers under numeric keywords: integer ranges as digit
// automata (exact for any bounds, negative and huge included, linear in the
// number of digits), decimal ranges without exponent (exact on the decimal
// value), and multipleOf for integers (small moduli: a remainder automaton;
// small ranges: enumeration). It does not handle strings or layout.
#pragma once

#include <optional>

#include "grammar/grammar.h"
#include "schema/decimal.h"

namespace stencil::schema {

// -?(0|[1-9][0-9]*) with optional fraction and exponent: any JSON number.
grammar::ExprId any_number(grammar::Grammar& g);
// -?(0|[1-9][0-9]*): any JSON integer (no fraction, no exponent).
grammar::ExprId any_integer(grammar::Grammar& g);

// JSON integers n with lo <= n <= hi (absent: unbounded). lo/hi must be integers.
// nullopt when the range is empty. Never writes "-0".
std::optional<grammar::ExprId> integer_range(grammar::Grammar& g, const std::optional<Decimal>& lo,
                                             const std::optional<Decimal>& hi);

// JSON numbers (integers and decimals, no exponent) x with lo <(=) x <(=) hi. nullopt when empty.
std::optional<grammar::ExprId> number_range(grammar::Grammar& g, const std::optional<Decimal>& lo, bool lo_exclusive,
                                            const std::optional<Decimal>& hi, bool hi_exclusive);

// JSON integers that are multiples of `k` (a positive integer) within [lo, hi] (integers, absent: unbounded).
// nullopt with `unsupported` set when it cannot be built exactly within the size limits.
std::optional<grammar::ExprId> integer_multiple(grammar::Grammar& g, const Decimal& k, const std::optional<Decimal>& lo,
                                                const std::optional<Decimal>& hi, bool& unsupported);

}  // namespace stencil::schema
