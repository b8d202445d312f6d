// Tests of negation in the JSON Schema front end: `not`, if/then/else, dependentSchemas
// (draft 7 schema `dependencies`) and oneOf with overlapping branches made exact. Each case
// has exact accept/reject expectations (reference recognizer, compact layout); values that
// a negation cannot express are left out with a warning, never produced.
#include <gtest/gtest.h>

#include <algorithm>

#include "schema/json_schema_grammar.h"
#include "schema_test_util.h"
#include "stencil/compiler.h"
#include "stencil/errors.h"
#include "stencil/vocabulary.h"

namespace stencil::schema {
namespace {

using testing::Case;
using testing::check_case;
using testing::compact;

JsonOptions open_objects() {
  JsonOptions o = compact();
  o.strict = false;  // JSON Schema's default: undeclared keys allowed
  return o;
}

bool has_warning(const SchemaGrammar& sg, const std::string& needle) {
  return std::any_of(sg.warnings.begin(), sg.warnings.end(),
                     [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

TEST(SchemaNegation, NotTypes) {
  const std::vector<Case> cases = {
      {R"({"not":{"type":"string"}})", {"null", "true", "1", "-2.5", "[]", "{}"}, {"\"a\"", "\"\""}},
      {R"({"not":{"type":["string","null","object","array","boolean"]}})", {"0", "1.5", "-3"}, {"null", "\"a\"", "{}", "[]", "true"}},
      // Not an integer: numbers with a fraction only; 1.0 is an integer in JSON Schema.
      {R"({"not":{"type":"integer"}})", {"1.5", "-0.25", "0.001", "\"x\"", "null"}, {"1", "0", "-3", "1.0", "2.00", "1e2"}},
      {R"({"type":"number","not":{"type":"integer"}})", {"0.5", "-12.75"}, {"2", "-1", "\"x\"", "3.0"}},
      {R"({"not":{"type":"number"}})", {"\"1\"", "null", "[1]"}, {"1", "1.5", "-0"}},
      {R"({"not":{}})", {}, {}},  // checked below: nothing is valid
  };
  for (size_t i = 0; i + 1 < cases.size(); ++i) check_case(cases[i], compact());
  EXPECT_THROW(build_json_schema_grammar(R"({"not":{}})", compact()), SchemaError);
  EXPECT_THROW(build_json_schema_grammar(R"({"type":"string","not":{"type":"string"}})", compact()), SchemaError);
}

TEST(SchemaNegation, NotEnumAndConst) {
  const std::vector<Case> cases = {
      // No spelling of an excluded string gets through, escapes included.
      {R"({"type":"string","not":{"enum":["a","b"]}})", {"\"c\"", "\"\"", "\"ab\"", "\"ba\""}, {"\"a\"", "\"b\"", "\"\\u0061\"", "1"}},
      {R"({"type":"string","not":{"const":"é"}})", {"\"e\"", "\"éé\""}, {"\"é\"", "\"\\u00e9\""}},
      {R"({"type":"integer","not":{"const":3}})", {"2", "4", "-3", "30"}, {"3"}},
      {R"({"type":"number","not":{"const":1}})", {"1.5", "0", "0.999", "2"}, {"1", "1.0"}},
      {R"({"type":"integer","not":{"enum":[1,2,3]}})", {"0", "4", "-1", "10"}, {"1", "2", "3"}},
      {R"({"not":{"enum":[null,true]}})", {"false", "0", "\"null\""}, {"null", "true"}},
      {R"({"type":"boolean","not":{"const":false}})", {"true"}, {"false"}},
      // The context's enum inside the negated one: nothing left.
      {R"({"enum":["a","b","c"],"not":{"enum":["b"]}})", {"\"a\"", "\"c\""}, {"\"b\""}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaNegation, NotBounds) {
  const std::vector<Case> cases = {
      {R"({"type":"integer","not":{"minimum":10}})", {"9", "-5", "0"}, {"10", "11", "1000"}},
      {R"({"type":"integer","not":{"exclusiveMaximum":5}})", {"5", "6", "100"}, {"4", "0", "-1"}},
      {R"({"type":"integer","minimum":0,"maximum":10,"not":{"minimum":3,"maximum":7}})",
       {"0", "2", "8", "10"}, {"3", "5", "7", "11", "-1"}},
      {R"({"type":"number","not":{"maximum":1.5}})", {"1.6", "2", "1.51"}, {"1.5", "1", "-4"}},
      {R"({"type":"string","not":{"maxLength":2}})", {"\"abc\"", "\"ééé\""}, {"\"ab\"", "\"\"", "\"éé\""}},
      {R"({"type":"string","not":{"minLength":2}})", {"\"a\"", "\"\""}, {"\"ab\""}},
      {R"({"type":"array","items":{"type":"integer"},"not":{"minItems":2}})", {"[]", "[1]"}, {"[1,2]", "[1,2,3]"}},
      {R"({"type":"array","items":{"type":"integer"},"not":{"maxItems":1}})", {"[1,2]"}, {"[]", "[1]"}},
      {R"({"type":"object","additionalProperties":{"type":"integer"},"not":{"minProperties":1}})", {"{}"}, {"{\"a\":1}"}},
      // Integer bounds on non-integers: exact.
      {R"({"type":"number","minimum":0,"maximum":2,"not":{"type":"integer"}})",
       {"0.5", "1.25", "1.999", "0.001"}, {"0", "1", "2", "2.5", "-0.5", "1.0"}},
      {R"({"type":"number","exclusiveMinimum":-2,"exclusiveMaximum":0,"not":{"type":"integer"}})",
       {"-1.5", "-0.5", "-1.01"}, {"-2", "-1", "0", "-2.5", "0.5", "-0"}},
      // multipleOf an integer: the non-integers fail it; integers that are not multiples are left out.
      {R"({"type":"number","not":{"multipleOf":2}})", {"0.5", "3.25"}, {"2", "4", "0"}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaNegation, NotRequiredAndProperties) {
  const std::vector<Case> cases = {
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"additionalProperties":false,
           "not":{"required":["a"]}})",
       {"{}", "{\"b\":1}"}, {"{\"a\":1}", "{\"a\":1,\"b\":2}"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"additionalProperties":false,
           "not":{"required":["a","b"]}})",
       {"{}", "{\"a\":1}", "{\"b\":1}"}, {"{\"a\":1,\"b\":2}"}},
      // {} satisfies the negated schema (a is not there to fail it), so it is invalid.
      {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false,
           "not":{"properties":{"a":{"minimum":5}}}})",
       {"{\"a\":4}", "{\"a\":-1}"}, {"{}", "{\"a\":5}", "{\"a\":6}"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"additionalProperties":false,
           "not":{"dependentRequired":{"a":["b"]}}})",
       {"{\"a\":1}"}, {"{}", "{\"b\":1}", "{\"a\":1,\"b\":2}"}},
      // Nested: a property's own `not`.
      {R"({"type":"object","properties":{"a":{"not":{"type":"string"}}},"required":["a"],"additionalProperties":false})",
       {"{\"a\":1}", "{\"a\":null}", "{\"a\":[]}"}, {"{\"a\":\"x\"}", "{}"}},
      // not(not x) = x.
      {R"({"not":{"not":{"type":"integer"}}})", {"1", "-7"}, {"\"a\"", "1.5", "null"}},
      {R"({"type":"integer","not":{"anyOf":[{"minimum":10},{"maximum":0}]}})", {"1", "5", "9"}, {"0", "10", "-3", "20"}},
      // not oneOf: neither branch, or both at once.
      {R"({"type":"integer","minimum":0,"maximum":20,"not":{"oneOf":[{"maximum":10},{"minimum":5}]}})",
       {"5", "7", "10"}, {"0", "4", "11", "20"}},
      {R"({"type":"array","items":{"type":"integer"},"not":{"prefixItems":[{"minimum":0}]}})", {"[-1]", "[-1,5]"}, {"[]", "[0]", "[3,-1]"}},
      // Some item is not an integer (`contains` puts that item first: [1,null] is valid but not produced).
      {R"({"type":"array","not":{"items":{"type":"integer"}}})", {"[\"a\"]", "[null,1]"}, {"[]", "[1]", "[1,2]"}},
      {R"({"type":"array","not":{"contains":{"type":"string"}}})", {"[]", "[1]", "[1,null]"}, {"[\"a\"]", "[1,\"a\"]"}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaNegation, NotRecursive) {
  // A tree: objects whose only key "c" is again a tree. Not a tree: anything else, at any depth.
  const std::string schema = R"({"$defs":{"t":{"type":"object","properties":{"c":{"$ref":"#/$defs/t"}},"additionalProperties":false}},
                                  "not":{"$ref":"#/$defs/t"}})";
  check_case({schema, {"1", "\"x\"", "{\"c\":1}", "{\"c\":{\"c\":[]}}"}, {"{}", "{\"c\":{}}", "{\"c\":{\"c\":{}}}"}},
             open_objects());
  // {"d":1} is valid too (it fails additionalProperties: false), but that failure has no positive form.
  const SchemaGrammar sg = build_json_schema_grammar(schema, open_objects());
  EXPECT_FALSE(grammar::recognizes(sg.grammar, "{\"d\":1}"));
  EXPECT_TRUE(has_warning(sg, "/not: values failing 'additionalProperties'")) << ::testing::PrintToString(sg.warnings);
}

TEST(SchemaNegation, IfThenElse) {
  const std::vector<Case> cases = {
      {R"({"type":"integer","if":{"minimum":10},"then":{"maximum":20},"else":{"maximum":0}})",
       {"10", "20", "0", "-5"}, {"21", "100", "5", "1"}},
      {R"({"type":"integer","if":{"minimum":10},"then":{"enum":[10,12]}})", {"12", "10", "9", "-3"}, {"11", "13"}},
      {R"({"type":"string","if":{"maxLength":2},"then":{"enum":["a","bb"]}})", {"\"a\"", "\"bb\"", "\"ccc\""}, {"\"b\"", "\"\"", "\"cc\""}},
      {R"({"type":"integer","if":{"maximum":0},"else":{"maximum":5}})", {"-100", "0", "5"}, {"6"}},
      {R"({"type":"object","properties":{"kind":{"enum":["a","b"]},"x":{"type":"integer"}},"required":["kind"],
           "additionalProperties":false,"if":{"properties":{"kind":{"const":"a"}}},"then":{"required":["x"]}})",
       {"{\"kind\":\"a\",\"x\":1}", "{\"kind\":\"b\"}", "{\"kind\":\"b\",\"x\":2}"}, {"{\"kind\":\"a\"}"}},
      // then/else without if assert nothing.
      {R"({"type":"integer","then":{"maximum":0},"else":{"minimum":5}})", {"1", "-1", "7"}, {"\"a\""}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaNegation, DependentSchemas) {
  const std::vector<Case> cases = {
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"additionalProperties":false,
           "dependentSchemas":{"a":{"required":["b"]}}})",
       {"{}", "{\"b\":1}", "{\"a\":1,\"b\":2}"}, {"{\"a\":1}"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"additionalProperties":false,
           "dependentSchemas":{"a":{"properties":{"b":{"minimum":5}}}}})",
       {"{\"a\":1,\"b\":5}", "{\"b\":1}", "{\"a\":1}"}, {"{\"a\":1,\"b\":4}"}},
      // draft 7: `dependencies` with a schema value.
      {R"({"$schema":"http://json-schema.org/draft-07/schema#","type":"object",
           "properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"additionalProperties":false,
           "dependencies":{"a":{"required":["b"]},"b":["a"]}})",
       {"{}", "{\"a\":1,\"b\":2}"}, {"{\"a\":1}", "{\"b\":1}"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false,
           "dependentSchemas":{"a":false}})",
       {"{}"}, {"{\"a\":1}"}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaNegation, MutualDependentRequired) {
  // a needs v and v needs a: both or neither (a variant with one of them alone was produced).
  const std::string deps = R"("type":"object","properties":{"a":{"type":"string"},"v":{"type":"integer"},"n":{"type":"string"}},
                              "additionalProperties":false,"dependencies":{"a":["v"],"v":["a"]})";
  check_case({"{" + deps + "}", {"{}", "{\"n\":\"x\"}", "{\"a\":\"x\",\"v\":1}"}, {"{\"v\":1,\"n\":\"x\"}", "{\"a\":\"x\"}", "{\"v\":1}"}},
             compact());
  check_case({"{" + deps + R"(,"anyOf":[{"required":["n"]},{"required":["a","v"]}]})",
              {"{\"n\":\"x\"}", "{\"a\":\"x\",\"v\":1}", "{\"a\":\"x\",\"v\":1,\"n\":\"y\"}"},
              {"{}", "{\"v\":1,\"n\":\"x\"}", "{\"a\":\"x\",\"n\":\"x\"}"}},
             compact());
}

