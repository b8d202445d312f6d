// JSON Schema text -> typed nodes (schema_node.h).
//
// Checks every keyword's type, resolves `$ref` (JSON pointers "#/...", anchors
// "#name", `$id`-relative references inside the document) to node ids, and
// records `allOf`/`$ref` for resolve.h to merge. Unsupported keywords are errors
// naming the keyword and its pointer, or warnings under `lenient`. Unknown keys
// that are not JSON Schema keywords are ignored, as the specification says;
// annotations are dropped. It does not merge, validate instances or build grammar.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "schema/schema_node.h"
#include "stencil/compiler.h"

namespace stencil::schema {

struct ParsedSchema {
  Arena arena;
  NodeId root = kTrueNode;
  std::vector<std::string> warnings;
};

// Throws SchemaError (the first problem's pointer as location; the message lists all
// problems found) or LimitError (max_depth).
ParsedSchema parse_schema(const Json& document, const JsonOptions& options);

// Parses JSON text into a document, keeping key order. Throws SchemaError on invalid JSON ("line:column").
Json parse_json_text(std::string_view text);

// "/a~1b" style escaping of one pointer segment.
std::string escape_pointer_segment(std::string_view segment);

}  // namespace stencil::schema
