// Acceptance tests for the grammars in grammars/: each file is parsed with parse_gbnf and run
// through the reference Earley recognizer on strings it must accept and reject. json.gbnf is
// also checked against real JSON documents (the JSON-Schema-Test-Suite files in shared/, in
// several layouts) and corruptions of them, with an independent whitespace-bound check as the
// oracle for the original pretty-printed text.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/recognizer.h"

namespace stencil::grammar {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Grammar load(const std::string& file) {
  return parse_gbnf(read_file(std::filesystem::path(STENCIL_SOURCE_DIR) / "grammars" / file));
}

struct AcceptanceCase {
  std::string file;
  std::vector<std::string> accept;
  std::vector<std::string> reject;
};
void PrintTo(const AcceptanceCase& c, std::ostream* os) { *os << c.file; }

class GrammarFile : public testing::TestWithParam<AcceptanceCase> {};

TEST_P(GrammarFile, AcceptsAndRejects) {
  const AcceptanceCase& c = GetParam();
  const Grammar g = load(c.file);
  for (const std::string& s : c.accept) EXPECT_TRUE(recognizes(g, s)) << "should accept: " << testing::PrintToString(s);
  for (const std::string& s : c.reject)
    EXPECT_FALSE(recognizes(g, s)) << "should reject: " << testing::PrintToString(s);
}

const std::string k16(16, ' ');

INSTANTIATE_TEST_SUITE_P(
    Files, GrammarFile,
    testing::Values(
        AcceptanceCase{
            "json.gbnf",
            {"{}",
             "[]",
             "0",
             "-0",
             "-0.0e+00",
             "1E5",
             "123.456e-7",
             "10",
             "\"a\"",
             "\"\"",
             "true",
             "false",
             "null",
             "{\"a\": 1, \"b\": [true, false, null], \"c\": {\"d\": \"e\"}}",
             "{\"\":\"\"}",
             "[[[[]]]]",
             "[1,2,3]",
             R"("\u00e9\uD83D\uDE00 \\ \" \/ \b\f\n\r\t\uABcd")",
             "\"\xC3\xA9\xF0\x9F\x98\x80\xE6\x97\xA5\x7F\"",
             " \t\n  {\n  \"a\" : 1\n}\r\n",
             "{\r\n\t\"a\": [\r\n\t\t1\r\n\t]\r\n}",
             k16 + "\n" + k16 + "1" + k16 + "\n" + k16,
             "[" + k16 + "\n" + k16 + "]",
             "\n1\n"},
            {"", " ", "{,}", "[,]", "[1,]", "{\"a\":1,}", "[1,,2]", "01", "-01", "00", "+1", "1.", ".5", "1e", "1e+",
             "1.e5", "0x10", "NaN", "Infinity", "-", "--1", "\"\x01\"", "\"a\nb\"", "\"\t\"", "\"a\"b\"", R"("\u12G4")",
             R"("\u123")", R"("\a")", R"("\U0001F600")", R"("\x41")", "'a'", "{a:1}", "{\"a\"}", "{\"a\":}", "{1:2}",
             "[1 2]", "truefalse", "True", "nul", "\"abc", "\"\xC3\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"",
             "\"\xF4\x90\x80\x80\"", "[1]]", "1 2", "[1] // c", "[1] /* c */",
             // whitespace bound: 17 spaces/tabs in a row, two line breaks, a lone CR
             std::string(17, ' ') + "1", "1" + std::string(17, '\t'), "[" + k16 + "\n" + std::string(17, ' ') + "]",
             "\n\n1", "[1,\n\n2]", "\r1", "1\r", "[\n \n]"}},
        AcceptanceCase{
            "csv_row.gbnf",
            {"a,b,c", "a,b,c\r\n", "a,b,c\n", "", ",", ",,", "\"\"", "\"a,b\",c", "\"he said \"\"hi\"\"\",2",
             "\"multi\r\nline\",x\n", "1997,Ford,E350,\"Super, luxurious\"", "caf\xC3\xA9, spaced ,x"},
            {"a\"b", "\"a\"b\"", "\"unterminated", "a\r", "a\n\n", "a\nb", "\"a\" ,b", "a,\"b\"c", "\"a\"\"\"x"}},
        AcceptanceCase{"arithmetic.gbnf",
                       {"1", "42", "3.14", ".5", "-1", "1+2", "1 + 2 * 3", "(1 + 2) * 3", "-(1 + 2) * 3 / 4.5 - .5",
                        "((((7))))", "1 - -2", "  2*3  ", "2    *    3", "1/2/3"},
                       {"", "+1", "1 +", "* 2", "(1", "1)", "()", "1..2", "1.", "1e5", "1 ++ 2", "x", "1     + 2",
                        "1 2", "--1", "- 1"}},
        AcceptanceCase{
            "function_call.gbnf",
            {"f()", "get_weather(city=\"Paris\", days=3, units=[\"C\", \"F\"], verbose=false)", "math.max(a=1,b=-2.5)",
             "_x(y=null)", "f(a=[])", "f(a=[[1], [2,3]])", "f(s=\"\\\"q\\\" \\u00e9\")", "f(s=\"caf\xC3\xA9\")"},
            {"", "f", "f(", "f(1)", "f(a=)", "f(a = 1)", "f( a=1)", "f(a=1,)", "f(a=1  ,b=2)", "1f()", "f.(a=1)",
             "f(a=01)", "f(a='x')", "f(a=\"\x01\")", "f(a=True)", "f()\n"}},
        AcceptanceCase{"list.gbnf",
                       {"- a\n", "- milk\n- eggs and ham\n- \xC3\xA9clair\n", "- x  y \n"},
                       {"", "- a", "-a\n", "-  a\n", "* a\n", "- \n", "- a\n\n", "- a\nb\n", "  - a\n"}},
        AcceptanceCase{"yes_no.gbnf", {"yes", "no"}, {"", "Yes", "yes ", "y", "n", "yesno", "maybe"}},
        AcceptanceCase{
            "chess.gbnf",
            {"1. e4", "1. e4 e5", "1. e4 e5 2. Nf3 Nc6 3. Bb5 a6", "12. O-O O-O-O", "5. exd5 Qxd5+", "30. e8=Q# Kh7",
             "7. Rad1 N1c3", "9. Qh4xe1 dxc1=N"},
            {"", "e4", "1.e4", "1. e9", "1. i4", "1. e8", "1. e4 e5 e6", "0. e4", "1. Pe4", "1. O-O-O-O", "1. e4  e5",
             "1. e4 e5 2. d4 d5 3. c4 c5 4. b4 b5 5. a4 a5 6. h4 h5 7. g4 g5 8. f4 f5 9. Nc3"}}),
    [](const testing::TestParamInfo<AcceptanceCase>& info) {
      std::string name = info.param.file.substr(0, info.param.file.find('.'));
      return name;
    });

