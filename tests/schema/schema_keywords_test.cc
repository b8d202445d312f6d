// Per-keyword tests of the JSON Schema front end: hand-written schemas with exact
// accept/reject expectations, checked with the reference recognizer (compact layout
// unless a test says otherwise).
#include <gtest/gtest.h>

#include <algorithm>

#include "schema/json_schema_grammar.h"
#include "schema_test_util.h"
#include "stencil/errors.h"

namespace stencil::schema {
namespace {

using testing::Case;
using testing::check_case;
using testing::compact;

TEST(SchemaKeywords, CoreTable) {
  const std::vector<Case> cases = {
      {R"({"type":"null"})", {"null"}, {"nul", "0", "\"null\"", " null"}},
      {R"({"type":"boolean"})", {"true", "false"}, {"null", "1", "True"}},
      {R"({"type":"string"})", {"\"\"", "\"abc\"", "\"\\\"\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"é\""},
       {"abc", "\"a", "\"\\x\"", "\"\\ud83d\"", "\"\x01\"", "\"\\u12\""}},
      {R"({"type":["string","null"]})", {"\"x\"", "null"}, {"1", "true"}},
      {R"({"enum":["F","C"]})", {"\"F\"", "\"C\""}, {"\"f\"", "\"FC\"", "\"\""}},
      {R"({"enum":[1,"a",null,{"k":[1,2]},[true]]})", {"1", "\"a\"", "null", "{\"k\":[1,2]}", "[true]"},
       {"2", "{\"k\":[1]}", "[]", "{}"}},
      {R"({"const":{"a":"é\n"}})", {"{\"a\":\"é\\n\"}"}, {"{\"a\":\"é\"}"}},
      {R"({"type":"string","enum":["a",1,"b"]})", {"\"a\"", "\"b\""}, {"1"}},
      {R"({"anyOf":[{"type":"integer"},{"type":"string","maxLength":1}]})", {"1", "\"a\""}, {"\"ab\"", "null"}},
      {R"({"oneOf":[{"type":"integer"},{"type":"string"}]})", {"1", "\"a\""}, {"null"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]})",
       {"{\"a\":1}", "{\"a\":1,\"b\":\"x\"}"},
       {"{}", "{\"b\":\"x\"}", "{\"b\":\"x\",\"a\":1}", "{\"a\":1,\"c\":2}", "{\"a\":1,}", "{,\"a\":1}"}},
      {R"({"type":"object","properties":{"a":{},"b":{},"c":{}}})",
       {"{}", "{\"a\":1}", "{\"b\":1}", "{\"c\":1}", "{\"a\":1,\"c\":2}", "{\"a\":1,\"b\":2,\"c\":3}"},
       {"{,}", "{\"a\":1,}", "{\"c\":1,\"a\":1}", "{\"d\":1}"}},
      {R"({"type":"object","additionalProperties":{"type":"integer"}})", {"{}", "{\"x\":1}", "{\"x\":1,\"y\":2}"},
       {"{\"x\":\"s\"}"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}})",
       {"{\"a\":1,\"b\":\"s\"}", "{\"b\":\"s\"}", "{\"ab\":\"s\"}"}, {"{\"a\":\"s\"}", "{\"b\":1}", "{\"a\":1,\"a\":\"s\"}"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false})", {"{\"a\":1}", "{}"},
       {"{\"b\":1}"}},
      {R"({"type":"array","items":{"type":"integer"}})", {"[]", "[1]", "[1,2,3]"}, {"[1,]", "[\"a\"]", "[,1]"}},
      {R"({"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":3})", {"[1,2]", "[1,2,3]"},
       {"[]", "[1]", "[1,2,3,4]"}},
      {R"({"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}],"items":false})",
       {"[]", "[1]", "[1,\"a\"]"}, {"[\"a\"]", "[1,\"a\",2]"}},
      {R"({"type":"array","prefixItems":[{"type":"integer"}],"items":{"type":"string"},"minItems":2})",
       {"[1,\"a\"]", "[1,\"a\",\"b\"]"}, {"[1]", "[1,2]"}},
      {R"({"items":[{"type":"integer"}],"additionalItems":false,"type":"array"})", {"[]", "[1]"}, {"[1,2]"}},
      {R"({"type":"array","contains":{"const":5},"items":{"type":"integer"}})", {"[5]", "[5,1]"}, {"[]", "[1]"}},
      {R"(true)", {"1", "{\"a\":[null]}", "\"x\""}, {"", "{"}},
      {R"({})", {"1", "[]", "{}"}, {"nan"}},
      {R"({"type":"object","required":["x"]})", {"{\"x\":1}", "{\"x\":{\"y\":[]}}"}, {"{}"}},
      {R"({"nullable":true,"type":"integer"})", {"1", "null"}, {"\"a\""}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaKeywords, Refs) {
  const std::vector<Case> cases = {
      {R"({"$defs":{"n":{"type":"integer"}},"type":"object","properties":{"a":{"$ref":"#/$defs/n"}}})",
       {"{\"a\":1}", "{}"}, {"{\"a\":\"x\"}"}},
      {R"({"definitions":{"n":{"type":"integer"}},"$ref":"#/definitions/n"})", {"7"}, {"\"7\""}},
      // A recursive tree: recursion is a rule, not an expansion.
      {R"({"$defs":{"t":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/t"}}},"required":["v"]}},"$ref":"#/$defs/t"})",
       {"{\"v\":1}", "{\"v\":1,\"kids\":[]}", "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":3}]}]}"},
       {"{\"kids\":[]}", "{\"v\":1,\"kids\":[{}]}"}},
      {R"({"type":"object","properties":{"next":{"$ref":"#"},"v":{"type":"null"}}})",
       {"{}", "{\"next\":{\"next\":{}}}", "{\"next\":{\"v\":null}}"}, {"{\"next\":1}"}},
      {R"({"$defs":{"a~/b":{"type":"boolean"}},"$ref":"#/$defs/a~0~1b"})", {"true"}, {"1"}},
      {R"({"$defs":{"x":{"$anchor":"here","type":"null"}},"$ref":"#here"})", {"null"}, {"1"}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaKeywords, AllOf) {
  const std::vector<Case> cases = {
      {R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},{"properties":{"b":{"type":"string"}},"required":["b"]}]})",
       {"{\"a\":1,\"b\":\"x\"}"}, {"{\"a\":1}", "{\"b\":\"x\"}"}},
      {R"({"allOf":[{"type":"integer","minimum":0},{"maximum":5}]})", {"0", "5"}, {"6", "-1"}},
      {R"({"allOf":[{"type":"string"},{"type":"integer"}],"anyOf":[{"type":"null"},{}]})", {}, {}},
  };
  check_case(cases[0], compact());
  check_case(cases[1], compact());
  EXPECT_THROW(build_json_schema_grammar(cases[2].schema, compact()), SchemaError);
}

