// parse_gbnf: llama.cpp's GBNF dialect -> grammar IR.
//
// The dialect, as llama.cpp's grammar parser reads it:
//   rule      ::= name ws? "::=" ws-nl? alternates (newline | end)
//   alternates ::= sequence ("|" ws-nl? sequence)*        (a newline may follow "|")
//   sequence  ::= (item postfix*)*                          (newlines only inside parentheses)
//   item      ::= "\"" chars "\"" | "[" "^"? class-items "]" | name | "(" alternates ")" | "."
//   postfix   ::= "*" | "+" | "?" | "{" m "}" | "{" m ",}" | "{" m "," n "}"
// Names are [a-zA-Z0-9_-]+, rules may be referenced before they are defined, `#` starts a
// comment to the end of the line, and escapes are \n \r \t \\ \" \[ \] \xNN \uNNNN \UNNNNNNNN
// (hex escapes are code points, UTF-8 encoded). Literal text is UTF-8.
//
// Extensions (llama.cpp rejects these; print_gbnf needs the first): `%[...]` is a class of raw
// BYTES, with the same syntax as a character class but \xNN means the byte NN (e.g. `%[\x80-\xBF]`),
// so grammars over non-UTF-8 bytes can be printed and read back; `{,n}` means `{0,n}`; `\-` is
// an escaped '-'.
// Not supported: llama.cpp's token references (`<[1234]>`, `<|eot_id|>`): a clear error.
//
// Errors are GrammarError with "line:column" (1-based, columns count code points): syntax errors
// where they occur, an undefined rule at its first reference, a rule defined twice at its second
// definition (llama.cpp does not diagnose that), then the problems of check_grammar (left
// recursion, empty language) at the definition of the rule concerned. Exceeding a named limit
// below is a LimitError with the same kind of location.
//
// Recursion is only over nested parentheses, bounded by kMaxNestingDepth.
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/grammar_checks.h"
#include "grammar/utf8.h"
#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

// Deepest nesting of parentheses accepted; deeper is a LimitError. This guards the parser's
// stack: a level costs about 0.5 KB of it in an optimised build (1 KB unoptimised).
constexpr int kMaxNestingDepth = 1000;
// Largest repetition count accepted in {m,n}; guards integer overflow and absurd expansions.
constexpr int32_t kMaxRepetitionCount = 1'000'000;

