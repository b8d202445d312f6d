// Exact decimal text arithmetic for schema bounds (see decimal.h).
#include "schema/decimal.h"

#include <charconv>
#include <cstdio>

namespace stencil::schema {
namespace {

void normalise(Decimal& d) {
  size_t nz = d.int_digits.find_first_not_of('0');
  d.int_digits = nz == std::string::npos ? "0" : d.int_digits.substr(nz);
  while (!d.frac_digits.empty() && d.frac_digits.back() == '0') d.frac_digits.pop_back();
  if (d.is_zero()) d.negative = false;
}

// Compares magnitudes.
int compare_abs(const Decimal& a, const Decimal& b) {
  if (a.int_digits.size() != b.int_digits.size()) return a.int_digits.size() < b.int_digits.size() ? -1 : 1;
  if (int c = a.int_digits.compare(b.int_digits); c != 0) return c < 0 ? -1 : 1;
  if (int c = a.frac_digits.compare(b.frac_digits); c != 0) return c < 0 ? -1 : 1;
  return 0;
}

// Magnitude + 1 of a non-negative integer digit string.
std::string inc_digits(std::string s) {
  int i = static_cast<int>(s.size()) - 1;
  while (i >= 0 && s[static_cast<size_t>(i)] == '9') s[static_cast<size_t>(i--)] = '0';
  if (i < 0) return "1" + s;
  ++s[static_cast<size_t>(i)];
  return s;
}

// Magnitude - 1 of a positive integer digit string.
std::string dec_digits(std::string s) {
  int i = static_cast<int>(s.size()) - 1;
  while (i >= 0 && s[static_cast<size_t>(i)] == '0') s[static_cast<size_t>(i--)] = '9';
  if (i >= 0) --s[static_cast<size_t>(i)];
  size_t nz = s.find_first_not_of('0');
  return nz == std::string::npos ? "0" : s.substr(nz);
}

}  // namespace

std::string Decimal::to_string() const {
  std::string s = negative ? "-" : "";
  s += int_digits;
  if (!frac_digits.empty()) s += "." + frac_digits;
  return s;
}

std::optional<Decimal> parse_decimal(std::string_view text) {
  Decimal d;
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) d.negative = text[i++] == '-';
  std::string digits;  // all mantissa digits
  long long point = -1;  // digits before the point
  bool any = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits += c;
      any = true;
    } else if (c == '.' && point < 0) {
      point = static_cast<long long>(digits.size());
    } else {
      break;
    }
  }
  if (!any) return std::nullopt;
  if (point < 0) point = static_cast<long long>(digits.size());
  long long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) eneg = text[i++] == '-';
    if (i >= text.size()) return std::nullopt;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      exp = exp * 10 + (text[i] - '0');
      if (exp > 100000) return std::nullopt;  // absurd exponents are not numbers we can write out
    }
    if (eneg) exp = -exp;
  }
  if (i != text.size()) return std::nullopt;
  point += exp;
  if (point < 0) {
    digits.insert(0, static_cast<size_t>(-point), '0');
    point = 0;
  } else if (point > static_cast<long long>(digits.size())) {
    digits.append(static_cast<size_t>(point) - digits.size(), '0');
  }
  d.int_digits = digits.substr(0, static_cast<size_t>(point));
  d.frac_digits = digits.substr(static_cast<size_t>(point));
  normalise(d);
  return d;
}

Decimal decimal_from_double(double value) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  return *parse_decimal(std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
}

Decimal decimal_from_int(long long value) { return *parse_decimal(std::to_string(value)); }
Decimal decimal_from_uint(unsigned long long value) { return *parse_decimal(std::to_string(value)); }

int compare(const Decimal& a, const Decimal& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  int c = compare_abs(a, b);
  return a.negative ? -c : c;
}

Decimal ceil_integer(const Decimal& d) {
  if (d.is_integer()) return d;
  Decimal r = d;
  r.frac_digits.clear();
  if (!d.negative) r.int_digits = inc_digits(r.int_digits);
  normalise(r);
  return r;
}

Decimal floor_integer(const Decimal& d) {
  if (d.is_integer()) return d;
  Decimal r = d;
  r.frac_digits.clear();
  if (d.negative) r.int_digits = inc_digits(r.int_digits);
  normalise(r);
  return r;
}

Decimal add_one(const Decimal& d) {
  Decimal r = d;
  if (!d.negative) {
    r.int_digits = inc_digits(d.int_digits);
  } else {
    r.int_digits = dec_digits(d.int_digits);
  }
  normalise(r);
  return r;
}

Decimal sub_one(const Decimal& d) {
  Decimal r = d;
  if (d.is_zero()) {
    r.int_digits = "1";
    r.negative = true;
  } else if (d.negative) {
    r.int_digits = inc_digits(d.int_digits);
  } else {
    r.int_digits = dec_digits(d.int_digits);
  }
  normalise(r);
  return r;
}

}  // namespace stencil::schema