TEST(SchemaKeywords, Strings) {
  const std::vector<Case> cases = {
      {R"({"type":"string","minLength":2,"maxLength":3})", {"\"ab\"", "\"abc\"", "\"éé\"", "\"\\n\\t\"", "\"\\ud83d\\ude00x\""},
       {"\"a\"", "\"abcd\"", "\"\""}},
      {R"({"type":"string","format":"date"})", {"\"2024-02-29\"", "\"2023-12-31\""},
       {"\"2023-02-29\"", "\"1900-02-29\"", "\"2023-04-31\"", "\"2023-13-01\"", "\"0000-01-01\""}},
      {R"({"type":"string","format":"date-time"})", {"\"2024-01-02T03:04:05Z\"", "\"2024-01-02T03:04:05.123+05:30\""},
       {"\"2024-01-02 03:04:05Z\"", "\"2024-01-02T24:00:00Z\""}},
      {R"({"type":"string","format":"time"})", {"\"23:59:59Z\""}, {"\"23:59\""}},
      {R"({"type":"string","format":"uuid"})", {"\"123e4567-e89b-12d3-a456-426614174000\""}, {"\"123e4567\""}},
      {R"({"type":"string","format":"ipv4"})", {"\"192.168.0.1\"", "\"0.0.0.0\""}, {"\"256.1.1.1\"", "\"01.1.1.1\"", "\"1.1.1\""}},
      {R"({"type":"string","format":"ipv6"})", {"\"::1\"", "\"fe80::1:2\"", "\"1:2:3:4:5:6:7:8\"", "\"::ffff:1.2.3.4\""},
       {"\"1:2:3:4:5:6:7:8:9\"", "\"1::2::3\"", "\"12345::\""}},
      {R"({"type":"string","format":"duration"})", {"\"P1D\"", "\"PT1H30M\"", "\"P2W\"", "\"P1Y2M3DT4H5M6S\""},
       {"\"P\"", "\"PT\"", "\"P1H\""}},
      {R"({"type":"string","format":"email"})", {"\"a.b@example.com\""}, {"\"ab\"", "\"@x\""}},
      {R"({"type":"string","format":"hostname"})", {"\"example.com\"", "\"a-b.c\""}, {"\"-a.com\"", "\"a..b\""}},
      {R"({"type":"string","format":"uri"})", {"\"https://example.com/a?b=c#d\"", "\"urn:isbn:123\""}, {"\"/relative\"", "\"no scheme\""}},
      {R"({"type":"string","format":"uri-reference"})", {"\"/relative/path\"", "\"https://x.y\"", "\"a/b\""}, {"\"a b\""}},
      {R"({"type":"string","format":"json-pointer"})", {"\"\"", "\"/a/~0b/~1\""}, {"\"a\"", "\"/~2\""}},
      {R"({"type":"string","format":"duration"})", {"\"PT1H1M1S\""}, {"\"PT1H2S\"", "\"P1Y2D\""}},
      {R"({"type":"string","format":"hostname"})", {"\"a-b-c.d\""}, {"\"xn--abc\"", "\"a--b\""}},
      // `pattern` has search semantics: unanchored patterns match anywhere.
      {R"({"type":"string","pattern":"^[a-z]{2,3}-\\d+$"})", {"\"ab-1\"", "\"abc-123\""}, {"\"a-1\"", "\"ab-\"", "\"abcd-1\"", "\"ab-1 \""}},
      // pattern with length bounds: the bounds move into the pattern's one open repeat.
      {R"({"type":"string","pattern":"^[A-Z][a-z\"]*$","minLength":2,"maxLength":3})", {"\"Ab\"", "\"Abc\"", "\"A\\\"\""},
       {"\"A\"", "\"Abcd\"", "\"ab\""}},
      {R"({"type":"string","pattern":"^[0-9]{5}$","maxLength":5})", {"\"12345\""}, {"\"1234\""}},
      {R"({"type":"string","pattern":"b+"})", {"\"b\"", "\"abba\""}, {"\"\"", "\"ac\""}},
      {R"({"type":"string","pattern":"^\"q"})", {"\"\\\"q\"", "\"\\\"qq\""}, {"\"q\""}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaKeywords, ObjectsAdvanced) {
  const std::vector<Case> cases = {
      {R"({"type":"object","properties":{"a":{},"b":{},"c":{}},"minProperties":2})",
       {"{\"a\":1,\"b\":2}", "{\"a\":1,\"c\":2}", "{\"a\":1,\"b\":2,\"c\":3}"}, {"{}", "{\"a\":1}", "{\"c\":1}"}},
      {R"({"type":"object","properties":{"a":{},"b":{},"c":{}},"maxProperties":1})", {"{}", "{\"a\":1}", "{\"c\":1}"},
       {"{\"a\":1,\"b\":2}"}},
      {R"({"type":"object","additionalProperties":true,"maxProperties":2})", {"{}", "{\"x\":1,\"y\":2}"},
       {"{\"x\":1,\"y\":2,\"z\":3}"}},
      {R"({"type":"object","properties":{"a":{},"b":{}},"dependentRequired":{"a":["b"]}})",
       {"{}", "{\"b\":1}", "{\"a\":1,\"b\":1}"}, {"{\"a\":1}"}},
      {R"({"type":"object","propertyNames":{"enum":["x","y"]},"additionalProperties":{"type":"integer"}})",
       {"{}", "{\"x\":1}", "{\"y\":1,\"x\":2}"}, {"{\"z\":1}"}},
      {R"({"type":"object","propertyNames":{"maxLength":2},"additionalProperties":true})", {"{\"ab\":1}"}, {"{\"abc\":1}"}},
      // Keys needing escapes and unicode keys.
      {R"({"type":"object","properties":{"a\"b":{"type":"integer"},"ключ":{"const":"значение"}},"required":["a\"b"]})",
       {"{\"a\\\"b\":1}", "{\"a\\\"b\":1,\"ключ\":\"значение\"}"}, {"{\"ключ\":\"значение\"}"}},
      // Additional keys never spell a declared key, not even with escapes.
      {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":{"type":"string"}})",
       {"{\"b\":\"x\"}"}, {"{\"\\u0061\":\"x\"}", "{\"a\":\"x\"}"}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaKeywords, StrictModeDefault) {
  const std::string schema = R"({"type":"object","properties":{"a":{"type":"integer"}}})";
  check_case({schema, {"{\"a\":1}"}, {"{\"a\":1,\"b\":2}"}}, compact());
  JsonOptions open = compact();
  open.strict = false;
  check_case({schema, {"{\"a\":1}", "{\"a\":1,\"b\":2}", "{\"b\":[1]}"}, {"{\"a\":\"x\"}"}}, open);
}

