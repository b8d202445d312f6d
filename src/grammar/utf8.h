// Small UTF-8 helpers shared by the grammar front ends (GBNF, regex).
//
// append_utf8 encodes one code point; decode_utf8 decodes one strictly (no overlong
// forms, no surrogates, nothing above U+10FFFF). They do not validate whole strings
// or handle any other encoding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace stencil::grammar {

// Appends the UTF-8 encoding of `cp` to `out`. Precondition: cp <= 0x10FFFF
// (surrogates are encoded as-is, three bytes, so callers can print them; they are not valid UTF-8).
inline void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the code point starting at s[pos] and advances pos past it. Returns -1 and
// leaves pos unchanged when the bytes there are not one valid UTF-8 sequence (truncated,
// overlong, surrogate, above U+10FFFF, stray continuation byte) or pos is at the end.
inline int32_t decode_utf8(std::string_view s, size_t& pos) {
  if (pos >= s.size()) return -1;
  const auto b0 = static_cast<uint8_t>(s[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  int len;
  uint32_t cp;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (s.size() - pos < static_cast<size_t>(len)) return -1;
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<uint8_t>(s[pos + static_cast<size_t>(i)]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  pos += static_cast<size_t>(len);
  return static_cast<int32_t>(cp);
}

}  // namespace stencil::grammar
