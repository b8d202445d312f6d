// Cleans a grammar built by the schema compiler: drops what can derive no string
// (unsatisfiable subschemas, recursive schemas without a base case, the "never"
// placeholder) and whatever the root cannot reach. Keeps rule names.
#pragma once

#include <optional>

#include "grammar/grammar.h"

namespace stencil::schema {

// The pruned grammar, or nullopt when the root derives no string at all.
std::optional<grammar::Grammar> prune_grammar(const grammar::Grammar& g);

}  // namespace stencil::schema