bool is_word_char(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}
bool is_digit(int c) { return c >= '0' && c <= '9'; }
int hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class GbnfParser {
 public:
  GbnfParser(std::string_view text) : text_(text) {}

  Grammar parse(std::string_view root_name) {
    skip_space(true);
    while (!at_end()) parse_rule();

    // Undefined rules: report the one referenced first in the text.
    RuleId undefined = -1;
    for (RuleId r = 0; r < grammar_.rule_count(); ++r) {
      if (grammar_.rule(r).body >= 0) continue;
      if (undefined < 0 || info_[static_cast<size_t>(r)].first_ref < info_[static_cast<size_t>(undefined)].first_ref) {
        undefined = r;
      }
    }
    if (undefined >= 0) {
      fail_at(info_[static_cast<size_t>(undefined)].first_ref,
              "undefined rule '" + grammar_.rule(undefined).name + "'");
    }
    const RuleId root = grammar_.find_rule(root_name);
    if (root < 0) throw GrammarError("no rule named '" + std::string(root_name) + "'", "1:1");
    grammar_.set_root(root);

    if (auto problem = find_grammar_problem(grammar_)) {
      const size_t at = problem->rule >= 0 ? info_[static_cast<size_t>(problem->rule)].definition : 0;
      fail_at(at, problem->message);
    }
    return std::move(grammar_);
  }

 private:
  struct RuleInfo {
    size_t definition = std::string_view::npos;  // offset of the rule's name where it is defined
    size_t first_ref = std::string_view::npos;   // offset of its first reference
  };

  bool at_end() const { return pos_ >= text_.size(); }
  // The byte at pos_ + ahead, or -1 past the end (a NUL byte in the text is just a byte).
  int peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? static_cast<unsigned char>(text_[pos_ + ahead]) : -1;
  }

  std::string location(size_t offset) const {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      const auto c = static_cast<unsigned char>(text_[i]);
      if (c == '\n') {
        ++line;
        column = 1;
      } else if ((c & 0xC0) != 0x80) {  // count code points, not UTF-8 continuation bytes
        ++column;
      }
    }
    return std::to_string(line) + ":" + std::to_string(column);
  }

  [[noreturn]] void fail_at(size_t offset, const std::string& message) const {
    throw GrammarError(message, location(offset));
  }
  [[noreturn]] void fail(const std::string& message) const { fail_at(pos_, message); }

  // What is at pos_, for "expected X, found Y" messages.
  std::string found() const {
    const int c = peek();
    if (c < 0) return "end of input";
    if (c == '\n' || c == '\r') return "end of line";
    if (c >= 0x21 && c < 0x7F) return std::string("'") + static_cast<char>(c) + "'";
    size_t p = pos_;
    const int32_t cp = decode_utf8(text_, p);
    if (cp >= 0x80) return fmt::format("'{}'", text_.substr(pos_, p - pos_));
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02X", static_cast<unsigned>(c));
    return buf;
  }

  // Skips spaces, tabs and comments, and line breaks when `newline_ok`.
  void skip_space(bool newline_ok) {
    while (!at_end()) {
      const int c = peek();
      if (c == ' ' || c == '\t' || (newline_ok && (c == '\n' || c == '\r'))) {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n' && peek() != '\r') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string_view parse_name() {
    const size_t start = pos_;
    while (is_word_char(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  RuleInfo& info(RuleId r) {
    if (info_.size() <= static_cast<size_t>(r)) info_.resize(static_cast<size_t>(r) + 1);
    return info_[static_cast<size_t>(r)];
  }

  void parse_rule() {
    const size_t start = pos_;
    const std::string_view name = parse_name();
    if (name.empty()) fail("expected a rule name, found " + found());
    const RuleId rule = grammar_.declare_rule(name);
    if (info(rule).definition != std::string_view::npos) {
      fail_at(start,
              "rule '" + std::string(name) + "' defined twice (first at " + location(info(rule).definition) + ")");
    }
    info(rule).definition = start;
    skip_space(false);
    if (text_.substr(pos_, 3) != "::=")
      fail("expected '::=' after rule name '" + std::string(name) + "', found " + found());
    pos_ += 3;
    skip_space(true);
    const ExprId body = parse_alternates(false, 0);
    if (peek() == '\r') {
      pos_ += peek(1) == '\n' ? 2 : 1;
    } else if (peek() == '\n') {
      ++pos_;
    } else if (!at_end()) {
      if (peek() == ')') fail("unmatched ')'");
      fail("expected an expression, '|', or the end of the line, found " + found());
    }
    skip_space(true);
    grammar_.define_rule(rule, body);
  }

  ExprId parse_alternates(bool nested, int depth) {
    std::vector<ExprId> alternatives{parse_sequence(nested, depth)};
    while (peek() == '|') {
      ++pos_;
      skip_space(true);
      alternatives.push_back(parse_sequence(nested, depth));
    }
    return grammar_.choice(std::move(alternatives));
  }

  ExprId parse_sequence(bool nested, int depth) {
    std::vector<ExprId> items;
    while (!at_end()) {
      const size_t start = pos_;
      const int c = peek();
      if (c == '"') {
        items.push_back(parse_literal());
      } else if (c == '[') {
        items.push_back(parse_class(/*bytes=*/false));
      } else if (c == '%' && peek(1) == '[') {
        ++pos_;
        items.push_back(parse_class(/*bytes=*/true));
      } else if (is_word_char(c)) {
        const std::string_view name = parse_name();
        const RuleId rule = grammar_.declare_rule(name);
        if (info(rule).first_ref == std::string_view::npos) info(rule).first_ref = start;
        items.push_back(grammar_.rule_ref(rule));
      } else if (c == '(') {
        if (depth + 1 > kMaxNestingDepth) {
          throw LimitError("parentheses nested deeper than kMaxNestingDepth (" + std::to_string(kMaxNestingDepth) + ")",
                           location(start));
        }
        ++pos_;
        skip_space(true);
        items.push_back(parse_alternates(true, depth + 1));
        if (peek() != ')') {
          fail("expected ')' to close the '(' at " + location(start) + ", found " + found());
        }
        ++pos_;
      } else if (c == '.') {
        ++pos_;
        items.push_back(grammar_.char_class({{0, kMaxCodepoint}}));
      } else if (c == '*' || c == '+' || c == '?') {
        if (items.empty()) fail(std::string("expected an item before '") + static_cast<char>(c) + "'");
        ++pos_;
        items.back() = grammar_.repeat(items.back(), c == '+' ? 1 : 0, c == '?' ? 1 : kUnbounded);
      } else if (c == '{') {
        if (items.empty()) fail("expected an item before '{'");
        items.back() = parse_braces(items.back(), nested);
      } else if (c == '<') {
        fail("token references ('<...>') are not supported");
      } else {
        break;
      }
      skip_space(nested);
    }
    return grammar_.sequence(std::move(items));
  }

  int32_t parse_count() {
    const size_t start = pos_;
    int64_t value = 0;
    while (is_digit(peek())) {
      value = value * 10 + (peek() - '0');
      if (value > kMaxRepetitionCount) {
        throw LimitError("repetition count exceeds kMaxRepetitionCount (" + std::to_string(kMaxRepetitionCount) + ")",
                         location(start));
      }
      ++pos_;
    }
    return static_cast<int32_t>(value);
  }

  // {m} {m,} {m,n} {,n}; pos_ is at '{'.
  ExprId parse_braces(ExprId item, bool nested) {
    const size_t start = pos_;
    ++pos_;
    skip_space(nested);
    int32_t min = 0;
    int32_t max = kUnbounded;
    bool has_min = false;
    if (is_digit(peek())) {
      min = parse_count();
      has_min = true;
      skip_space(nested);
    }
    if (has_min && peek() == '}') {
      max = min;
    } else if (peek() == ',') {
      ++pos_;
      skip_space(nested);
      if (is_digit(peek())) {
        max = parse_count();
        skip_space(nested);
      } else if (!has_min) {
        fail("expected a number after '{,', found " + found());
      }
      if (peek() != '}') fail("expected '}' to close the repetition, found " + found());
    } else {
      fail(std::string(has_min ? "expected ',' or '}'" : "expected a number") + " in the repetition, found " + found());
    }
    ++pos_;  // '}'
    if (max != kUnbounded && max < min) {
      fail_at(start, "repetition maximum " + std::to_string(max) + " is less than its minimum " + std::to_string(min));
    }
    return grammar_.repeat(item, min, max);
  }

  // One character of a literal or class at pos_ (an escape or a UTF-8 code point); advances.
  uint32_t parse_char() {
    const size_t start = pos_;
    if (peek() == '\\') {
      const int e = peek(1);
      pos_ += 2;
      int digits = 0;
      switch (e) {
        case 'x':
          digits = 2;
          break;
        case 'u':
          digits = 4;
          break;
        case 'U':
          digits = 8;
          break;
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 't':
          return '\t';
        case '\\':
        case '"':
        case '[':
        case ']':
        case '-':
          return static_cast<uint32_t>(e);
        case -1:
          fail_at(start, "expected an escape after '\\', found end of input");
        default: {
          size_t end = start + 1;
          const int32_t cp = decode_utf8(text_, end);
          if (cp >= 0x20 && cp != 0x7F) {
            fail_at(start, "unknown escape '\\" + std::string(text_.substr(start + 1, end - start - 1)) + "'");
          }
          pos_ = start + 1;
          fail_at(start, "unknown escape: '\\' followed by " + found());
        }
      }
      uint32_t value = 0;
      for (int i = 0; i < digits; ++i) {
        const int h = hex_value(peek());
        if (h < 0) {
          fail("expected " + std::to_string(digits) + " hex digits after '\\" + static_cast<char>(e) + "', found " +
               found());
        }
        value = value * 16 + static_cast<uint32_t>(h);
        ++pos_;
      }
      if (value > kMaxCodepoint) fail_at(start, "code point escape is above U+10FFFF");
      return value;
    }
    const int32_t cp = decode_utf8(text_, pos_);
    if (cp < 0) fail("invalid UTF-8");
    return static_cast<uint32_t>(cp);
  }

  ExprId parse_literal() {
    const size_t start = pos_;
    ++pos_;
    std::string bytes;
    while (true) {
      if (at_end()) fail_at(start, "unterminated string literal");
      if (peek() == '"') break;
      const size_t char_start = pos_;
      const uint32_t cp = parse_char();
      if (cp >= 0xD800 && cp <= 0xDFFF) fail_at(char_start, "a surrogate code point cannot appear in a string literal");
      append_utf8(bytes, cp);
    }
    ++pos_;
    return grammar_.literal(bytes);
  }

  // pos_ at '['. `bytes`: the `%[...]` extension, whose members are raw bytes.
  ExprId parse_class(bool bytes) {
    const size_t start = bytes ? pos_ - 1 : pos_;
    ++pos_;
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<Range> ranges;
    auto member = [&]() {
      const size_t at = pos_;
      if (bytes && peek() >= 0x80)
        fail("a byte class '%[...]' takes ASCII characters or \\xNN escapes, found " + found());
      const uint32_t v = parse_char();
      if (bytes && v > 0xFF) fail_at(at, "a byte class '%[...]' takes bytes (\\x00-\\xFF), not code points");
      return v;
    };
    while (true) {
      if (at_end()) fail_at(start, bytes ? "unterminated byte class" : "unterminated character class");
      if (peek() == ']') break;
      const size_t range_start = pos_;
      const uint32_t lo = member();
      uint32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && peek(1) != -1) {
        ++pos_;
        hi = member();
        if (hi < lo) fail_at(range_start, "range end is below its start");
      }
      ranges.push_back({lo, hi});
    }
    ++pos_;
    return bytes ? grammar_.byte_class(std::move(ranges), negated) : grammar_.char_class(std::move(ranges), negated);
  }

  std::string_view text_;
  size_t pos_ = 0;
  Grammar grammar_;
  std::vector<RuleInfo> info_;  // by rule id
};

}  // namespace

Grammar parse_gbnf(std::string_view text, std::string_view root_name) {
  GbnfParser parser(text);
  return parser.parse(root_name);
}

}  // namespace stencil::grammar