// The independent oracle for json.gbnf's whitespace policy: every maximal run of JSON
// whitespace outside strings is [ \t]{0,16} then optionally ("\r"? "\n" [ \t]{0,16}).
bool whitespace_runs_within_bound(const std::string& text) {
  bool in_string = false;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      ++i;
      continue;
    }
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) ++j;
    const std::string run = text.substr(i, j - i);
    const size_t nl = run.find('\n');
    const std::string before = nl == std::string::npos ? run : run.substr(0, nl);
    const std::string after = nl == std::string::npos ? "" : run.substr(nl + 1);
    std::string before_blanks = before;
    if (nl != std::string::npos && !before_blanks.empty() && before_blanks.back() == '\r') before_blanks.pop_back();
    auto blanks = [](const std::string& s) {
      return s.size() <= 16 && std::all_of(s.begin(), s.end(), [](char b) { return b == ' ' || b == '\t'; });
    };
    if (!blanks(before_blanks) || !blanks(after)) return false;
    i = j;
  }
  return true;
}

std::vector<std::filesystem::path> sample_documents() {
  const std::filesystem::path dir =
      std::filesystem::path(STENCIL_SHARED_DIR) / "datasets" / "json-schema-test-suite" / "tests" / "draft2020-12";
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    // The recognizer is a cubic-time oracle: keep the sample to documents of at most 8 KB.
    if (entry.path().extension() == ".json" && entry.file_size() <= 8192) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(JsonGrammar, AcceptsRealDocumentsInSeveralLayouts) {
  const std::vector<std::filesystem::path> files = sample_documents();
  if (files.empty()) GTEST_SKIP() << "JSON-Schema-Test-Suite not found under " << STENCIL_SHARED_DIR;
  const Grammar g = load("json.gbnf");
  int originals_within_bound = 0;
  int originals_beyond_bound = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    const std::string original = read_file(path);
    const nlohmann::json doc = nlohmann::json::parse(original);
    EXPECT_TRUE(recognizes(g, doc.dump())) << "compact";
    EXPECT_TRUE(recognizes(g, doc.dump(-1, ' ', /*ensure_ascii=*/true))) << "compact, ASCII with \\u escapes";
    const bool within = whitespace_runs_within_bound(original);
    ++(within ? originals_within_bound : originals_beyond_bound);
    EXPECT_EQ(recognizes(g, original), within) << "original layout";
  }
  EXPECT_GE(files.size(), 10u);
  EXPECT_GT(originals_within_bound, 0);
  RecordProperty("originals_within_bound", originals_within_bound);
  RecordProperty("originals_beyond_bound", originals_beyond_bound);
  std::cout << files.size() << " documents; original layout within the whitespace bound: " << originals_within_bound
            << ", beyond it (rejected as expected): " << originals_beyond_bound << "\n";
}

