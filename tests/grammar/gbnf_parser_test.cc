// Tests of parse_gbnf: grammar text -> printed IR (golden), and every error with its
// message and line:column. The goldens go through print_gbnf, so they also pin down the
// printer's canonical form; gbnf_printer_test.cc covers IR the parser never produces.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "stencil/errors.h"

namespace stencil::grammar {
namespace {

struct GoldenCase {
  std::string name;
  std::string text;
  std::string printed;
};
void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.name; }

class GbnfParseGolden : public testing::TestWithParam<GoldenCase> {};

TEST_P(GbnfParseGolden, PrintsExpectedIr) {
  const GoldenCase& c = GetParam();
  EXPECT_EQ(print_gbnf(parse_gbnf(c.text)), c.printed);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GbnfParseGolden,
    testing::Values(
        GoldenCase{"literal", R"(root ::= "a")", "root ::= \"a\"\n"},
        GoldenCase{"no_spaces", R"(root::="a"|"b")", "root ::= \"a\" | \"b\"\n"},
        GoldenCase{"choice_of_sequences", R"(root ::= "a" | "b" "c")", "root ::= \"a\" | \"b\" \"c\"\n"},
        GoldenCase{"group_in_sequence", R"(root ::= ("a" | "b") "c")", "root ::= (\"a\" | \"b\") \"c\"\n"},
        GoldenCase{"group_repeated", R"(root ::= ("a" "b")*)", "root ::= (\"a\" \"b\")*\n"},
        GoldenCase{"redundant_parentheses", R"(root ::= (("a")) ("b" "c") "d")", "root ::= \"a\" \"b\" \"c\" \"d\"\n"},
        GoldenCase{"postfix_operators", R"(root ::= "a"* "b"+ "c"? .*)", "root ::= \"a\"* \"b\"+ \"c\"? .*\n"},
        GoldenCase{"chained_postfix", R"(root ::= "a"*? "b"+{2})", "root ::= (\"a\"*)? (\"b\"+){2}\n"},
        GoldenCase{"braces",
                   R"(root ::= "a"{3} "b"{2,} "c"{2,5} "d"{,4} "e"{0,1} "f"{1,} "g"{0,} "h"{1} "i"{0} "j"{ 2 , 3 })",
                   "root ::= \"a\"{3} \"b\"{2,} \"c\"{2,5} \"d\"{0,4} \"e\"? \"f\"+ \"g\"* \"h\" \"j\"{2,3}\n"},
        GoldenCase{"char_classes", R"(root ::= [a-zA-Z_] [^0-9] [-a] [a-] [\]\[\\] [\x41-\x43] [ab] [+-])",
                   "root ::= [A-Z_a-z] [^0-9] [-a] [-a] [\\[-\\]] [A-C] [ab] [+-]\n"},
        GoldenCase{"class_with_dash_inside", R"(root ::= [+\--/])", "root ::= [+\\x2D-/]\n"},
        GoldenCase{"class_starting_with_caret", R"(root ::= [a^])", "root ::= [\\x5Ea]\n"},
        GoldenCase{"negated_string_char_class", R"(root ::= [^"\\\x00-\x1F])", "root ::= [^\\x00-\\x1F\"\\\\]\n"},
        GoldenCase{"any_char", R"(root ::= . [^] [\x00-\U0010FFFF])", "root ::= . . .\n"},
        GoldenCase{"empty_class", R"(root ::= "a" | [])", "root ::= \"a\" | []\n"},
        GoldenCase{"literal_escapes", R"(root ::= "\x41\u00e9\U0001F600\t\r\n\"\\\[\]\-")",
                   "root ::= \"A\xC3\xA9\xF0\x9F\x98\x80\\t\\r\\n\\\"\\\\[]-\"\n"},
        GoldenCase{"invisible_chars_escaped", R"(root ::= "\x00\x1f\x7f\u0085\u00ad\u200b\uFEFF")",
                   "root ::= \"\\x00\\x1F\\x7F\\x85\\xAD\\u200B\\uFEFF\"\n"},
        GoldenCase{"utf8_text", "root ::= \"\xE6\x97\xA5\xE6\x9C\xAC\" [\xC3\xA0-\xC3\xBF]",
                   "root ::= \"\xE6\x97\xA5\xE6\x9C\xAC\" [\xC3\xA0-\xC3\xBF]\n"},
        GoldenCase{"class_code_point_escapes", R"(root ::= [\u0100-\U0001FFFF])",
                   "root ::= [\xC4\x80-\xF0\x9F\xBF\xBF]\n"},
        GoldenCase{"comments_and_blank_lines",
                   "# leading comment\n\nroot ::= a # trailing\n  # a comment line\n\na ::= (\n  \"x\" # inside\n  | "
                   "\"y\"\n) \"z\"\n",
                   "root ::= a\na ::= (\"x\" | \"y\") \"z\"\n"},
        GoldenCase{"newline_after_bar", "root ::= \"a\" |\n  \"b\" |\n\n  \"c\"", "root ::= \"a\" | \"b\" | \"c\"\n"},
        GoldenCase{"newline_after_definition_sign", "root ::=\n  \"a\"", "root ::= \"a\"\n"},
        GoldenCase{"crlf_line_endings", "root ::= a\r\na ::= \"x\"\r\n", "root ::= a\na ::= \"x\"\n"},
        GoldenCase{"raw_newline_in_literal", "root ::= \"a\nb\"", "root ::= \"a\\nb\"\n"},
        GoldenCase{"forward_references_print_top_down", "b ::= \"b\"\nunused ::= \"u\"\nroot ::= a b\na ::= \"a\"\n",
                   "root ::= a b\na ::= \"a\"\nb ::= \"b\"\nunused ::= \"u\"\n"},
        GoldenCase{"empty_alternatives", "root ::= \"a\" | \"\" | ()", "root ::= \"a\" | \"\" | \"\"\n"},
        GoldenCase{"empty_rule", "root ::=", "root ::= \"\"\n"},
        GoldenCase{"leading_empty_alternative", "root ::= | \"a\"", "root ::= \"\" | \"a\"\n"},
        GoldenCase{"rule_names", "root ::= my_rule-2 Rule9\nmy_rule-2 ::= \"x\"\nRule9 ::= \"y\"",
                   "root ::= my_rule-2 Rule9\nmy_rule-2 ::= \"x\"\nRule9 ::= \"y\"\n"},
        GoldenCase{"right_recursion", "root ::= \"a\" root | \"b\"", "root ::= \"a\" root | \"b\"\n"},
        GoldenCase{"byte_class_extension", R"(root ::= %[\x80-\xBF] %[^a] %[\x00-\x7F\xC0-\xFF])",
                   "root ::= %[\\x80-\\xBF] %[^a] %[^\\x80-\\xBF]\n"},
        GoldenCase{"llama_cpp_style_multiline_rules",
                   "# a llama.cpp-style grammar: continuation lines only inside parentheses\n"
                   "root ::= obj\n"
                   "obj ::=\n"
                   "  \"{\" sp (\n"
                   "      str \":\" sp\n"
                   "    (\",\" sp str)*  # more\n"
                   "  )? \"}\" sp\n"
                   "str ::=\n"
                   "  \"\\\"\" (\n"
                   "    [^\"\\\\\\x7F\\x00-\\x1F] |\n"
                   "    \"\\\\\" ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4}) # escapes\n"
                   "  )* \"\\\"\" sp\n"
                   "sp ::= | \" \" | \"\\n\" [ \\t]{0,20}\n",
                   "root ::= obj\n"
                   "obj ::= \"{\" sp (str \":\" sp (\",\" sp str)*)? \"}\" sp\n"
                   "sp ::= \"\" | \" \" | \"\\n\" [\\t ]{0,20}\n"
                   "str ::= \"\\\"\" ([^\\x00-\\x1F\"\\\\\\x7F] | \"\\\\\" ([\"\\\\bfnrt] | \"u\" [0-9A-Fa-f]{4}))* "
                   "\"\\\"\" sp\n"},
        GoldenCase{"nested_choice_in_repeat", R"(root ::= ("a" ("b" | "c")+)? "d")",
                   "root ::= (\"a\" (\"b\" | \"c\")+)? \"d\"\n"}),
    [](const testing::TestParamInfo<GoldenCase>& info) { return info.param.name; });

