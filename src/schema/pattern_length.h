// `pattern` together with minLength/maxLength: the pattern's matches whose length (in code points)
// is allowed, as JSON string content. Three ways, tried in order:
//  - an anchored pattern that is fixed-length pieces and at most one repeated character class
//    (`^[A-Z]{2}[0-9]+$`): the length bounds move into that repeat's bounds (exact);
//  - a pattern whose every match already has an allowed length: the plain pattern (exact);
//  - a pattern that is long enough but may be too long: every part of the regex gets a share of
//    maxLength, so every string produced fits and matches (sound; `exact` false when strings that
//    would fit are left out, e.g. an unanchored pattern).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "grammar/grammar.h"

namespace stencil::schema {

struct LengthBoundedPattern {
  bool handled = false;                  // false: none of the three applies (an unsupported combination)
  std::optional<grammar::ExprId> body;   // nullopt: no match has an allowed length; -1: the plain pattern
  bool exact = true;                     // false: some matches with an allowed length are not produced
};

// min_len/max_len in code points; max_len may be kNoMax (schema_node.h).
// portable_classes: see grammar::RegexOptions.
LengthBoundedPattern length_bounded_pattern(grammar::Grammar& g, const std::string& pattern, int64_t min_len,
                                            int64_t max_len, bool portable_classes);

}  // namespace stencil::schema
