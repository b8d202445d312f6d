// Tests of print_gbnf on IR that the GBNF parser never produces (byte classes, literals that
// are not UTF-8, rule names that are not GBNF names, undefined rules, no root), and round trips:
// parse -> print -> parse -> print is a fixed point for every file in grammars/ and for a set
// of tricky grammars, and the reparsed grammar recognizes the same strings.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/recognizer.h"
#include "grammar/utf8.h"

namespace stencil::grammar {
namespace {

RuleId define(Grammar& g, std::string_view name, ExprId body) {
  const RuleId r = g.declare_rule(name);
  g.define_rule(r, body);
  return r;
}

struct PrintCase {
  std::string name;
  std::function<void(Grammar&)> build;  // sets the root unless the case is about no root
  std::string printed;
  // Strings the grammar (and so its printed-and-reparsed form) accepts and rejects.
  std::vector<std::string> accept;
  std::vector<std::string> reject;
};
void PrintTo(const PrintCase& c, std::ostream* os) { *os << c.name; }

std::vector<PrintCase> print_cases() {
  return {
      {"byte_classes",
       [](Grammar& g) {
         g.set_root(define(g, "root",
                           g.sequence({g.byte_class({{0xC0, 0xDF}}), g.byte_class({{0x80, 0xBF}}),
                                       g.byte_class({{0x00, 0x00}}, /*negated=*/true)})));
       },
       "root ::= %[\\xC0-\\xDF] %[\\x80-\\xBF] %[^\\x00]\n",
       {"\xC3\xA9z", "\xDF\xBF\xFF"},
       {"\xC3\xA9", "\xC3\xA9\x00", "\x80\x80z"}},
      {"byte_class_specials",
       [](Grammar& g) {
         g.set_root(define(g, "root",
                           g.choice({g.byte_class({{'-', '-'}, {'^', '^'}, {']', ']'}, {'\\', '\\'}}), g.byte_class({}),
                                     g.byte_class({{0, 0xFF}})})));
       },
       "root ::= %[-\\\\-^] | %[] | %[^]\n",
       {"-", "^", "]", "\\", "\xFF", "a"},
       {"", "ab"}},
      {"literal_with_invalid_utf8",
       [](Grammar& g) {
         g.set_root(
             define(g, "root", g.sequence({g.literal("a\xFF\xC3"), g.star(g.literal("\xE9x")), g.literal("\x80")})));
       },
       "root ::= \"a\" %[\\xFF] %[\\xC3] (%[\\xE9] \"x\")* %[\\x80]\n",
       {"a\xFF\xC3\x80", "a\xFF\xC3\xE9x\xE9x\x80"},
       {"a\xFF\xC3", "a\xFF\xC3\xE9\x80", "a\xC3\xBF\xC3\x83\xC2\x80"}},
      {"surrogates_and_high_code_points",
       [](Grammar& g) {
         g.set_root(define(
             g, "root",
             g.sequence({g.char_class({{0xD800, 0xDFFF}, {0x10000, 0x10FFFF}}), g.literal("\xF4\x8F\xBF\xBF")})));
       },
       "root ::= [^\\x00-\xED\x9F\xBF\\uE000-\\uFFFF] \"\\U0010FFFF\"\n",
       {"\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"},
       {"\xED\xA0\x80\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"}},
      {"nested_repeats_and_groups",
       [](Grammar& g) {
         const ExprId a = g.literal("a");
         const ExprId ab = g.choice({a, g.literal("b")});
         g.set_root(define(g, "root",
                           g.sequence({g.optional(g.star(a)), g.repeat(ab, 2, 3),
                                       g.plus(g.sequence({a, g.literal("c")})), g.repeat(a, 2, kUnbounded)})));
       },
       "root ::= (\"a\"*)? (\"a\" | \"b\"){2,3} (\"a\" \"c\")+ \"a\"{2,}\n",
       {"abacaa", "aaabbbacacaaa"},
       {"abaca", "abacaaaab", "aaaabaca"}},
      {"choice_inside_sequence_inside_choice",
       [](Grammar& g) {
         const ExprId inner = g.choice({g.literal("x"), g.empty()});
         g.set_root(define(g, "root", g.choice({g.sequence({g.literal("a"), inner}), g.literal("b")})));
       },
       "root ::= \"a\" (\"x\" | \"\") | \"b\"\n",
       {"a", "ax", "b"},
       {"bx", "x", ""}},
      {"mangled_rule_names",
       [](Grammar& g) {
         const RuleId weird = define(g, "my rule", g.literal("1"));
         const RuleId taken = define(g, "my-rule", g.literal("2"));
         const RuleId empty_name = define(g, "", g.literal("3"));
         g.set_root(define(g, "root", g.sequence({g.rule_ref(weird), g.rule_ref(taken), g.rule_ref(empty_name)})));
       },
       "root ::= my-rule-2 my-rule rule\nmy-rule-2 ::= \"1\"\nmy-rule ::= \"2\"\nrule ::= \"3\"\n",
       {"123"},
       {"12", "213"}},
      {"root_printed_first_then_references_then_unreferenced",
       [](Grammar& g) {
         const RuleId unused = define(g, "unused", g.literal("u"));
         const RuleId b = define(g, "b", g.literal("b"));
         const RuleId a = g.declare_rule("a");
         g.define_rule(a, g.sequence({g.literal("a"), g.rule_ref(b)}));
         g.set_root(define(g, "root", g.sequence({g.rule_ref(a), g.rule_ref(a)})));
         (void)unused;
       },
       "root ::= a a\na ::= \"a\" b\nb ::= \"b\"\nunused ::= \"u\"\n",
       {"abab"},
       {"ab", "u"}},
      {"escapes_in_literal_and_class",
       [](Grammar& g) {
         g.set_root(define(
             g, "root",
             g.sequence({g.literal("\"\\\n\r\t\x01\x7F[]-^"), g.char_class({{'[', ']'}, {'\t', '\n'}, {'"', '"'}})})));
       },
       "root ::= \"\\\"\\\\\\n\\r\\t\\x01\\x7F[]-^\" [\\t\\n\"\\[-\\]]\n",
       {"\"\\\n\r\t\x01\x7F[]-^]", "\"\\\n\r\t\x01\x7F[]-^\t"},
       {"\"\\\n\r\t\x01\x7F[]-^a"}},
  };
}

class GbnfPrint : public testing::TestWithParam<PrintCase> {};

TEST_P(GbnfPrint, PrintsGoldenAndReparsesToTheSameLanguage) {
  const PrintCase& c = GetParam();
  Grammar g;
  c.build(g);
  const std::string printed = print_gbnf(g);
  EXPECT_EQ(printed, c.printed);
  Grammar reparsed = parse_gbnf(printed, "root");
  EXPECT_EQ(print_gbnf(reparsed), printed) << "not a fixed point";
  for (const std::string& s : c.accept) {
    EXPECT_TRUE(recognizes(g, s)) << "original rejects: " << testing::PrintToString(s);
    EXPECT_TRUE(recognizes(reparsed, s)) << "reparsed rejects: " << testing::PrintToString(s);
  }
  for (const std::string& s : c.reject) {
    EXPECT_FALSE(recognizes(g, s)) << "original accepts: " << testing::PrintToString(s);
    EXPECT_FALSE(recognizes(reparsed, s)) << "reparsed accepts: " << testing::PrintToString(s);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, GbnfPrint, testing::ValuesIn(print_cases()),
                         [](const testing::TestParamInfo<PrintCase>& info) { return info.param.name; });

TEST(GbnfPrintOther, UndefinedRuleIsACommentLine) {
  Grammar g;
  const RuleId missing = g.declare_rule("missing");
  g.set_root(define(g, "root", g.rule_ref(missing)));
  EXPECT_EQ(print_gbnf(g), "root ::= missing\n# rule 'missing' is declared but not defined\n");
}

TEST(GbnfPrintOther, WithoutRootPrintsRulesInIdOrder) {
  Grammar g;
  define(g, "b", g.literal("b"));
  define(g, "a", g.star(g.char_class({{'a', 'z'}})));
  EXPECT_EQ(print_gbnf(g), "b ::= \"b\"\na ::= [a-z]*\n");
}

TEST(GbnfPrintOther, SharedSubexpressionsPrintOnceAsRules) {
  // The tails of 40 optional members, each used twice (as in a JSON object's member list):
  // printed as a tree this would be 2^40 copies of the last member.
  Grammar g;
  ExprId tail = g.literal("}");
  for (int i = 39; i >= 0; --i) {
    const ExprId member = g.sequence({g.literal(",\"k" + std::to_string(i) + "\":"), g.char_class({{'0', '9'}})});
    tail = g.choice({g.sequence({member, tail}), tail});
  }
  g.set_root(define(g, "root", g.sequence({g.literal("{"), tail})));
  const std::string printed = print_gbnf(g);
  EXPECT_LT(printed.size(), 40000u);  // linear: ~570 bytes a member (a tree would be 2^40 copies)
  EXPECT_NE(printed.find("shared-1 ::= "), std::string::npos) << printed.substr(0, 400);
  Grammar reparsed = parse_gbnf(printed, "root");
  EXPECT_EQ(print_gbnf(reparsed), printed) << "not a fixed point";
  for (const Grammar* x : {&g, &reparsed}) {
    EXPECT_TRUE(recognizes(*x, "{}"));
    EXPECT_TRUE(recognizes(*x, "{,\"k0\":1,\"k39\":2}"));
    EXPECT_FALSE(recognizes(*x, "{,\"k39\":2,\"k0\":1}"));  // order kept
    EXPECT_FALSE(recognizes(*x, "{,\"k40\":2}"));
  }
  // Small shared pieces are still copied: the usual output does not change.
  Grammar small;
  const ExprId ab = small.sequence({small.literal("a"), small.char_class({{'b', 'c'}})});
  small.set_root(define(small, "root", small.choice({small.sequence({ab, small.literal("x")}), ab})));
  EXPECT_EQ(print_gbnf(small), "root ::= \"a\" [bc] \"x\" | \"a\" [bc]\n");
}

TEST(GbnfPrintOther, DeepIrPrintsWithoutRecursion) {
  // 100000 nested optional groups: the printer must not recurse per level.
  Grammar g;
  ExprId e = g.literal("a");
  for (int i = 0; i < 100000; ++i) e = g.sequence({g.literal("x"), g.optional(e)});
  g.set_root(define(g, "root", e));
  const std::string printed = print_gbnf(g);
  EXPECT_EQ(printed.substr(0, 22), "root ::= \"x\" (\"x\" (\"x\"");
  // "root ::= " + 99999 x ('"x" (' + ')?') + '"x" "a"?' + "\n"
  EXPECT_EQ(printed.size(), 9 + 99999 * 7 + 8 + 1);
}

// Grammars beyond grammars/ whose round trip is worth pinning.
const char* const kTrickyGrammars[] = {
    R"(root ::= "a"*? ("b" | "c"+){2,} [^\]\[\\-] . %[\x00-\x1F\x80-\xFF] "\u00e9\x00\t"{,3})",
    "root ::= (\n  a | b # comment\n)+\na ::= [+\\--/] [-a] [a^]\nb ::= \"\" | \"\\\"\"\n",
    "root ::= x y\ny ::= [\\uD7FF-\\uE000] [\\U00010000-\\U0010FFFF]\nx ::= \"\\r\\n\" | \"\"",
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_round_trip(const std::string& text, const std::string& what) {
  SCOPED_TRACE(what);
  const Grammar first = parse_gbnf(text);
  const std::string printed = print_gbnf(first);
  const Grammar second = parse_gbnf(printed);
  EXPECT_EQ(print_gbnf(second), printed);
  EXPECT_EQ(second.rule_count(), first.rule_count());
}

TEST(GbnfRoundTrip, TrickyGrammars) {
  for (const char* text : kTrickyGrammars) expect_round_trip(text, text);
}

TEST(GbnfRoundTrip, EveryFileInGrammarsDirectory) {
  const std::filesystem::path dir = std::filesystem::path(STENCIL_SOURCE_DIR) / "grammars";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".gbnf") continue;
    expect_round_trip(read_file(entry.path()), entry.path().filename().string());
    ++files;
  }
  EXPECT_GE(files, 6);
}

// Random grammars over awkward characters: print, reparse, and compare. Rule i only refers to
// rules j > i, so grammars are finite, free of left recursion and (classes being non-empty)
// never empty; each therefore parses back, and sampled members must be recognized by both.
class RandomGrammar {
 public:
  explicit RandomGrammar(uint32_t seed) : rng_(seed) {
    constexpr int kRules = 4;
    for (int i = 0; i < kRules; ++i) rules_.push_back(g_.declare_rule(i == 0 ? "root" : "r" + std::to_string(i)));
    for (int i = kRules - 1; i >= 0; --i) {
      current_ = i;
      g_.define_rule(rules_[static_cast<size_t>(i)], expr(3));
    }
    g_.set_root(rules_[0]);
  }
  const Grammar& grammar() const { return g_; }

