// A reference recognizer for the grammar IR: does a grammar derive a byte string?
//
// This is a test oracle, written to be obviously correct rather than fast: a plain
// Earley recognizer over the byte-level IR that handles any context-free grammar
// (left recursion, empty rules, nested and counted repeats). It is the independent
// check the engine and the front ends (GBNF, regex, JSON Schema) are tested against.
// It does not produce parse trees, masks or error positions, and its cost is
// O(n^3) time in the worst case: use it on short strings in tests only.
#pragma once

#include <string_view>

#include "grammar/grammar.h"

namespace stencil::grammar {

// True iff the root rule of `grammar` derives exactly `bytes`.
// A kCharClass matches one strictly valid UTF-8 encoded code point in its ranges
// (so it spans 1-4 bytes); a kByteClass matches one byte; invalid UTF-8 never
// matches a kCharClass. A rule that was declared but never defined matches nothing.
// Throws ArgumentError when the grammar has no root rule.
// Thread-safety: a pure function of its arguments.
bool recognizes(const Grammar& grammar, std::string_view bytes);

}  // namespace stencil::grammar
