// Grammar for the inside of JSON objects and arrays once the member and element
// grammars are known: which members may be omitted, where commas go, property
// counts, tuple prefixes and counted repetition. Pure grammar construction over
// given pieces; it knows nothing of schemas.
//
// Objects: members come in the given order, required ones always present,
// optional ones omittable, then any number of extra members. The comma structure
// is a small automaton over (next member, members so far): linear in the number
// of members when no count bound is given, (members x bound) otherwise — never
// exponential. Arrays: optional tuple prefix, then a counted Repeat of the item
// grammar, so `minItems: 500` costs one node.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "grammar/grammar.h"
#include "schema/json_layout.h"
#include "schema/schema_node.h"

namespace stencil::schema {

struct ObjectMember {
  grammar::ExprId member;  // key, colon and value
  bool required = false;
};

// The object at nesting `depth`, or nullopt if it cannot be satisfied.
// `extra`: the grammar of one extra member (key, colon, value), if extra members are allowed.
// Throws LimitError when the count automaton would exceed `max_states`.
std::optional<grammar::ExprId> object_grammar(grammar::Grammar& g, JsonLayout& layout, int depth,
                                              const std::vector<ObjectMember>& members,
                                              std::optional<grammar::ExprId> extra, int64_t min_properties,
                                              int64_t max_properties, int64_t max_states);

// The array at nesting `depth`: elements prefix[0..], then `items` (nullopt: no more elements),
// with min_items <= count <= max_items (max -1: unbounded). `prefix[i]` nullopt: no element
// can stand there. nullopt if the array cannot be satisfied.
std::optional<grammar::ExprId> array_grammar(grammar::Grammar& g, JsonLayout& layout, int depth,
                                             const std::vector<std::optional<grammar::ExprId>>& prefix,
                                             std::optional<grammar::ExprId> items, int64_t min_items,
                                             int64_t max_items);

}  // namespace stencil::schema
