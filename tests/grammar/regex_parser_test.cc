// Tests of the regex front end (parse_regex, add_regex_rule): table-driven
// {pattern, accept[], reject[]} cases checked with the reference recognizer: the
// unanchored (search) semantics of JSON Schema patterns (add_regex_rule's default),
// whole-string matching (parse_regex, RegexOptions::full_match), the JSON-string encoding
// mode, and one error case per unsupported construct with its exact location.
// The RE2 cross-check on generated strings is in regex_re2_test.cc.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/recognizer.h"
#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

struct Case {
  std::string pattern;
  std::vector<std::string> accept;
  std::vector<std::string> reject;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.pattern; }

void check(const Grammar& g, const Case& c) {
  for (const std::string& s : c.accept) {
    EXPECT_TRUE(recognizes(g, s)) << "pattern " << c.pattern << " should accept " << testing::PrintToString(s);
  }
  for (const std::string& s : c.reject) {
    EXPECT_FALSE(recognizes(g, s)) << "pattern " << c.pattern << " should reject " << testing::PrintToString(s);
  }
}

// add_regex_rule's default: JSON Schema `pattern` semantics (the pattern may match anywhere).
Grammar search_regex(std::string_view pattern) {
  Grammar g;
  g.set_root(add_regex_rule(g, pattern));
  return g;
}

// ---- plain mode, search semantics: the grammar matches the strings the pattern matches somewhere ----