TEST(SchemaNegation, OneOfOverlappingIsExact) {
  const std::vector<Case> cases = {
      // 1 matches both branches: invalid; 1.5 only the second.
      {R"({"oneOf":[{"type":"integer"},{"type":"number"}]})", {"1.5", "-0.5"}, {"1", "0", "\"a\""}},
      {R"({"type":"integer","oneOf":[{"minimum":0},{"maximum":10}]})", {"-5", "11", "100"}, {"0", "5", "10"}},
      {R"({"type":"string","oneOf":[{"maxLength":3},{"minLength":2}]})", {"\"a\"", "\"\"", "\"abcd\""}, {"\"ab\"", "\"abc\""}},
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"additionalProperties":false,
           "oneOf":[{"required":["a"]},{"required":["b"]}]})",
       {"{\"a\":1}", "{\"b\":2}"}, {"{}", "{\"a\":1,\"b\":2}"}},
      {R"({"oneOf":[{"enum":[1,2,3]},{"enum":[3,4]}]})", {"1", "2", "4"}, {"3", "5"}},
  };
  for (const auto& c : cases) check_case(c, compact());
}

TEST(SchemaNegation, InexpressibleValuesAreLeftOutWithAWarning) {
  // Strings that fail a pattern have no positive form here: they are not produced, and the warning says so.
  SchemaGrammar sg = build_json_schema_grammar(R"({"anyOf":[{"type":"integer"},{"type":"string","not":{"pattern":"^a"}}]})", compact());
  EXPECT_TRUE(grammar::recognizes(sg.grammar, "1"));
  EXPECT_FALSE(grammar::recognizes(sg.grammar, "\"abc\""));
  EXPECT_FALSE(grammar::recognizes(sg.grammar, "\"b\""));  // valid, but not produced
  EXPECT_TRUE(has_warning(sg, "'pattern' are not produced")) << ::testing::PrintToString(sg.warnings);
  EXPECT_TRUE(has_warning(sg, "/anyOf/1/not")) << ::testing::PrintToString(sg.warnings);

  // Integers that are not a multiple of 3: left out; the non-integers are still there.
  sg = build_json_schema_grammar(R"({"type":"number","not":{"multipleOf":3}})", compact());
  EXPECT_TRUE(grammar::recognizes(sg.grammar, "1.5"));
  EXPECT_FALSE(grammar::recognizes(sg.grammar, "3"));
  EXPECT_FALSE(grammar::recognizes(sg.grammar, "4"));  // valid, but not produced
  EXPECT_TRUE(has_warning(sg, "'multipleOf'")) << ::testing::PrintToString(sg.warnings);

  // Objects excluded by an object enum: left out.
  sg = build_json_schema_grammar(R"({"type":["object","integer"],"not":{"enum":[{"a":1}]}})", open_objects());
  EXPECT_TRUE(grammar::recognizes(sg.grammar, "7"));
  EXPECT_FALSE(grammar::recognizes(sg.grammar, "{\"a\":1}"));
  EXPECT_TRUE(has_warning(sg, "enum (objects)")) << ::testing::PrintToString(sg.warnings);

  // A non-integer bound on fraction-only numbers: the partial unit interval is left out.
  sg = build_json_schema_grammar(R"({"type":"number","minimum":0.5,"maximum":3,"not":{"type":"integer"}})", compact());
  EXPECT_TRUE(grammar::recognizes(sg.grammar, "1.5"));
  EXPECT_TRUE(grammar::recognizes(sg.grammar, "2.25"));
  EXPECT_FALSE(grammar::recognizes(sg.grammar, "0.25"));
  EXPECT_FALSE(grammar::recognizes(sg.grammar, "3.5"));
  EXPECT_FALSE(grammar::recognizes(sg.grammar, "2"));
  EXPECT_TRUE(has_warning(sg, "non-integer bound")) << ::testing::PrintToString(sg.warnings);

  // An exact negation has no warning.
  sg = build_json_schema_grammar(R"({"type":"integer","not":{"minimum":10}})", compact());
  EXPECT_TRUE(sg.warnings.empty()) << ::testing::PrintToString(sg.warnings);
}

