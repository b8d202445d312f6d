// Resolving typed schema nodes: flattening `$ref` and `allOf` into one merged
// constraint set per node (exactly, or a SchemaError where a merge cannot be
// exact), conjunctions of nodes, an instance validator for the supported keywords
// (used to filter enum/const values and to prove oneOf branches disjoint), and
// that disjointness check itself. It does not build grammar.
#pragma once

#include <map>
#include <tuple>
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

  // Does `value` surely satisfy node `id`? `pattern` uses ECMAScript std::regex; any doubt (a regex
  // it cannot run or that may read non-ASCII text differently, an unchecked multipleOf) answers false.
  bool validate(const Json& value, NodeId id);

  // Does `value` surely fail node `id`? Any doubt answers false (the mirror of validate).
  bool refutes(const Json& value, NodeId id);

  // A node meaning "not s" (memoised).
  NodeId not_node(NodeId s);

  // The values of `types` that fail node `s`, as a node without a top-level `not` (an anyOf of
  // positive alternatives; sub-schemas may carry `not` again, pushed down lazily). Exact, except
  // that values failing a keyword that has no positive complement here (pattern, format, integer
  // multipleOf, additionalProperties, patternProperties, propertyNames, minContains > 1, ...) are left
  // out: the result is then a subset (sound), and {pointer, keyword} is appended to `dropped`.
  // `context` (a node the value is known to satisfy, kTrueNode if none) only removes alternatives it
  // already excludes: a keyword the context holds as well cannot fail (same schema, tighter bound).
  // `strict`: a key the context does not declare (additionalProperties unspecified) is never written.
  struct Dropped {
    std::string pointer;  // of the negated schema
    std::string keyword;  // whose failing values are not produced
  };
  NodeId negation(NodeId s, uint8_t types, std::vector<Dropped>& dropped, NodeId context = kTrueNode,
                  bool strict = false);

  // True only when no value satisfies node `id` (a cheap proof: contradictory bounds, a required key
  // whose schema is empty, enum values that all fail the rest; false when in doubt).
  bool provably_empty(NodeId id, int depth = 0);

  // True only when no value satisfies both flattened nodes a and b (a proof, not a guess).
  bool provably_disjoint(NodeId a, NodeId b);

  Arena& arena() { return arena_; }

  // The schema a key gets in an object node: properties[key] and matching patternProperties,
  // or additionalProperties (unspecified: nullopt).
  std::optional<NodeId> key_schema(const Node& n, const std::string& key, bool* matched_pattern = nullptr);

 private:
  void merge_into(Node& r, const Node& b, const std::string& pointer);
  enum class Truth { kNo, kYes, kMaybe };
  Truth validate_at(const Json& value, NodeId id, int depth);

  Arena& arena_;
  const JsonOptions& options_;
  std::vector<std::string>& warnings_;
  std::unordered_map<NodeId, NodeId> flat_;
  std::unordered_map<NodeId, bool> in_progress_;
  std::map<std::pair<NodeId, NodeId>, NodeId> conj_;
  std::unordered_map<NodeId, NodeId> not_;
  struct Negation {
    NodeId node;
    std::vector<Dropped> dropped;  // what negation() appended when it built `node`
  };
  std::map<std::tuple<NodeId, uint8_t, NodeId, bool>, Negation> negation_;
  int depth_ = 0;
};

// True if `pattern` (ECMAScript) matches somewhere in `text` (search semantics). nullopt if it cannot be run.
std::optional<bool> regex_search(const std::string& pattern, const std::string& text);

}  // namespace stencil::schema