const std::vector<Case> kPlainCases = {
    // anchored patterns: whole-string matches
    {"^abc$", {"abc"}, {"", "ab", "abcd", "xabc", "ABC"}},
    {"^$", {""}, {"a", "\n"}},
    {"^a|b$", {"a", "ab", "axx", "b", "xxb", "ab\nb"}, {"", "c", "ba", "xa"}},
    {"^(a|b)$", {"a", "b"}, {"", "ab", "ba", "c"}},
    {"^(?:a|bc)+$", {"a", "bc", "abca", "bcbc"}, {"", "b", "abc_", "cb"}},
    {"^[a-z]+(-[a-z]+)*$", {"a", "abc", "a-b", "foo-bar-baz"}, {"", "-", "a-", "-a", "a--b", "A", "a_b"}},
    {"^\\d{3}-\\d{4}$", {"555-1234"}, {"55-1234", "5555-1234", "abc-defg", "555-12345"}},
    {"^\\d{2,4}$", {"12", "123", "1234"}, {"1", "12345", ""}},
    {"^a{2,}$", {"aa", "aaa", "aaaaaaaa"}, {"", "a"}},
    {"^a{0}$", {""}, {"a"}},
    {"^(ab){1,2}c?$", {"ab", "abab", "abc", "ababc"}, {"", "a", "abababc", "abcc"}},
    {"^a*?b+?c??$", {"b", "ab", "aabbc", "bc"}, {"", "a", "c", "bcc"}},
    {"^#[0-9a-fA-F]{6}$", {"#00ff00", "#ABCDEF"}, {"#00ff0", "00ff00", "#00ff00f", "#gggggg"}},
    {"^[^\"\\\\]*$", {"", "abc", "a'b"}, {"\"", "a\\b"}},
    {"^[\\w.-]+@[\\w-]+\\.[a-z]{2,}$", {"john.doe@example.com", "a-b@c-d.io"}, {"@example.com", "a@b.c", "a b@c.com"}},
    {"^(?<year>\\d{4})-(?<month>\\d{2})$", {"2024-01"}, {"2024-1", "24-01"}},
    // unanchored: JSON Schema pattern semantics (search)
    {"abc", {"abc", "xabc", "abcx", "xxabcxx", "ab\nabc\n"}, {"", "ab", "acb", "ABC"}},
    {"^abc", {"abc", "abcdef", "abc\n"}, {"xabc", "ab"}},
    {"abc$", {"abc", "xxabc", "\nabc"}, {"abcx", "abc\n"}},
    {"", {"", "anything", "\n"}, {}},
    {"a|", {"", "b", "a"}, {}},
    {"^", {"", "x"}, {}},
    {"$", {"", "x"}, {}},
    {"(?:^|,)x(?:,|$)", {"x", "x,", ",x", "a,x,b", "a,x"}, {"ax", "xa", "a,xb", ""}},
    {"(^a|b)c", {"ac", "acxx", "bc", "xbc", "xbcx"}, {"xac", "a", "c"}},
    {"^^a$$", {"a"}, {"xa", "ax"}},
    {"^(?:^a)$", {"a"}, {"xa", "ax"}},
    {"a+", {"a", "ba", "baab"}, {"", "b"}},
    {"\\d", {"1", "a1b"}, {"", "abc"}},
    // classes and escapes
    {"^.$", {"a", " ", "\t", "\xC3\xA9", "\xF0\x9F\x98\x80"}, {"\n", "\r", "\xE2\x80\xA8", "\xE2\x80\xA9", "", "ab"}},
    {"^[^]$", {"a", "\n", "\xE2\x80\xA8"}, {"", "ab"}},
    {"^[]$", {}, {"", "a", "]"}},
    {"^a[]b$", {}, {"ab", "a]b"}},
    {"^\\s$", {" ", "\t", "\n", "\v", "\f", "\r", "\xC2\xA0", "\xE2\x80\x80", "\xE3\x80\x80", "\xEF\xBB\xBF"},
     {"a", "", "\xE2\x80\x8B" /* U+200B is not a space */}},
    {"^\\S$", {"a", "\xE2\x80\x8B"}, {" ", "\n", "\xC2\xA0"}},
    {"^\\w\\W\\d\\D$", {"a 1x", "_-9_"}, {"a a1x", "- 1x", "a 1"}},
    {"^[\\d\\s]+$", {"1 2", "12\t"}, {"a", ""}},
    {"^[^\\d]$", {"a", "\n"}, {"1"}},
    {"^[\\S]$", {"a"}, {" "}},
    {"^[a\\-z]+$", {"a", "-", "z", "a-z"}, {"b"}},
    {"^[-a]$", {"-", "a"}, {"b"}},
    {"^[a-]$", {"-", "a"}, {"b"}},
    {"^[\\d-z]+$", {"1", "-", "z"}, {"a", "y"}},
    {"^[\\b]$", {"\b"}, {"b"}},
    {"^\\n\\r\\t\\f\\v\\0$", {std::string("\n\r\t\f\v\0", 6)}, {"nrtfv0"}},
    {"^\\x41\\u0042\\u{43}\\u{1F600}$", {"ABC\xF0\x9F\x98\x80"}, {"x41", "ABC"}},
    {"^\\uD83D\\uDE00$", {"\xF0\x9F\x98\x80"}, {"\xED\xA0\xBD\xED\xB8\x80"}},
    {"^\\cJ\\cm$", {"\n\r"}, {"cJcm"}},
    {"^\\/\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\$", {"/.*+?()[]{}|^$\\"}, {"", "/"}},
    {"^a{$", {"a{"}, {"a"}},
    {"^a{1,x}$", {"a{1,x}"}, {"a"}},
    {"^{}$", {"{}"}, {""}},
    {"^]$", {"]"}, {""}},
    {"^x}$", {"x}"}, {"x"}},
    {"^a{,3}$", {"a{,3}"}, {"a", "aaa"}},
    // unicode
    {"^[\\u0400-\\u04FF]+$", {"\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"}, {"abc", ""}},
    {"^[α-ω]+$", {"\xCE\xB1\xCE\xB2", "\xCF\x89"}, {"\xCE\x91", "a"}},
    {"^caf\xC3\xA9$", {"caf\xC3\xA9"}, {"cafe", "caf\xC3\xA9\xC3\xA9"}},
    {"^[^a]$", {"\xF0\x9F\x98\x80", "\xC3\xA9"}, {"a", "\xF0\x9F", ""}},
    {"^\\uD800$", {}, {"\xED\xA0\x80", ""}},
    // nested and counted
    {"^((a|b){2}c){2}$", {"abcbac", "aacbbc"}, {"abc", "abcbc", "abcabcabc"}},
    {"^(a*)*$", {"", "a", "aaaa"}, {"b"}},
    {"^(a?){3}b$", {"b", "ab", "aaab"}, {"aaaab"}},
    {"^(?:(?:(?:x)))$", {"x"}, {"xx"}},
};

class RegexPlainTest : public ::testing::TestWithParam<Case> {};

TEST_P(RegexPlainTest, AcceptsAndRejects) {
  const Case& c = GetParam();
  check(search_regex(c.pattern), c);
}

INSTANTIATE_TEST_SUITE_P(Patterns, RegexPlainTest, ::testing::ValuesIn(kPlainCases));

// ---- parse_regex (and RegexOptions::full_match): the whole string must match ----