TEST(SchemaNegation, NothingProducibleIsAnErrorNamingTheKeyword) {
  // Every valid value fails a pattern inside `not`: nothing can be produced, so it is an error
  // naming the spot (not "no JSON value satisfies", which would be false), lenient or not.
  for (bool lenient : {false, true}) {
    JsonOptions o = compact();
    o.lenient = lenient;
    try {
      build_json_schema_grammar(R"({"type":"object","properties":{"s":{"type":"string","not":{"pattern":"^a"}}},"required":["s"]})", o);
      ADD_FAILURE() << "no error";
    } catch (const SchemaError& e) {
      EXPECT_EQ(e.location(), "/properties/s/not") << e.what();
      EXPECT_NE(std::string(e.what()).find("unsupported"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("'pattern'"), std::string::npos) << e.what();
    }
  }
}

TEST(SchemaNegation, WarningsReachTheCompiledGrammar) {
  // Through the public Compiler: the notes are CompiledGrammar::warnings(), as the lenient ones are.
  std::vector<std::string> tokens;
  for (int c = 0; c < 128; ++c) tokens.emplace_back(1, static_cast<char>(c));
  tokens.emplace_back("</s>");
  const Vocabulary vocab = Vocabulary::from_tokens(tokens, {128});
  const Compiler compiler(vocab);
  const CompiledGrammar g = compiler.compile_json_schema(R"({"anyOf":[{"type":"integer"},{"type":"string","not":{"format":"email"}}]})");
  const auto& w = g.warnings();
  EXPECT_TRUE(std::any_of(w.begin(), w.end(), [](const std::string& s) { return s.find("'format'") != std::string::npos; }))
      << ::testing::PrintToString(w);
  try {
    compiler.compile_json_schema(R"({"type":"string","not":{"format":"email"}})");
    ADD_FAILURE() << "no error";
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.location(), "/not") << e.what();
    EXPECT_NE(std::string(e.what()).find("'format'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace stencil::schema
