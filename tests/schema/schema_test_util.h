// Helpers for the schema tests: compile a schema with the JSON Schema front end and
// ask the reference recognizer (grammar/recognizer.h) whether the grammar accepts bytes.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "grammar/recognizer.h"
#include "schema/json_schema_grammar.h"

namespace stencil::schema::testing {

inline JsonOptions compact() {
  JsonOptions o;
  o.whitespace = WhitespacePolicy::kCompact;
  return o;
}

struct Case {
  std::string schema;
  std::vector<std::string> accept;
  std::vector<std::string> reject;
};

inline void check_case(const Case& c, const JsonOptions& options) {
  SCOPED_TRACE("schema: " + c.schema);
  SchemaGrammar sg;
  ASSERT_NO_THROW(sg = build_json_schema_grammar(c.schema, options));
  for (const auto& doc : c.accept) EXPECT_TRUE(grammar::recognizes(sg.grammar, doc)) << "should accept: " << doc;
  for (const auto& doc : c.reject) EXPECT_FALSE(grammar::recognizes(sg.grammar, doc)) << "should reject: " << doc;
}

}  // namespace stencil::schema::testing