const std::vector<Case> kFullMatchCases = {
    {"abc", {"abc"}, {"", "xabc", "abcx", "ab"}},
    {"[0-9]+", {"1", "123"}, {"", "a1", "1a"}},
    {"a|b", {"a", "b"}, {"", "ab", "xa"}},
    {"^a|b$", {"a", "b"}, {"ab", "axx", "xxb"}},
    {"^abc$", {"abc"}, {"xabc"}},
    {"", {""}, {"a"}},
    {"^", {""}, {"a"}},
    {"a?", {"", "a"}, {"aa", "b"}},
    {".*", {"", "abc", "\xC3\xA9"}, {"\n", "a\nb"}},
    {"(?:^|,)x(?:,|$)", {"x", ",x", "x,", ",x,"}, {"a,x", "x,a"}},
    {"x+", {"x", "xxx"}, {"", "axb"}},
};

class RegexFullMatchTest : public ::testing::TestWithParam<Case> {};

TEST_P(RegexFullMatchTest, AcceptsAndRejects) {
  const Case& c = GetParam();
  check(parse_regex(c.pattern), c);
  Grammar g;
  RegexOptions options;
  options.full_match = true;
  g.set_root(add_regex_rule(g, c.pattern, options));
  check(g, c);
}

INSTANTIATE_TEST_SUITE_P(Patterns, RegexFullMatchTest, ::testing::ValuesIn(kFullMatchCases));

TEST(RegexParser, RootRuleIsNamedRoot) {
  Grammar g = parse_regex("^a$");
  ASSERT_GE(g.root(), 0);
  EXPECT_EQ(g.rule(g.root()).name, "root");
  EXPECT_EQ(g.rule_count(), 1);
}

TEST(RegexParser, CountedRepeatsStayCompact) {
  // {1000} must be one kRepeat node, not 1000 copies.
  Grammar g = parse_regex("^(abc|d){1000}$");
  EXPECT_LT(g.expr_count(), 20);
  EXPECT_TRUE(recognizes(g, std::string(1000, 'd')));
  EXPECT_FALSE(recognizes(g, std::string(999, 'd')));
}

TEST(RegexParser, FillersAbsorbOptionalRepeats) {
  // Unanchored `.*` is the universal language: one star of any code point, not three stars.
  for (const char* pattern : {".*", "a?", "(?:abc)*", "^.*|x"}) {
    Grammar g = search_regex(pattern);
    const Expr& body = g.expr(g.rule(g.root()).body);
    ASSERT_EQ(body.kind, ExprKind::kRepeat) << pattern;
    EXPECT_EQ(body.min, 0) << pattern;
    EXPECT_EQ(body.max, kUnbounded) << pattern;
    EXPECT_EQ(g.expr(body.children[0]).ranges, (std::vector<Range>{{0, kMaxCodepoint}})) << pattern;
  }
  // `x+` at both open edges is filler, x, filler.
  Grammar g = search_regex("x+");
  const Expr& body = g.expr(g.rule(g.root()).body);
  ASSERT_EQ(body.kind, ExprKind::kSequence);
  ASSERT_EQ(body.children.size(), 3u);
  EXPECT_EQ(g.expr(body.children[1]).kind, ExprKind::kLiteral);
  check(g, {"x+", {"x", "axxb", "xx"}, {"", "ab"}});
}

TEST(RegexParser, AddRegexRuleAddsFreshRules) {
  Grammar g;
  RuleId a = add_regex_rule(g, "^a$");
  RuleId b = add_regex_rule(g, "^b$");
  EXPECT_NE(a, b);
  EXPECT_EQ(g.rule(a).name, "regex");
  EXPECT_NE(g.rule(b).name, "regex");
  RegexOptions options;
  options.rule_name_prefix = "pat";
  RuleId c = add_regex_rule(g, "^c$", options);
  EXPECT_EQ(g.rule(c).name, "pat");
  g.set_root(b);
  EXPECT_TRUE(recognizes(g, "b"));
  EXPECT_FALSE(recognizes(g, "a"));
}

TEST(RegexParser, ErrorsLeaveTheGrammarUntouched) {
  Grammar g;
  add_regex_rule(g, "^a$");
  const int32_t exprs = g.expr_count();
  const int32_t rules = g.rule_count();
  EXPECT_THROW(add_regex_rule(g, "^a(?=b)$"), GrammarError);
  EXPECT_THROW(add_regex_rule(g, "a^b"), GrammarError);
  EXPECT_EQ(g.expr_count(), exprs);
  EXPECT_EQ(g.rule_count(), rules);
}

