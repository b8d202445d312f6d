// Tests of the UTF-8 helpers in src/grammar/utf8.h: encoding at every length boundary, strict
// decoding (overlong forms, surrogates, values above U+10FFFF, truncation, stray bytes), and
// that a failed decode leaves the position unchanged.
#include "grammar/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stencil::grammar {
namespace {

struct Encoded {
  uint32_t cp;
  std::string bytes;
};

const std::vector<Encoded> kBoundaries = {
    {0x00, std::string(1, '\0')},
    {0x41, "A"},
    {0x7F, "\x7F"},
    {0x80, "\xC2\x80"},
    {0x7FF, "\xDF\xBF"},
    {0x800, "\xE0\xA0\x80"},
    {0xD7FF, "\xED\x9F\xBF"},
    {0xE000, "\xEE\x80\x80"},
    {0xFFFF, "\xEF\xBF\xBF"},
    {0x10000, "\xF0\x90\x80\x80"},
    {0x1F600, "\xF0\x9F\x98\x80"},
    {0x10FFFF, "\xF4\x8F\xBF\xBF"},
};

TEST(Utf8, EncodesAndDecodesBoundaries) {
  for (const Encoded& e : kBoundaries) {
    std::string out = "x";
    append_utf8(out, e.cp);
    EXPECT_EQ(out, "x" + e.bytes) << std::hex << e.cp;
    size_t pos = 1;
    EXPECT_EQ(decode_utf8(out, pos), static_cast<int32_t>(e.cp)) << std::hex << e.cp;
    EXPECT_EQ(pos, out.size());
  }
}

TEST(Utf8, EncodesSurrogatesAsThreeBytes) {
  std::string out;
  append_utf8(out, 0xD800);
  EXPECT_EQ(out, "\xED\xA0\x80");
}

TEST(Utf8, RejectsInvalidSequencesWithoutMoving) {
  const std::vector<std::string> invalid = {
      "",                  // at the end
      "\x80",              // stray continuation byte
      "\xBF",              //
      "\xC0\xAF",          // overlong '/'
      "\xC1\xBF",          // overlong
      "\xE0\x80\x80",      // overlong NUL
      "\xE0\x9F\xBF",      // overlong U+07FF
      "\xF0\x80\x80\x80",  // overlong
      "\xF0\x8F\xBF\xBF",  // overlong U+FFFF
      "\xED\xA0\x80",      // surrogate U+D800
      "\xED\xBF\xBF",      // surrogate U+DFFF
      "\xF4\x90\x80\x80",  // U+110000
      "\xF5\x80\x80\x80",  // lead byte above F4
      "\xF8\x88\x80\x80\x80",
      "\xFE",
      "\xFF",
      "\xC3",          // truncated
      "\xE2\x82",      //
      "\xF0\x9F\x98",  //
      "\xC3\x41",      // continuation missing
      "\xE2\x41\xAC",  //
  };
  for (const std::string& s : invalid) {
    size_t pos = 0;
    EXPECT_EQ(decode_utf8(s, pos), -1) << testing::PrintToString(s);
    EXPECT_EQ(pos, 0u) << testing::PrintToString(s);
  }
}

TEST(Utf8, DecodesAStringCodePointByCodePoint) {
  const std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";
  std::vector<int32_t> cps;
  size_t pos = 0;
  while (pos < s.size()) cps.push_back(decode_utf8(s, pos));
  EXPECT_EQ(cps, (std::vector<int32_t>{'a', 0xE9, 0x20AC, 0x1F600, 'z'}));
}

}  // namespace
}  // namespace stencil::grammar
