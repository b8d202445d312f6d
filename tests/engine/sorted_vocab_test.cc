// SortedVocab's trie of text suffixes (sorted_vocab.h): every token that is not whole text, listed
// under the bytes after its longest whole-text prefix, and nothing else. Checked exactly on a small
// vocabulary, and on Llama-3 against a direct computation over every token.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/sorted_vocab.h"
#include "stencil/vocabulary.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;

// Suffix -> the token ids listed at its node, read back from the trie.
std::map<std::string, std::vector<int32_t>> suffix_lists(const engine::SortedVocab& trie) {
  std::map<std::string, std::vector<int32_t>> out;
  std::string path;
  for (size_t k = 1; k < trie.nodes.size(); ++k) {
    path.resize(trie.nodes[k].depth - 1u);
    path.push_back(static_cast<char>(trie.nodes[k].byte));
    for (uint32_t t = trie.nodes[k].tokens_begin; t < trie.nodes[k].tokens_end; ++t) out[path].push_back(trie.trie_tokens[t]);
  }
  return out;
}

TEST(TextSuffixes, ListEveryNonTextTokenUnderWhatFollowsItsTextPrefix) {
  const std::vector<std::string> tokens = {
      "abc",          // 0: whole text: not listed
      "abc\",",       // 1: `",`
      "\",",          // 2: `",` too
      ".\n",          // 3: `\n`
      "\n",           // 4: `\n`
      "x\\n",         // 5: backslash
      "h\xc3\xa9",    // 6: whole text (a whole two-byte character)
      "h\xc3",        // 7: a character cut at the end
      "\xe4\xb8\xad\xe6",  // 8: one whole character, then a cut one
      "\xbf",         // 9: a lone continuation byte: the whole token
      "a\xc3(",       // 10: an ill-formed character after `a`
      "\x7f",         // 11: DEL is not a text byte
      "",             // 12: empty: in no trie
  };
  const Vocabulary vocab = Vocabulary::from_tokens(tokens, {});
  const engine::SortedVocab sorted = engine::SortedVocab::build(vocab);
  ASSERT_NE(sorted.text_suffixes, nullptr);
  const std::map<std::string, std::vector<int32_t>> want = {
      {"\",", {1, 2}}, {"\n", {3, 4}}, {"\\n", {5}}, {"\xc3", {7}}, {"\xe6", {8}},
      {"\xbf", {9}},   {"\xc3(", {10}}, {"\x7f", {11}},
  };
  std::map<std::string, std::vector<int32_t>> got = suffix_lists(*sorted.text_suffixes);
  for (auto& [suffix, ids] : got) std::sort(ids.begin(), ids.end());
  EXPECT_EQ(got, want);
  // Only the whole-vocabulary trie carries the arrays indexed by token id.
  EXPECT_TRUE(sorted.text_suffixes->rank.empty());
  EXPECT_TRUE(sorted.text_suffixes->token_text_chars.empty());
}

// The same suffixes split by the character count of the prefix they follow (text_suffixes_after):
// a counted string body walks entry c from the state c characters on, so a token filed under the
// wrong count would be judged from the wrong state.
TEST(TextSuffixes, GroupedByTheCharactersOfTheirPrefix) {
  const std::vector<std::string> tokens = {
      "abc\",",          // 0: three characters, then `",`
      "\",",             // 1: none
      ".\n",             // 2: one
      "\xe4\xb8\xad\xe6",  // 3: one three-byte character, then a cut one
      "h\xc3\xa9\"",     // 4: two characters (one of two bytes), then `"`
      "\xbf",            // 5: no prefix: listed whole under 0
      "plain",           // 6: whole text: in no entry
  };
  const Vocabulary vocab = Vocabulary::from_tokens(tokens, {});
  const engine::SortedVocab sorted = engine::SortedVocab::build(vocab);
  ASSERT_EQ(sorted.text_suffixes_after.size(), 4u);
  using Lists = std::map<std::string, std::vector<int32_t>>;
  const std::vector<Lists> want = {
      {{"\",", {1}}, {"\xbf", {5}}},
      {{"\n", {2}}, {"\xe6", {3}}},
      {{"\"", {4}}},
      {{"\",", {0}}},
  };
  for (size_t c = 0; c < want.size(); ++c) {
    ASSERT_NE(sorted.text_suffixes_after[c], nullptr) << c;
    EXPECT_EQ(suffix_lists(*sorted.text_suffixes_after[c]), want[c]) << c;
  }
}

TEST(TextSuffixes, Llama3EveryNonTextTokenOnceUnderItsSuffix) {
  const fs::path path = fs::path(STENCIL_DATA_DIR) / "tokenizers" / "llama3" / "tokenizer.json";
  if (!fs::exists(path)) GTEST_SKIP() << "run scripts/prepare-data";
  const Vocabulary vocab = Vocabulary::from_file(path.string());
  const engine::SortedVocab sorted = engine::SortedVocab::build(vocab);
  // The longest prefix of whole text characters, decoded directly (printable ASCII but `"` and `\`,
  // well-formed multi-byte UTF-8).
  auto text_prefix = [](std::string_view b) {
    size_t i = 0, prefix = 0;
    while (i < b.size()) {
      const auto c = static_cast<uint8_t>(b[i]);
      size_t n = 0;
      if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') n = 1;
      else if (c >= 0xc2 && c <= 0xdf) n = 2;
      else if (c >= 0xe0 && c <= 0xef) n = 3;
      else if (c >= 0xf0 && c <= 0xf4) n = 4;
      if (n == 0 || i + n > b.size()) break;
      bool ok = true;
      for (size_t j = 1; j < n; ++j) ok = ok && (static_cast<uint8_t>(b[i + j]) & 0xc0) == 0x80;
      const auto c1 = n > 1 ? static_cast<uint8_t>(b[i + 1]) : 0;
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f)) ok = false;
      if (!ok) break;
      i += n;
      prefix = i;
    }
    return prefix;
  };
  std::map<std::string, std::vector<int32_t>> want;
  for (int32_t id : sorted.ids) {
    const std::string_view b = vocab.token_bytes(id);
    const size_t p = text_prefix(b);
    if (p == b.size()) continue;  // whole text (no Llama-3 token has more than 254 characters)
    want[std::string(b.substr(p))].push_back(id);
  }
  std::map<std::string, std::vector<int32_t>> got = suffix_lists(*sorted.text_suffixes);
  for (auto& [suffix, ids] : got) std::sort(ids.begin(), ids.end());
  for (auto& [suffix, ids] : want) std::sort(ids.begin(), ids.end());
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
  EXPECT_GT(want.size(), 2000u);  // ~3k distinct suffixes of ~6k tokens
}

}  // namespace
}  // namespace stencil