TEST(SchemaKeywords, ToolDefinition) {
  check_case({R"({"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]},"strict":true}})",
              {"{\"x\":1}"}, {"{}"}},
             compact());
}

TEST(SchemaKeywords, LargeBoundsStaySmall) {
  SchemaGrammar sg = build_json_schema_grammar(R"({"type":"array","items":{"type":"integer"},"minItems":500,"maxItems":100000})", compact());
  EXPECT_LT(sg.grammar.expr_count(), 200);
  std::string doc = "[";
  for (int i = 0; i < 500; ++i) doc += (i ? ",1" : "1");
  EXPECT_TRUE(grammar::recognizes(sg.grammar, doc + "]"));
  EXPECT_FALSE(grammar::recognizes(sg.grammar, doc.substr(0, doc.size() - 2) + "]"));
  sg = build_json_schema_grammar(R"({"type":"string","maxLength":100000})", compact());
  EXPECT_LT(sg.grammar.expr_count(), 100);
}

TEST(SchemaKeywords, WhitespaceFlexibleIsBounded) {
  JsonOptions o;  // flexible, <= 1 newline and <= 16 spaces/tabs per run
  const std::string schema = R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"}}},"required":["a"]})";
  const std::string sp16(16, ' ');
  check_case({schema,
              {"{\"a\":[1,2]}", "{ \"a\" : [ 1 , 2 ] }", "{\n  \"a\": [\n    1,\n    2\n  ]\n}", "{\n" + sp16 + "\"a\":[]}",
               "{\"a\":[\t]}"},
              {"{\n\n\"a\":[]}", "{" + sp16 + " \"a\":[]}", " {\"a\":[]}", "{\"a\":[]} ", "{\"a\":[1 2]}"}},
             o);
  // The bound holds for the builtin JSON grammar too.
  SchemaGrammar any = build_any_json_grammar(o);
  EXPECT_TRUE(grammar::recognizes(any.grammar, "{ \"x\" :\n [ 1 ,\t{} ] }"));
  EXPECT_FALSE(grammar::recognizes(any.grammar, "{\"x\":" + sp16 + " 1}"));
  EXPECT_FALSE(grammar::recognizes(any.grammar, "[1\n\n]"));
}

