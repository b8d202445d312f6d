// Grammar for JSON strings: the body of a string literal under length bounds
// (counted in code points, an escape sequence or a surrogate pair being one),
// canonical literals for keys and enum values, "any string except these names"
// for extra object keys, and the `format` values stencil supports. Every function
// returns the text *between* the quotes unless its name says "quoted".
// It does not handle `pattern` (the regex front end does) or layout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/grammar.h"

namespace stencil::schema {

// One character of a string body: a raw code point other than ", \ and controls, or
// (when `allow_escapes`) an escape: \" \\ \/ \b \f \n \r \t \uXXXX (a surrogate pair as one).
grammar::ExprId json_char(grammar::Grammar& g, bool allow_escapes);

// Between min and max (kNoMax: -1) characters. nullopt if max < min.
std::optional<grammar::ExprId> string_body(grammar::Grammar& g, int64_t min_chars, int64_t max_chars,
                                           bool allow_escapes, int32_t max_repetition);

// The canonical JSON spelling of UTF-8 text, quotes included: raw characters except
// " \ and controls, which are written \" \\ \b \f \n \r \t or \u00xx. nullopt if the
// text is not valid UTF-8.
std::optional<std::string> canonical_json_string(std::string_view utf8);

// A quoted JSON string whose canonical spelling is not one of `excluded` (UTF-8 texts).
// Only canonical spellings are produced, so "\u0061" can never smuggle in "a".
grammar::ExprId quoted_string_excluding(grammar::Grammar& g, const std::vector<std::string>& excluded);

// The body of a string in `format` (date, time, date-time, duration, email, hostname,
// ipv4, ipv6, uuid, uri, uri-reference, json-pointer, relative-json-pointer). nullopt for any other format.
std::optional<grammar::ExprId> format_body(grammar::Grammar& g, std::string_view format);
// The shortest and longest body in characters for a format (max -1: unbounded).
std::pair<int64_t, int64_t> format_length_range(std::string_view format);

}  // namespace stencil::schema