  // A random member of the language of `e` (repeats sampled up to min + 2 times).
  std::string sample(ExprId e) {
    const Expr& x = g_.expr(e);
    std::string out;
    switch (x.kind) {
      case ExprKind::kEmpty:
        break;
      case ExprKind::kLiteral:
        out = x.bytes;
        break;
      case ExprKind::kCharClass:
      case ExprKind::kByteClass: {
        uint32_t v;
        do {
          const Range& r = x.ranges[pick(x.ranges.size())];
          v = r.lo + static_cast<uint32_t>(pick(std::min<uint64_t>(r.hi - r.lo + 1, 1000)));
        } while (x.kind == ExprKind::kCharClass && v >= 0xD800 && v <= 0xDFFF);
        if (x.kind == ExprKind::kCharClass) {
          append_utf8(out, v);
        } else {
          out.push_back(static_cast<char>(v));
        }
        break;
      }
      case ExprKind::kRuleRef:
        out = sample(g_.rule(x.rule).body);
        break;
      case ExprKind::kSequence:
        for (ExprId c : x.children) out += sample(c);
        break;
      case ExprKind::kChoice:
        out = sample(x.children[pick(x.children.size())]);
        break;
      case ExprKind::kRepeat: {
        const int32_t hi = x.max == kUnbounded ? x.min + 2 : std::min(x.max, x.min + 2);
        const int32_t n = x.min + static_cast<int32_t>(pick(static_cast<size_t>(hi - x.min + 1)));
        for (int32_t i = 0; i < n; ++i) out += sample(x.children[0]);
        break;
      }
    }
    return out;
  }
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  uint32_t code_point() {
    static constexpr uint32_t kPool[] = {'a',  'b',    '-',    ']',     '[',      '^',    '\\',  '"',
                                         '\n', '\t',   0,      0x7F,    ' ',      '#',    '|',   0x85,
                                         0xE9, 0x2028, 0xFFFF, 0x10000, 0x10FFFF, 0xD7FF, 0xE000};
    return kPool[pick(std::size(kPool))];
  }
  ExprId expr(int depth) {
    const size_t kind = depth == 0 ? pick(5) : pick(8);
    switch (kind) {
      case 0: {  // literal, sometimes with bytes that are not UTF-8
        std::string bytes;
        for (size_t i = 0, n = 1 + pick(3); i < n; ++i) {
          if (pick(6) == 0) {
            bytes.push_back(static_cast<char>(pick(2) == 0 ? 0xFF : 0x80));
          } else {
            append_utf8(bytes, code_point());
          }
        }
        return g_.literal(bytes);
      }
      case 1: {
        std::vector<Range> ranges;
        for (size_t i = 0, n = 1 + pick(3); i < n; ++i) {
          uint32_t a = code_point(), b = code_point();
          if (a > b) std::swap(a, b);
          ranges.push_back({a, pick(2) == 0 ? a : b});
        }
        const ExprId e = g_.char_class(ranges, pick(3) == 0);
        return g_.expr(e).ranges.empty() ? g_.literal("c") : e;  // a negated full class is empty
      }
      case 2: {
        static constexpr uint32_t kBytes[] = {0x00, 0x2D, 0x41, 0x5D, 0x5E, 0x80, 0xBF, 0xFF};
        uint32_t a = kBytes[pick(std::size(kBytes))], b = kBytes[pick(std::size(kBytes))];
        if (a > b) std::swap(a, b);
        const ExprId e = g_.byte_class({{a, b}}, pick(4) == 0);
        return g_.expr(e).ranges.empty() ? g_.literal("d") : e;
      }
      case 3:
        if (current_ + 1 < static_cast<int>(rules_.size())) {
          return g_.rule_ref(
              rules_[static_cast<size_t>(current_ + 1) + pick(rules_.size() - static_cast<size_t>(current_) - 1)]);
        }
        return g_.literal("z");
      case 4:
        return g_.empty();
      case 5:
      case 6: {
        std::vector<ExprId> children;
        for (size_t i = 0, n = 2 + pick(2); i < n; ++i) children.push_back(expr(depth - 1));
        return kind == 5 ? g_.sequence(children) : g_.choice(children);
      }
      default: {
        const int32_t min = static_cast<int32_t>(pick(3));
        const int32_t max = pick(3) == 0 ? kUnbounded : min + static_cast<int32_t>(pick(3));
        return g_.repeat(expr(depth - 1), min, max);
      }
    }
  }