TEST(GbnfParse, OtherRootName) {
  Grammar g = parse_gbnf("item ::= \"x\"\nstart ::= item+\n", "start");
  EXPECT_EQ(g.rule(g.root()).name, "start");
  EXPECT_EQ(print_gbnf(g), "start ::= item+\nitem ::= \"x\"\n");
}

TEST(GbnfParse, BuildsExpectedIrShapes) {
  Grammar g = parse_gbnf(R"(root ::= "ab" [^a] . %[\x80] x{2,3}
x ::= "")");
  const Expr& body = g.expr(g.rule(g.root()).body);
  ASSERT_EQ(body.kind, ExprKind::kSequence);
  ASSERT_EQ(body.children.size(), 5u);
  EXPECT_EQ(g.expr(body.children[0]).kind, ExprKind::kLiteral);
  EXPECT_EQ(g.expr(body.children[0]).bytes, "ab");
  EXPECT_EQ(g.expr(body.children[1]).kind, ExprKind::kCharClass);
  EXPECT_EQ(g.expr(body.children[1]).ranges, (std::vector<Range>{{0, 0x60}, {0x62, kMaxCodepoint}}));
  EXPECT_EQ(g.expr(body.children[2]).ranges, (std::vector<Range>{{0, kMaxCodepoint}}));
  EXPECT_EQ(g.expr(body.children[3]).kind, ExprKind::kByteClass);
  EXPECT_EQ(g.expr(body.children[3]).ranges, (std::vector<Range>{{0x80, 0x80}}));
  const Expr& rep = g.expr(body.children[4]);
  ASSERT_EQ(rep.kind, ExprKind::kRepeat);
  EXPECT_EQ(rep.min, 2);
  EXPECT_EQ(rep.max, 3);
  EXPECT_EQ(g.expr(rep.children[0]).kind, ExprKind::kRuleRef);
  EXPECT_EQ(g.rule(g.expr(rep.children[0]).rule).name, "x");
  EXPECT_EQ(g.expr(g.rule(g.find_rule("x")).body).kind, ExprKind::kEmpty);
}