TEST(SchemaKeywords, WhitespacePretty) {
  JsonOptions o;
  o.whitespace = WhitespacePolicy::kPretty;
  o.indent = 2;
  check_case({R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"}},"b":{"type":"object"}}})",
              {"{}", "{\n  \"a\": [\n    1,\n    2\n  ]\n}", "{\n  \"a\": [],\n  \"b\": {}\n}"},
              {"{\"a\":[]}", "{\n  \"a\": [1]\n}", "{ }"}},
             o);
}

TEST(SchemaKeywords, Errors) {
  struct ErrorCase {
    std::string schema;
    std::string pointer;
    std::string needle;  // part of the message
  };
  const std::vector<ErrorCase> cases = {
      {R"({"type":"array","uniqueItems":true})", "", "uniqueItems"},
      {R"({"type":"object","properties":{"a":{"type":"array","uniqueItems":true}}})", "/properties/a", "uniqueItems"},
      {R"({"type":"object","unevaluatedProperties":false})", "", "unevaluatedProperties"},
      {R"({"type":"array","items":{"unevaluatedItems":false}})", "/items", "unevaluatedItems"},
      {R"({"$defs":{"a":{"$dynamicAnchor":"x"}},"properties":{"p":{"$dynamicRef":"#x"}}})", "/properties/p", "$dynamicRef"},
      {R"({"$recursiveRef":"#"})", "", "$recursiveRef"},
      {R"({"type":"object","dependentSchemas":{"a":[]}})", "/dependentSchemas/a", "dependentSchemas"},
      {R"({"type":"object","dependentRequired":{"a":{}}})", "/dependentRequired/a", "dependentRequired"},
      {R"({"not":"x"})", "/not", ""},
      {R"({"properties":{"unit":{"enum":"F"}}})", "/properties/unit/enum", "enum"},
      {R"({"type":"strin"})", "/type", "strin"},
      {R"({"$ref":"#/$defs/missing"})", "/$ref", "missing"},
      {R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})", "", "cycle"},
      {R"({"type":"string","minLength":5,"maxLength":2})", "", "no JSON value"},
      {R"({"type":"object","properties":{"a":{"$ref":"#"}},"required":["a"]})", "", "no JSON value"},
      {R"({"minLength":-1})", "/minLength", "non-negative"},
      {R"({"type":"object",)", "1:", "not valid JSON"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.schema);
    try {
      build_json_schema_grammar(c.schema, compact());
      ADD_FAILURE() << "no error";
    } catch (const SchemaError& e) {
      if (c.pointer.find(':') != std::string::npos) {
        EXPECT_EQ(e.location().rfind(c.pointer, 0), 0u) << e.what();
      } else if (c.pointer != "") {
        EXPECT_EQ(e.location(), c.pointer) << e.what();
      }
      EXPECT_NE(std::string(e.what()).find(c.needle), std::string::npos) << e.what();
    }
  }
}

TEST(SchemaKeywords, LenientIgnoresWithWarning) {
  JsonOptions o = compact();
  o.lenient = true;
  SchemaGrammar sg = build_json_schema_grammar(R"({"type":"array","items":{"type":"integer"},"uniqueItems":true})", o);
  ASSERT_EQ(sg.warnings.size(), 1u);
  EXPECT_NE(sg.warnings[0].find("uniqueItems"), std::string::npos);
  EXPECT_TRUE(grammar::recognizes(sg.grammar, "[1,2]"));
  sg = build_json_schema_grammar(R"({"type":"object","properties":{"a":{"$dynamicRef":"#x"}},"unevaluatedProperties":false})", o);
  ASSERT_EQ(sg.warnings.size(), 2u);
  std::sort(sg.warnings.begin(), sg.warnings.end());  // "#: ..." before "/properties/a: ..."
  EXPECT_EQ(sg.warnings[0].rfind("#: ", 0), 0u) << sg.warnings[0];
  EXPECT_NE(sg.warnings[0].find("unevaluatedProperties"), std::string::npos) << sg.warnings[0];
  EXPECT_EQ(sg.warnings[1].rfind("/properties/a: ", 0), 0u) << sg.warnings[1];
  EXPECT_NE(sg.warnings[1].find("$dynamicRef"), std::string::npos) << sg.warnings[1];
  EXPECT_TRUE(grammar::recognizes(sg.grammar, "{\"a\":1}"));
}

TEST(SchemaKeywords, PatternWithImpliedLengths) {
  // Every match of these patterns already has an allowed length: the plain pattern is exact.
  const std::vector<Case> cases = {
      {R"({"type":"string","pattern":"^[a-z]+-[0-9]+$","minLength":3})", {"\"a-1\"", "\"abc-123\""}, {"\"a-\"", "\"-1\""}},
      {R"({"type":"string","pattern":"^(ab|cde){1,2}x$","minLength":3,"maxLength":7})", {"\"abx\"", "\"cdecdex\""}, {"\"x\""}},
      // Unanchored: a match may be longer, never shorter than the shortest full match.
      {R"({"type":"string","pattern":"[0-9]+-[a-z]+","minLength":3})", {"\"1-a\"", "\"x12-ab\""}, {"\"1-\"", "\"-a\""}},
      {R"({"type":"string","pattern":"^é{1,3}ü?$","minLength":1,"maxLength":4})", {"\"é\"", "\"éééü\""}, {"\"\"", "\"ü\""}},
  };
  for (const auto& c : cases) check_case(c, compact());
  // The shortest match is under minLength (and it is not one repeat to adjust): still an error naming the pattern.
  for (const char* schema : {R"({"type":"string","pattern":"^[a-z]+-[0-9]+$","minLength":5,"maxLength":8})",
                             R"({"type":"string","pattern":"^[a-z]*[0-9]*$","minLength":2})"}) {
    SCOPED_TRACE(schema);
    try {
      build_json_schema_grammar(schema, compact());
      ADD_FAILURE() << "no error";
    } catch (const SchemaError& e) {
      EXPECT_EQ(e.location(), "/pattern") << e.what();
      EXPECT_NE(std::string(e.what()).find("minLength/maxLength"), std::string::npos) << e.what();
    }
  }
}

TEST(SchemaKeywords, PatternCappedByMaxLength) {
  // maxLength shared among the parts of the pattern: every string produced matches and fits.
  struct Capped {
    Case c;
    bool exact;  // no warning expected
  };
  const std::vector<Capped> cases = {
      // One varying part takes all the slack: exact.
      {{R"({"type":"string","pattern":"^([a-z]|[a-z][a-z0-9/-]*[a-z])$","maxLength":4})", {"\"a\"", "\"a/-b\"", "\"ab\""},
        {"\"a/-bc\"", "\"a-\"", "\"\""}},
       true},
      {{R"({"type":"string","pattern":"^(ab)+(c|de)$","maxLength":6})", {"\"abc\"", "\"ababde\"", "\"ababc\""}, {"\"abababc\"", "\"ab\""}},
       true},
      // Two varying parts: one share each (5 - 3 fixed = 2: one more character each).
      {{R"({"type":"string","pattern":"^[a-z]+-[0-9]+$","maxLength":5})", {"\"a-1\"", "\"ab-12\""}, {"\"abcd-1\"", "\"ab-123\""}},
       false},
      // A top-level alternation: full matches only (a longer string containing a match is valid too).
      {{R"({"type":"string","pattern":"^a$|^b+$","maxLength":3})", {"\"a\"", "\"bbb\""}, {"\"bbbb\"", "\"ab\""}}, false},
      // Varying iterations: fewer of them, each shorter; never longer than maxLength.
      {{R"({"type":"string","pattern":"^(?:\\S+\\s+){0,99}\\S+$","maxLength":9})", {"\"abc\"", "\"a b cd\""}, {"\"abcdefghij\"", "\"a b c d e\""}}, false},
  };
  for (const auto& x : cases) {
    check_case(x.c, compact());
    const SchemaGrammar sg = build_json_schema_grammar(x.c.schema, compact());
    const bool warned = std::any_of(sg.warnings.begin(), sg.warnings.end(), [](const std::string& w) {
      return w.rfind("/pattern: ", 0) == 0 && w.find("share of maxLength") != std::string::npos;
    });
    EXPECT_EQ(warned, !x.exact) << x.c.schema << ": " << ::testing::PrintToString(sg.warnings);
  }
}

TEST(SchemaKeywords, OneOfOptionalDiscriminatorBecomesRequired) {
  // {"url":"x"} matches every branch, so it is invalid: the grammar must not produce it.
  check_case({R"({"type":"object","additionalProperties":false,"required":["url"],
                 "properties":{"category":{"enum":["a","b"]},"url":{"type":"string"}},
                 "oneOf":[{"properties":{"category":{"const":"a"}}},{"properties":{"category":{"const":"b"}}}]})",
              {"{\"category\":\"a\",\"url\":\"x\"}", "{\"category\":\"b\",\"url\":\"x\"}"},
              {"{\"url\":\"x\"}", "{\"category\":\"c\",\"url\":\"x\"}"}},
             compact());
}

TEST(SchemaKeywords, OneOfDisjointByDiscriminator) {
  check_case({R"({"oneOf":[{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},"required":["kind"]},
                             {"type":"object","properties":{"kind":{"const":"b"},"y":{"type":"string"}},"required":["kind"]}]})",
              {"{\"kind\":\"a\",\"x\":1}", "{\"kind\":\"b\",\"y\":\"s\"}"}, {"{\"kind\":\"a\",\"y\":\"s\"}", "{}"}},
             compact());
}

}  // namespace
}  // namespace stencil::schema
