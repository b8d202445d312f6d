// Code-point ranges as UTF-8 byte-range sequences: the way a character class of
// the grammar IR becomes byte edges. [U+0080, U+07FF] is the one sequence
// [C2-DF][80-BF]; ragged ranges split into a few sequences. Surrogates
// (U+D800..U+DFFF) are never produced: they are not valid in UTF-8.
#pragma once

#include <cstdint>
#include <vector>

#include "grammar/grammar.h"

namespace stencil::engine {

struct ByteRange {
  uint8_t lo, hi;
};
using Utf8Sequence = std::vector<ByteRange>;  // 1 to 4 ranges, one per byte

// Appends to `out` byte-range sequences matching exactly the UTF-8 encodings of the code points in [lo, hi].
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<Utf8Sequence>& out);

}  // namespace stencil::engine