  std::mt19937 rng_;
  Grammar g_;
  std::vector<RuleId> rules_;
  int current_ = 0;
};

TEST(GbnfRoundTrip, RandomGrammarsKeepTheirLanguage) {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    RandomGrammar random(seed);
    const Grammar& g = random.grammar();
    const std::string printed = print_gbnf(g);
    SCOPED_TRACE("seed " + std::to_string(seed) + "\n" + printed);
    Grammar reparsed;
    ASSERT_NO_THROW(reparsed = parse_gbnf(printed));
    ASSERT_EQ(print_gbnf(reparsed), printed);
    for (int i = 0; i < 8; ++i) {
      std::string member = random.sample(g.rule(g.root()).body);
      ASSERT_TRUE(recognizes(g, member)) << "sampler bug: " << testing::PrintToString(member);
      EXPECT_TRUE(recognizes(reparsed, member)) << testing::PrintToString(member);
      // A mutation: the answer may be either, but both grammars must give the same one.
      if (!member.empty()) {
        member[random.pick(member.size())] = static_cast<char>(random.pick(256));
      } else {
        member = "a";
      }
      EXPECT_EQ(recognizes(reparsed, member), recognizes(g, member)) << testing::PrintToString(member);
    }
  }
}

}  // namespace
}  // namespace stencil::grammar
