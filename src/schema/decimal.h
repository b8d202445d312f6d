// Exact decimal numbers for JSON Schema numeric keywords (minimum, maximum,
// multipleOf, enum values): a sign, integer digits and fraction digits as text,
// so bounds like 1e30 or -12345678901234567890 stay exact and can drive digit
// automata. Does no arithmetic beyond comparison, floor/ceil and +-1 on integers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stencil::schema {

struct Decimal {
  bool negative = false;  // never set for zero
  std::string int_digits = "0";  // no leading zeros ("0" for zero)
  std::string frac_digits;       // no trailing zeros (empty for integers)

  bool is_zero() const { return int_digits == "0" && frac_digits.empty(); }
  bool is_integer() const { return frac_digits.empty(); }
  Decimal abs() const {
    Decimal d = *this;
    d.negative = false;
    return d;
  }
  Decimal negated() const {
    Decimal d = *this;
    d.negative = !is_zero() && !negative;
    return d;
  }
  // The JSON text of the number ("-12.5", "0", "100").
  std::string to_string() const;
};

// Parses JSON number text, including exponents ("1e+20", "-2.50E-3"). nullopt if not a number.
std::optional<Decimal> parse_decimal(std::string_view text);
// The shortest decimal that round-trips to `value` (std::to_chars), made exact. Precondition: finite.
Decimal decimal_from_double(double value);
Decimal decimal_from_int(long long value);
Decimal decimal_from_uint(unsigned long long value);

// -1, 0, 1 as a <, ==, > b.
int compare(const Decimal& a, const Decimal& b);
// The smallest integer >= d, and the largest integer <= d.
Decimal ceil_integer(const Decimal& d);
Decimal floor_integer(const Decimal& d);
// d + 1 and d - 1 for integers.
Decimal add_one(const Decimal& d);
Decimal sub_one(const Decimal& d);

}  // namespace stencil::schema
