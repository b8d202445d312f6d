// A set of byte values as a 256-bit mask: the character classes of the class-run
// shortcut (class_runs.h) and the bytes below each vocabulary trie node (sorted_vocab.h).
#pragma once

#include <array>
#include <cstdint>
#include <functional>

namespace stencil::engine {

using ByteSet = std::array<uint64_t, 4>;

inline void add_byte(ByteSet& s, uint8_t c) { s[c >> 6] |= uint64_t{1} << (c & 63); }
inline bool has_byte(const ByteSet& s, uint8_t c) { return (s[c >> 6] >> (c & 63)) & 1u; }
// Every byte of `sub` is in `super`.
inline bool is_subset(const ByteSet& sub, const ByteSet& super) {
  return ((sub[0] & ~super[0]) | (sub[1] & ~super[1]) | (sub[2] & ~super[2]) | (sub[3] & ~super[3])) == 0;
}
inline void add_range(ByteSet& s, uint8_t lo, uint8_t hi) {
  for (int c = lo; c <= hi; ++c) add_byte(s, static_cast<uint8_t>(c));
}

struct ByteSetHash {
  size_t operator()(const ByteSet& s) const {
    uint64_t h = s[0] * 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 29) ^ s[1]) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 31) ^ s[2]) * 0x94d049bb133111ebull;
    h = (h ^ (h >> 27) ^ s[3]) * 0x9e3779b97f4a7c15ull;
    return static_cast<size_t>(h ^ (h >> 32));
  }
};

}  // namespace stencil::engine