// A corruption applied at the first place it fits in a compact document; false when none fits.
struct Corruption {
  std::string name;
  bool (*apply)(std::string&);
};

// For each byte of a JSON text: is it outside string literals (structural)?
std::vector<bool> outside_strings(const std::string& s) {
  std::vector<bool> outside(s.size(), true);
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (in_string) {
      outside[i] = false;
      if (s[i] == '\\') {
        if (i + 1 < s.size()) outside[++i] = false;
      } else if (s[i] == '"') {
        in_string = false;
      }
    } else if (s[i] == '"') {
      outside[i] = false;
      in_string = true;
    }
  }
  return outside;
}

// Inserts `what` before the first structural `close` that follows a value (not its opener).
bool insert_before_close(std::string& s, char open, char close, const std::string& what) {
  const std::vector<bool> outside = outside_strings(s);
  for (size_t i = 1; i < s.size(); ++i) {
    if (outside[i] && s[i] == close && !(outside[i - 1] && s[i - 1] == open)) {
      s.insert(i, what);
      return true;
    }
  }
  return false;
}

// Inserts `what` at the start of the first string literal's content.
bool insert_in_first_string(std::string& s, const std::string& what) {
  const size_t q = s.find('"');
  if (q == std::string::npos) return false;
  s.insert(q + 1, what);
  return true;
}

const Corruption kCorruptions[] = {
    {"trailing_comma_in_array", [](std::string& s) { return insert_before_close(s, '[', ']', ","); }},
    {"trailing_comma_in_object", [](std::string& s) { return insert_before_close(s, '{', '}', ","); }},
    {"control_character_in_string", [](std::string& s) { return insert_in_first_string(s, "\x1F"); }},
    {"raw_newline_in_string", [](std::string& s) { return insert_in_first_string(s, "\n"); }},
    {"unescaped_quote_in_string", [](std::string& s) { return insert_in_first_string(s, "a\"b"); }},
    {"bad_unicode_escape", [](std::string& s) { return insert_in_first_string(s, "\\u00G0"); }},
    {"short_unicode_escape", [](std::string& s) { return insert_in_first_string(s, "\\u00\""); }},
    {"leading_zero",
     [](std::string& s) {
       const std::vector<bool> outside = outside_strings(s);
       for (size_t i = 1; i < s.size(); ++i) {
         if (outside[i] && (s[i - 1] == ':' || s[i - 1] == '[' || s[i - 1] == ',') && s[i] >= '1' && s[i] <= '9') {
           s.insert(i, "0");
           return true;
         }
       }
       return false;
     }},
    {"truncated",
     [](std::string& s) {
       if (s.size() < 2) return false;
       s.pop_back();
       return true;
     }},
};

TEST(JsonGrammar, RejectsCorruptedRealDocuments) {
  const std::vector<std::filesystem::path> files = sample_documents();
  if (files.empty()) GTEST_SKIP() << "JSON-Schema-Test-Suite not found under " << STENCIL_SHARED_DIR;
  const Grammar g = load("json.gbnf");
  for (const Corruption& corruption : kCorruptions) {
    int applied = 0;
    for (size_t f = 0; f < files.size() && applied < 3; ++f) {
      std::string text = nlohmann::json::parse(read_file(files[f])).dump();
      if (!corruption.apply(text)) continue;
      ++applied;
      // Independent check that the corruption really made the text invalid JSON.
      ASSERT_FALSE(nlohmann::json::accept(text)) << corruption.name << " " << files[f].filename();
      EXPECT_FALSE(recognizes(g, text)) << corruption.name << " " << files[f].filename();
    }
    EXPECT_GT(applied, 0) << corruption.name << " never applied";
  }
}

}  // namespace
}  // namespace stencil::grammar