// ---- inside a JSON string: the grammar matches JSON string contents whose decoded value matches ----

Grammar json_regex(std::string_view pattern, bool unicode_escapes = false) {
  Grammar g;
  RegexOptions options;
  options.inside_json_string = true;
  options.allow_unicode_escapes = unicode_escapes;
  g.set_root(add_regex_rule(g, pattern, options));
  return g;
}

const std::vector<Case> kJsonCases = {
    {"^a\"b$", {"a\\\"b"}, {"a\"b", "a\\u0022b", "a\\\\\"b"}},
    {"^a\\\\b$", {"a\\\\b"}, {"a\\b", "a\\\\\\\\b"}},
    {"^a/b$", {"a/b", "a\\/b"}, {"a\\\\/b"}},
    {"^\\n$", {"\\n", "\\u000a", "\\u000A"}, {"\n", "n", "\\\\n"}},
    {"^\\t\\r\\f\\x08$", {"\\t\\r\\f\\b", "\\u0009\\u000D\\u000c\\u0008"}, {"\t\r\f\b"}},
    {"^\\x01\\x1f$", {"\\u0001\\u001f", "\\u0001\\u001F"}, {"\x01\x1f", "\\x01\\x1f", "\\u0001\\u0020"}},
    {"^\\x7f$", {"\x7f"}, {"\\u007f"}},
    {"^[\\s]+$", {" ", "\\t\\n", "\\u000b", "\\f\\r", "\xC2\xA0"}, {"\t", "\n", "\\v", "\\u0020"}},
    {"^.+$", {"a", "\\\"", "\\\\", "\\/", "\\t", "\\u0000", "\xF0\x9F\x98\x80"},
     {"\\n", "\\r", "\"", "\\", "\n", "\\u000a", "\\x"}},
    {"^[^a]$", {"\\\"", "\\\\", "\\n", "\\u0000", "/", "\\/"}, {"a", "\"", "\\", "\\u0061"}},
    {"abc", {"abc", "\\\"abc\\\"", "\\nabc", "x\\\\abc\\/"}, {"ab", "\"abc", "\\abc", "\\qabc"}},
    {"^[\"]$", {"\\\""}, {"\""}},
};

class RegexJsonTest : public ::testing::TestWithParam<Case> {};

TEST_P(RegexJsonTest, AcceptsAndRejects) {
  const Case& c = GetParam();
  check(json_regex(c.pattern), c);
}

INSTANTIATE_TEST_SUITE_P(Patterns, RegexJsonTest, ::testing::ValuesIn(kJsonCases));

TEST(RegexJsonUnicodeEscapes, AcceptsEveryEscapeSpelling) {
  const Case c = {"^[a-c\\u00e9\\u4e00-\\u4e0f\\u{1F600}-\\u{1F64F}\"]+$",
                  {"abc", "\\u0061\\u0062\\u0063", "a\\u0062",
                   "\xC3\xA9\\u00e9\\u00E9", "\xE4\xB8\x80\\u4e00\\u4E0F", "\xF0\x9F\x98\x80\\ud83d\\ude00\\uD83D\\uDE4F",
                   "\\\"\\u0022"},
                  {"\\u0041", "\\u00e8", "\\u4e10", "\\ud83d\\ude50", "\\ud83d", "\\ude00", "\\u006", "\"", "d"}};
  check(json_regex(c.pattern, /*unicode_escapes=*/true), c);
}

TEST(RegexJsonUnicodeEscapes, OffByDefault) {
  Grammar g = json_regex("^a$");
  EXPECT_TRUE(recognizes(g, "a"));
  EXPECT_FALSE(recognizes(g, "\\u0061"));
}

// ---- errors: unsupported constructs and malformed patterns, each with its column ----

struct ErrorCase {
  std::string pattern;
  std::string location;  // "1:column"
  std::string message_part;
  bool limit = false;  // a LimitError rather than a plain GrammarError
};
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.pattern; }

