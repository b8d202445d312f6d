// Resolving typed schema nodes: flattening `$ref` and `allOf` into one merged
// constraint set per node (exactly, or a SchemaError where a merge cannot be
// exact), conjunctions of nodes, an instance validator for the supported keywords
// (used to filter enum/const values and to prove oneOf branches disjoint), and
// that disjointness check itself. It does not build grammar.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "schema/schema_node.h"
#include "stencil/compiler.h"

namespace stencil::schema {

class Resolver {
 public:
  Resolver(Arena& arena, const JsonOptions& options, std::vector<std::string>& warnings)
      : arena_(arena), options_(options), warnings_(warnings) {}

  // The node with `all_of` merged in (recursively through $ref chains); its all_of is empty.
  // Child schemas of the result may still need flattening. Memoised.
  // Throws SchemaError on a $ref/allOf cycle that never reaches a constraint, or a merge that cannot be exact;
  // LimitError past max_depth.
  NodeId flatten(NodeId id);

  // A node that means "a and b" (built lazily: flatten merges it).
  NodeId conjunction(NodeId a, NodeId b);

  // Does `value` satisfy node `id`? Exact for the keywords stencil supports; `pattern` uses
  // ECMAScript std::regex, and any doubt (a regex it cannot run) answers false.
  bool validate(const Json& value, NodeId id);

  // True only when no value satisfies both flattened nodes a and b (a proof, not a guess).
  bool provably_disjoint(NodeId a, NodeId b);

  Arena& arena() { return arena_; }

  // The schema a key gets in an object node: properties[key] and matching patternProperties,
  // or additionalProperties (unspecified: nullopt).
  std::optional<NodeId> key_schema(const Node& n, const std::string& key, bool* matched_pattern = nullptr);

 private:
  void merge_into(Node& r, const Node& b, const std::string& pointer);
  bool validate_at(const Json& value, NodeId id, int depth);

  Arena& arena_;
  const JsonOptions& options_;
  std::vector<std::string>& warnings_;
  std::unordered_map<NodeId, NodeId> flat_;
  std::unordered_map<NodeId, bool> in_progress_;
  std::map<std::pair<NodeId, NodeId>, NodeId> conj_;
  int depth_ = 0;
};

// True if `pattern` (ECMAScript) matches somewhere in `text` (search semantics). nullopt if it cannot be run.
std::optional<bool> regex_search(const std::string& pattern, const std::string& text);

}  // namespace stencil::schema
