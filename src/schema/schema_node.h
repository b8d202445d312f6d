// Typed schema nodes: the JSON Schema document after parsing, before it becomes
// grammar. One Node per schema location; subschemas are referred to by NodeId in
// an arena, so recursive schemas ($ref cycles) are plain index cycles.
//
// A parsed Node keeps its `$ref` targets and `allOf` members in `all_of` (to be
// merged); resolve.h flattens a node into one merged constraint set. Nodes hold
// only what the grammar needs: annotations are dropped by the parser.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "schema/decimal.h"

namespace stencil::schema {

using Json = nlohmann::ordered_json;  // keeps object key order: properties come out in schema order
using NodeId = int32_t;

// Instance types as bits. JSON Schema's "number" is kInteger | kFraction.
enum TypeBits : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kString = 16,
  kInteger = 32,   // numbers with an integer value
  kFraction = 64,  // numbers with a non-integer value
  kAllTypes = 127,
};

inline constexpr NodeId kTrueNode = 0;   // the schema `true` / `{}`: any value
inline constexpr NodeId kFalseNode = 1;  // the schema `false`: no value
inline constexpr int64_t kNoMax = -1;

struct Node {
  std::string pointer;  // JSON pointer of the schema in the document ("" = root)
  uint8_t types = kAllTypes;
  std::optional<std::vector<Json>> enum_values;  // `enum`/`const` (intersected)
  std::vector<NodeId> all_of;                    // `$ref` targets and `allOf` members: merged in resolve
  // Each group is one `anyOf`/`oneOf`: the value must match (exactly, for oneOf) one alternative.
  std::vector<std::vector<NodeId>> any_of;
  std::vector<bool> any_of_is_one_of;  // parallel to any_of
  // `not` (and the negative half of if/then/else, oneOf rewritten exactly): the value must fail each.
  // Kept as exact semantics here; the emitter pushes a negation down into positive keywords
  // (Resolver::negation in resolve.h).
  std::vector<NodeId> nots;

  // strings
  int64_t min_length = 0;
  int64_t max_length = kNoMax;
  std::vector<std::string> patterns;  // all must match (more than one only after merging)
  std::vector<std::string> formats;   // supported formats only; all must hold
  std::vector<std::string> not_strings;  // a string must be none of these (from a negated enum/const)

  // numbers
  std::optional<Decimal> minimum;
  bool minimum_exclusive = false;
  std::optional<Decimal> maximum;
  bool maximum_exclusive = false;
  std::vector<Decimal> multiple_of;  // positive

  // objects
  std::vector<std::pair<std::string, NodeId>> properties;  // in schema order, unique names
  std::vector<std::string> required;                       // unique
  std::optional<NodeId> additional;                        // absent: unspecified (strict mode decides)
  std::vector<std::pair<std::string, NodeId>> pattern_properties;
  std::optional<NodeId> property_names;
  int64_t min_properties = 0;
  int64_t max_properties = kNoMax;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;

  // arrays
  std::vector<NodeId> prefix_items;
  std::optional<NodeId> items;  // items after the prefix; absent: any value
  std::optional<NodeId> contains;
  int64_t min_contains = 1;
  int64_t max_contains = kNoMax;
  int64_t min_items = 0;
  int64_t max_items = kNoMax;
};

// All nodes of one schema document. Node 0 is `true`, node 1 is `false`. A deque, so references
// to nodes stay valid while later stages add merged nodes.
struct Arena {
  std::deque<Node> nodes;
  Arena() {
    nodes.push_back(Node{});
    Node never;
    never.types = 0;
    nodes.push_back(never);
  }
  NodeId add(Node n) {
    nodes.push_back(std::move(n));
    return static_cast<NodeId>(nodes.size() - 1);
  }
  Node& at(NodeId id) { return nodes[static_cast<size_t>(id)]; }
  const Node& at(NodeId id) const { return nodes[static_cast<size_t>(id)]; }
};

}  // namespace stencil::schema