const std::vector<ErrorCase> kErrorCases = {
    {"^(a)\\1$", "1:5", "backreferences"},
    {"(?<n>a)\\k<n>", "1:8", "named backreferences"},
    {"a(?=b)", "1:2", "lookahead"},
    {"a(?!b)", "1:2", "lookahead"},
    {"(?<=a)b", "1:1", "lookbehind"},
    {"(?<!a)b", "1:1", "lookbehind"},
    {"\\bword\\b", "1:1", "word boundaries"},
    {"a\\Bb", "1:2", "word boundaries"},
    {"a^b", "1:2", "'^' is only supported"},
    {"a$b", "1:2", "'$' is only supported"},
    {"(^a)*", "1:2", "'^' is only supported"},
    {"x(^a|b)", "1:3", "'^' is only supported"},
    {"(a|b$)c", "1:5", "'$' is only supported"},
    {"\\p{L}", "1:1", "unicode property escapes"},
    {"[\\P{Lu}]", "1:2", "unicode property escapes"},
    {"(?i)abc", "1:1", "unsupported group syntax"},
    {"(?P<name>a)", "1:1", "unsupported group syntax"},
    {"a++", "1:3", "possessive"},
    {"a{2}+", "1:5", "possessive"},
    {"a**", "1:3", "nothing to repeat"},
    {"*a", "1:1", "nothing to repeat"},
    {"a|+", "1:3", "nothing to repeat"},
    {"({2})", "1:2", "nothing to repeat"},
    {"^*", "1:2", "anchor cannot be quantified"},
    {"a{3,2}", "1:2", "out of order"},
    {"[z-a]", "1:2", "range out of order"},
    {"(ab", "1:1", "missing ')'"},
    {"ab)", "1:3", "unmatched ')'"},
    {"[ab", "1:1", "missing ']'"},
    {"ab\\", "1:3", "at the end of the pattern"},
    {"\\x4", "1:1", "two hex digits"},
    {"\\u12", "1:1", "four hex digits"},
    {"\\u{110000}", "1:1", "above U+10FFFF"},
    {"\\u{}", "1:1", "malformed"},
    {"\\cé", "1:1", "needs a letter"},
    {"\\01", "1:1", "octal"},
    {"[\\1]", "1:2", "octal"},
    {"\\z", "1:1", "unknown escape '\\z'"},
    {"\\A", "1:1", "unknown escape '\\A'"},
    {"[[:alpha:]]", "1:2", "POSIX"},
    {"(?<>a)", "1:4", "empty group name"},
    {"(?<a-b>a)", "1:5", "invalid character in group name"},
    {"\xC3(", "1:1", "not valid UTF-8"},
    {"é\xFF", "1:2", "not valid UTF-8"},
    {"a{10001}", "1:2", "kMaxRegexRepeat", true},
    {"a{1,99999999999999999999}", "1:2", "kMaxRegexRepeat", true},
    {std::string(101, '(') + std::string(101, ')'), "1:101", "kMaxRegexDepth", true},
};

class RegexErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(RegexErrorTest, ThrowsWithLocation) {
  const ErrorCase& c = GetParam();
  try {
    parse_regex(c.pattern);
    ADD_FAILURE() << "no error for " << c.pattern;
  } catch (const LimitError& e) {
    EXPECT_TRUE(c.limit) << "unexpected LimitError: " << e.what();
    EXPECT_EQ(e.location(), c.location) << e.what();
    EXPECT_NE(e.message().find(c.message_part), std::string::npos) << e.what();
  } catch (const GrammarError& e) {
    EXPECT_FALSE(c.limit) << "expected a LimitError, got: " << e.what();
    EXPECT_EQ(e.location(), c.location) << e.what();
    EXPECT_NE(e.message().find(c.message_part), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Patterns, RegexErrorTest, ::testing::ValuesIn(kErrorCases));

TEST(RegexParser, DepthLimitIsExact) {
  // kMaxRegexDepth groups nest fine; one more is a LimitError.
  Grammar g = parse_regex("^" + std::string(100, '(') + "a" + std::string(100, ')') + "$");
  EXPECT_TRUE(recognizes(g, "a"));
  EXPECT_NO_THROW(parse_regex("a{10000}"));
}

TEST(RegexParser, NeverCrashesOnGarbage) {
  // Every prefix of a pattern full of syntax either parses or throws a stencil::Error.
  const std::string nasty = "^(?:[\\]a-\\u{10FFFF}]|(?<n>x{2,}?)|\\cA\\x{|\\u{1F6|[^-]){0,3}$)";
  for (size_t i = 0; i <= nasty.size(); ++i) {
    try {
      parse_regex(nasty.substr(0, i));
    } catch (const Error&) {
    }
  }
}

}  // namespace
}  // namespace stencil::grammar