TEST(GbnfParse, HexEscapesAreCodePointsEncodedAsUtf8) {
  Grammar g = parse_gbnf(R"(root ::= "\x80\xFF\u20AC\U0001F600")");
  EXPECT_EQ(g.expr(g.rule(g.root()).body).bytes, "\xC2\x80\xC3\xBF\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST(GbnfParse, DeepNestingWithinTheLimit) {
  const std::string text = "root ::= " + std::string(1000, '(') + "\"a\"" + std::string(1000, ')');
  EXPECT_EQ(print_gbnf(parse_gbnf(text)), "root ::= \"a\"\n");
}

struct ErrorCase {
  std::string name;
  std::string text;
  std::string location;
  std::string message;
};
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class GbnfParseError : public testing::TestWithParam<ErrorCase> {};

TEST_P(GbnfParseError, ReportsMessageAndLocation) {
  const ErrorCase& c = GetParam();
  try {
    parse_gbnf(c.text);
    FAIL() << "no error for: " << c.text;
  } catch (const GrammarError& e) {
    EXPECT_EQ(e.location(), c.location);
    EXPECT_EQ(e.message(), c.message);
    EXPECT_EQ(std::string(e.what()), c.location + ": " + c.message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GbnfParseError,
    testing::Values(
        ErrorCase{"missing_definition_sign", R"(root "a")", "1:6", "expected '::=' after rule name 'root', found '\"'"},
        ErrorCase{"missing_rule_name", R"(::= "a")", "1:1", "expected a rule name, found ':'"},
        ErrorCase{"continuation_line_without_bar", "root ::= \"a\"\n  \"b\"", "2:3",
                  "expected a rule name, found '\"'"},
        ErrorCase{"unterminated_literal", "root ::= \"abc", "1:10", "unterminated string literal"},
        ErrorCase{"unterminated_literal_across_lines", "root ::= \"a\nb ::= \"c\"", "2:9",
                  "unterminated string literal"},
        ErrorCase{"unterminated_class", "root ::= [abc", "1:10", "unterminated character class"},
        ErrorCase{"unterminated_byte_class", "root ::= %[\\x80", "1:10", "unterminated byte class"},
        ErrorCase{"undefined_rule", "root ::= \"a\" foo", "1:14", "undefined rule 'foo'"},
        ErrorCase{"undefined_rule_first_reference", "root ::= a\na ::= bar\nb ::= foo bar", "2:7",
                  "undefined rule 'bar'"},
        ErrorCase{"column_counts_code_points", "root ::= \"\xC3\xA9\" foo", "1:14", "undefined rule 'foo'"},
        ErrorCase{"no_root", "a ::= \"x\"", "1:1", "no rule named 'root'"},
        ErrorCase{"empty_text", "", "1:1", "no rule named 'root'"},
        ErrorCase{"only_comments", "# nothing\n", "1:1", "no rule named 'root'"},
        ErrorCase{"defined_twice", "root ::= \"a\"\nroot ::= \"b\"", "2:1", "rule 'root' defined twice (first at 1:1)"},
        ErrorCase{"unclosed_parenthesis", "root ::= (\"a\"", "1:14",
                  "expected ')' to close the '(' at 1:10, found end of input"},
        ErrorCase{"unmatched_parenthesis", "root ::= \"a\")", "1:13", "unmatched ')'"},
        ErrorCase{"junk_after_expression", "root ::= \"a\" ::= \"b\"", "1:14",
                  "expected an expression, '|', or the end of the line, found ':'"},
        ErrorCase{"postfix_without_item", "root ::= *", "1:10", "expected an item before '*'"},
        ErrorCase{"postfix_after_bar", "root ::= \"a\" | +", "1:16", "expected an item before '+'"},
        ErrorCase{"braces_without_item", "root ::= {2}", "1:10", "expected an item before '{'"},
        ErrorCase{"repetition_max_below_min", "root ::= \"a\"{3,2}", "1:13",
                  "repetition maximum 2 is less than its minimum 3"},
        ErrorCase{"repetition_not_a_number", "root ::= \"a\"{x}", "1:14",
                  "expected a number in the repetition, found 'x'"},
        ErrorCase{"repetition_bad_max", "root ::= \"a\"{2,x}", "1:16",
                  "expected '}' to close the repetition, found 'x'"},
        ErrorCase{"repetition_unclosed", "root ::= \"a\"{2", "1:15",
                  "expected ',' or '}' in the repetition, found end of input"},
        ErrorCase{"repetition_only_comma", "root ::= \"a\"{,}", "1:15", "expected a number after '{,', found '}'"},
        ErrorCase{"unknown_escape", "root ::= \"\\q\"", "1:11", "unknown escape '\\q'"},
        ErrorCase{"unknown_escape_control", "root ::= \"\\\x01\"", "1:11",
                  "unknown escape: '\\' followed by byte 0x01"},
        ErrorCase{"escape_at_end", "root ::= \"\\", "1:11", "expected an escape after '\\', found end of input"},
        ErrorCase{"short_hex_escape", "root ::= \"\\x4\"", "1:14", "expected 2 hex digits after '\\x', found '\"'"},
        ErrorCase{"short_unicode_escape", "root ::= [\\u12G4]", "1:15", "expected 4 hex digits after '\\u', found 'G'"},
        ErrorCase{"escape_above_max", "root ::= \"\\U00110000\"", "1:11", "code point escape is above U+10FFFF"},
        ErrorCase{"surrogate_in_literal", "root ::= \"a\\uD800\"", "1:12",
                  "a surrogate code point cannot appear in a string literal"},
        ErrorCase{"reversed_range", "root ::= \"x\" [z-a]", "1:15", "range end is below its start"},
        ErrorCase{"invalid_utf8_in_literal", "root ::= \"\xFF\"", "1:11", "invalid UTF-8"},
        ErrorCase{"invalid_utf8_in_class", "root ::= [\xC3]", "1:11", "invalid UTF-8"},
        ErrorCase{"stray_byte_outside_literal", "root ::= \"a\" \xFF", "1:14",
                  "expected an expression, '|', or the end of the line, found byte 0xFF"},
        ErrorCase{"byte_class_with_code_point", "root ::= %[\\u0100]", "1:12",
                  "a byte class '%[...]' takes bytes (\\x00-\\xFF), not code points"},
        ErrorCase{"byte_class_with_raw_non_ascii", "root ::= %[\xC3\xA9]", "1:12",
                  "a byte class '%[...]' takes ASCII characters or \\xNN escapes, found '\xC3\xA9'"},
        ErrorCase{"token_reference", "root ::= <|eot_id|>", "1:10", "token references ('<...>') are not supported"},
        ErrorCase{"empty_language_right_recursion", "root ::= x\nx ::= \"a\" x", "2:1",
                  "rule 'x' cannot derive any finite string (its language is empty)"},
        ErrorCase{"empty_language_only_empty_class", "root ::= []", "1:1",
                  "rule 'root' cannot derive any finite string (its language is empty)"},
        ErrorCase{"empty_language_surrogate_class", "root ::= [\\uD800-\\uDFFF]", "1:1",
                  "rule 'root' cannot derive any finite string (its language is empty)"},
        ErrorCase{"empty_language_unused_rule", "root ::= \"a\"\nloop ::= \"b\" loop", "2:1",
                  "rule 'loop' cannot derive any finite string (its language is empty)"},
        ErrorCase{"left_recursion_direct", "root ::= root \"a\" | \"b\"", "1:1",
                  "rule 'root' is left-recursive (root -> root); the engine parses top-down: rewrite it with "
                  "repetition, e.g. 'list ::= item (\",\" item)*'"},
        ErrorCase{"left_recursion_indirect", "root ::= a\na ::= b \"x\" | \"y\"\nb ::= a \"z\"", "2:1",
                  "rule 'a' is left-recursive (a -> b -> a); the engine parses top-down: rewrite it with "
                  "repetition, e.g. 'list ::= item (\",\" item)*'"},
        ErrorCase{"left_recursion_through_nullable_prefix", "root ::= e \"a\"* root \"x\" | \"y\"\ne ::= \"q\"?", "1:1",
                  "rule 'root' is left-recursive (root -> root); the engine parses top-down: rewrite it with "
                  "repetition, e.g. 'list ::= item (\",\" item)*'"},
        ErrorCase{"left_recursion_inside_repeat", "root ::= (root \"x\")* \"y\"", "1:1",
                  "rule 'root' is left-recursive (root -> root); the engine parses top-down: rewrite it with "
                  "repetition, e.g. 'list ::= item (\",\" item)*'"}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(GbnfParseLimits, NestingTooDeepIsALimitError) {
  const std::string text = "root ::= " + std::string(1001, '(') + "\"a\"" + std::string(1001, ')');
  try {
    parse_gbnf(text);
    FAIL() << "no error";
  } catch (const LimitError& e) {
    EXPECT_EQ(e.location(), "1:1010");
    EXPECT_EQ(e.message(), "parentheses nested deeper than kMaxNestingDepth (1000)");
  }
}

TEST(GbnfParseLimits, HugeRepetitionCountIsALimitError) {
  try {
    parse_gbnf("root ::= \"a\"{99999999999999999999}");
    FAIL() << "no error";
  } catch (const LimitError& e) {
    EXPECT_EQ(e.location(), "1:14");
    EXPECT_EQ(e.message(), "repetition count exceeds kMaxRepetitionCount (1000000)");
  }
}

TEST(GbnfParseLimits, LargestRepetitionCountIsAccepted) {
  EXPECT_EQ(print_gbnf(parse_gbnf("root ::= \"a\"{0,1000000}")), "root ::= \"a\"{0,1000000}\n");
}

// Every prefix of a valid grammar, and every single-byte corruption of it, either parses or
// throws a stencil::Error: never a crash, never another exception type.
TEST(GbnfParseRobustness, PrefixesAndCorruptionsNeverCrash) {
  const std::string text =
      "root ::= ws (obj | \"x\"{2,3})* # c\nobj ::= \"{\" [^\"\\\\\\x00-\\x1F] %[\\x80-\\xBF]? \"\\u00e9\" \"}\"\nws "
      "::= [ \\t]{0,4}\n";
  ASSERT_NO_THROW(parse_gbnf(text));
  const std::string specials = "()[]{}\"\\|*+?.,:=#^-%<\n \x80\xFF";
  int errors = 0;
  for (size_t n = 0; n <= text.size(); ++n) {
    try {
      parse_gbnf(text.substr(0, n));
    } catch (const Error&) {
      ++errors;
    }
  }
  for (size_t i = 0; i < text.size(); ++i) {
    for (char c : specials) {
      std::string corrupt = text;
      corrupt[i] = c;
      try {
        parse_gbnf(corrupt);
      } catch (const Error&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace stencil::grammar
