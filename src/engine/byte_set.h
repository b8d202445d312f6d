// A set of byte values as a 256-bit mask: the character classes of the class-run
// shortcut (class_runs.h) and the bytes below each vocabulary trie node (sorted_vocab.h).
#pragma once

#include <algorithm>
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
// The bytes [lo, hi] of 64-bit word w, as a mask.
inline uint64_t range_mask(int w, uint8_t lo, uint8_t hi) {
  const int first = std::max<int>(lo, w * 64), last = std::min<int>(hi, w * 64 + 63);
  if (first > last) return 0;
  const uint64_t upto = (last & 63) == 63 ? ~uint64_t{0} : (uint64_t{1} << ((last & 63) + 1)) - 1;
  return upto & (~uint64_t{0} << (first & 63));
}
inline void add_range(ByteSet& s, uint8_t lo, uint8_t hi) {
  for (int w = lo >> 6; w <= hi >> 6; ++w) s[static_cast<size_t>(w)] |= range_mask(w, lo, hi);
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
