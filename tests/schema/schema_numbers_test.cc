// Numeric keywords: integer digit automata against brute force over a window of
// values, decimal ranges, exclusive bounds, huge bounds and multipleOf.
#include <gtest/gtest.h>

#include <string>

#include "schema_test_util.h"

namespace stencil::schema {
namespace {

using testing::compact;

bool accepts(const SchemaGrammar& sg, const std::string& s) { return grammar::recognizes(sg.grammar, s); }

TEST(SchemaNumbers, IntegerRangesBruteForce) {
  struct R {
    long lo, hi;
  };
  for (R r : std::vector<R>{{-1234, 98765}, {0, 0}, {7, 7}, {-9, -1}, {-100, 100}, {99, 1000}, {5, 5000}, {-1000, -99}}) {
    const std::string schema = "{\"type\":\"integer\",\"minimum\":" + std::to_string(r.lo) + ",\"maximum\":" + std::to_string(r.hi) + "}";
    SCOPED_TRACE(schema);
    SchemaGrammar sg = build_json_schema_grammar(schema, compact());
    for (long v : {r.lo - 1, r.lo, r.lo + 1, r.hi - 1, r.hi, r.hi + 1, -1L, 0L, 1L, 9L, 10L, 99L, 100L, 999L, 1000L, 1001L, -10L, -99L, -100L}) {
      EXPECT_EQ(accepts(sg, std::to_string(v)), v >= r.lo && v <= r.hi) << v;
    }
    EXPECT_FALSE(accepts(sg, "-0"));
    EXPECT_FALSE(accepts(sg, "01"));
  }
  // A dense sweep for one awkward range.
  SchemaGrammar sg = build_json_schema_grammar(R"({"type":"integer","minimum":-37,"maximum":412})", compact());
  for (long v = -120; v <= 520; ++v) EXPECT_EQ(accepts(sg, std::to_string(v)), v >= -37 && v <= 412) << v;
}

TEST(SchemaNumbers, ExclusiveAndOneSided) {
  SchemaGrammar sg = build_json_schema_grammar(R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":10})", compact());
  for (long v = -3; v <= 13; ++v) EXPECT_EQ(accepts(sg, std::to_string(v)), v > 0 && v < 10) << v;
  sg = build_json_schema_grammar(R"({"type":"integer","minimum":-5})", compact());
  EXPECT_TRUE(accepts(sg, "123456789012345678901234567890"));
  EXPECT_TRUE(accepts(sg, "-5"));
  EXPECT_FALSE(accepts(sg, "-6"));
  sg = build_json_schema_grammar(R"({"type":"integer","maximum":1.5})", compact());
  EXPECT_TRUE(accepts(sg, "1"));
  EXPECT_FALSE(accepts(sg, "2"));
  EXPECT_TRUE(accepts(sg, "-99999999999999999999"));
}

TEST(SchemaNumbers, HugeBounds) {
  SchemaGrammar sg = build_json_schema_grammar(R"({"type":"integer","minimum":18446744073709551615,"maximum":1e30})", compact());
  EXPECT_TRUE(accepts(sg, "18446744073709551615"));
  EXPECT_FALSE(accepts(sg, "18446744073709551614"));
  EXPECT_TRUE(accepts(sg, "1000000000000000000000000000000"));
  EXPECT_FALSE(accepts(sg, "1000000000000000000000000000001"));
  EXPECT_LT(sg.grammar.expr_count(), 2000);
}

TEST(SchemaNumbers, DecimalRanges) {
  SchemaGrammar sg = build_json_schema_grammar(R"({"type":"number","minimum":-1.25,"exclusiveMaximum":3.5})", compact());
  const std::vector<std::pair<std::string, bool>> expect = {
      {"0", true},      {"-1.25", true}, {"-1.250", true}, {"-1.26", false}, {"-1.2", true},  {"3.49999", true},
      {"3.5", false},   {"3.50", false}, {"3", true},      {"-1", true},     {"-2", false},   {"4", false},
      {"0.0", true},    {"-0.5", true},  {"3.4", true},    {"1e2", false},   {"-1.249", true}, {"-1.2500001", false}};
  for (const auto& [text, ok] : expect) EXPECT_EQ(accepts(sg, text), ok) << text;
  sg = build_json_schema_grammar(R"({"type":"number","exclusiveMinimum":0})", compact());
  EXPECT_FALSE(accepts(sg, "0"));
  EXPECT_FALSE(accepts(sg, "0.000"));
  EXPECT_TRUE(accepts(sg, "0.001"));
  EXPECT_FALSE(accepts(sg, "-0.001"));
  EXPECT_TRUE(accepts(sg, "12.5"));
  sg = build_json_schema_grammar(R"({"type":"number"})", compact());
  for (const char* ok : {"0", "-0", "1.5e10", "-2E-3", "12"}) EXPECT_TRUE(accepts(sg, ok)) << ok;
  for (const char* bad : {"01", "1.", ".5", "+1", "1e", "--1"}) EXPECT_FALSE(accepts(sg, bad)) << bad;
}

TEST(SchemaNumbers, MultipleOf) {
  SchemaGrammar sg = build_json_schema_grammar(R"({"type":"integer","multipleOf":7})", compact());
  for (long v = -50; v <= 200; ++v) EXPECT_EQ(accepts(sg, std::to_string(v)), v % 7 == 0) << v;
  sg = build_json_schema_grammar(R"({"type":"integer","multipleOf":5,"minimum":12,"maximum":40})", compact());
  for (long v = 0; v <= 50; ++v) EXPECT_EQ(accepts(sg, std::to_string(v)), v % 5 == 0 && v >= 12 && v <= 40) << v;
  sg = build_json_schema_grammar(R"({"type":"number","multipleOf":0.01})", compact());
  EXPECT_TRUE(accepts(sg, "1.25"));
  EXPECT_FALSE(accepts(sg, "1.255"));
}

}  // namespace
}  // namespace stencil::schema
