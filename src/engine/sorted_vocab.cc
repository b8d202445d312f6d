// Sorting the vocabulary into trie order and building the preorder trie.
#include "engine/sorted_vocab.h"

#include <algorithm>
#include <array>
#include <limits>
#include <unordered_map>
#include <utility>

#include "stencil/errors.h"

namespace stencil::engine {

namespace {

// A UTF-8 decoder's states between bytes: at a character boundary, or inside a
// character with the next byte's range fixed (RFC 3629 well-formed sequences).
enum Utf8Need : uint8_t { kBoundary, kCont1, kAfterE0, kAfterED, kCont2, kAfterF0, kAfterF4, kCont3, kUtf8Needs };
constexpr uint8_t kIllFormed = 0xff;

uint8_t utf8_next(uint8_t need, uint8_t b) {
  const bool cont = b >= 0x80 && b <= 0xbf;
  switch (need) {
    case kBoundary:
      if (is_text_byte(b)) return kBoundary;
      if (b >= 0xc2 && b <= 0xdf) return kCont1;
      if (b == 0xe0) return kAfterE0;
      if (b == 0xed) return kAfterED;
      if (b >= 0xe1 && b <= 0xef) return kCont2;
      if (b == 0xf0) return kAfterF0;
      if (b == 0xf4) return kAfterF4;
      if (b >= 0xf1 && b <= 0xf3) return kCont3;
      return kIllFormed;
    case kCont1: return cont ? kBoundary : kIllFormed;
    case kAfterE0: return b >= 0xa0 && b <= 0xbf ? kCont1 : kIllFormed;
    case kAfterED: return b >= 0x80 && b <= 0x9f ? kCont1 : kIllFormed;
    case kCont2: return cont ? kCont1 : kIllFormed;
    case kAfterF0: return b >= 0x90 && b <= 0xbf ? kCont2 : kIllFormed;
    case kAfterF4: return b >= 0x80 && b <= 0x8f ? kCont2 : kIllFormed;
    case kCont3: return cont ? kCont2 : kIllFormed;
    default: return kIllFormed;
  }
}

// SortedVocab::text_chars: a bottom-up pass that keeps, per node and per decoder
// state at the node, the most characters below it (or "ill-formed somewhere below").
std::vector<uint8_t> text_chars_below(const std::vector<TrieNode>& nodes, const std::vector<uint32_t>& parent_of) {
  constexpr int16_t kNone = -2, kBad = -1;  // kNone: no token below yet
  std::vector<std::array<int16_t, kUtf8Needs>> best(nodes.size());
  for (size_t k = 0; k < nodes.size(); ++k) {
    const bool ends = nodes[k].tokens_begin != nodes[k].tokens_end;
    for (uint8_t q = 0; q < kUtf8Needs; ++q) best[k][q] = !ends ? kNone : (q == kBoundary ? 0 : kBad);
  }
  for (size_t k = nodes.size(); k-- > 1;) {
    auto& up = best[parent_of[k]];
    for (uint8_t q = 0; q < kUtf8Needs; ++q) {
      if (up[q] == kBad) continue;
      const uint8_t q2 = utf8_next(q, nodes[k].byte);
      int16_t below = q2 == kIllFormed ? kBad : best[k][q2];
      if (below == kNone) continue;
      if (below >= 0 && q2 == kBoundary) below = static_cast<int16_t>(std::min(254, below + 1));
      up[q] = below == kBad ? kBad : std::max<int16_t>(up[q] == kNone ? 0 : up[q], below);
    }
  }
  std::vector<uint8_t> out(nodes.size());
  for (size_t k = 0; k < nodes.size(); ++k) {
    out[k] = best[k][kBoundary] >= 0 ? static_cast<uint8_t>(best[k][kBoundary]) : kNotText;
  }
  return out;
}

// The trie of `entries` (bytes, token id), in SortedVocab's layout. With `whole_vocabulary`, the
// arrays indexed by token id (rank, token_text_chars) and the pair counts are filled too.
SortedVocab trie_of(std::vector<std::pair<std::string_view, int32_t>> entries, int32_t n, bool whole_vocabulary) {
  SortedVocab sv;
  std::sort(entries.begin(), entries.end());
  sv.ids.reserve(entries.size());
  if (whole_vocabulary) sv.rank.assign(static_cast<size_t>(n), -1);
  sv.trie_tokens.reserve(entries.size());
  sv.nodes.push_back(TrieNode{0, 0, 0, 0, 0});
  std::vector<uint32_t> path{0};  // node index per depth on the current path
  std::string_view prev;
  for (const auto& [bytes, id] : entries) {
    if (bytes.size() > std::numeric_limits<uint16_t>::max()) {
      throw VocabularyError("token " + std::to_string(id) + " is longer than 65535 bytes");
    }
    if (whole_vocabulary) sv.rank[static_cast<size_t>(id)] = static_cast<int32_t>(sv.ids.size());
    sv.ids.push_back(id);
    sv.max_token_bytes = std::max(sv.max_token_bytes, static_cast<int32_t>(bytes.size()));
    size_t shared = 0;
    while (shared < prev.size() && shared < bytes.size() && prev[shared] == bytes[shared]) ++shared;
    path.resize(shared + 1);
    for (size_t d = shared; d < bytes.size(); ++d) {
      const uint32_t t = static_cast<uint32_t>(sv.trie_tokens.size());
      sv.nodes.push_back(TrieNode{static_cast<uint8_t>(bytes[d]), static_cast<uint16_t>(d + 1), 0, t, t});
      path.push_back(static_cast<uint32_t>(sv.nodes.size() - 1));
    }
    // Tokens of one node are adjacent in sorted order, so each node's slice stays contiguous.
    TrieNode& end_node = sv.nodes[path[bytes.size()]];
    if (end_node.tokens_begin == end_node.tokens_end) end_node.tokens_begin = static_cast<uint32_t>(sv.trie_tokens.size());
    sv.trie_tokens.push_back(id);
    end_node.tokens_end = static_cast<uint32_t>(sv.trie_tokens.size());
    prev = bytes;
  }
  // Subtree ends: a node's subtree ends at the next node that is not deeper.
  std::vector<uint32_t> open;
  for (uint32_t k = 0; k < sv.nodes.size(); ++k) {
    while (!open.empty() && sv.nodes[open.back()].depth >= sv.nodes[k].depth) {
      sv.nodes[open.back()].end = k;
      open.pop_back();
    }
    open.push_back(k);
  }
  for (uint32_t k : open) sv.nodes[k].end = static_cast<uint32_t>(sv.nodes.size());
  // Token counts before each node, and text subtree heights (children come after
  // their parent in preorder, so a backward pass sees every child first).
  sv.first_token.resize(sv.nodes.size() + 1);
  uint32_t count = 0;
  for (size_t k = 0; k < sv.nodes.size(); ++k) {
    sv.first_token[k] = count;
    count += sv.nodes[k].tokens_end - sv.nodes[k].tokens_begin;
  }
  sv.first_token[sv.nodes.size()] = count;
  sv.text_height.assign(sv.nodes.size(), 0);
  std::vector<uint32_t> parent_of(sv.nodes.size(), 0);
  {
    std::vector<uint32_t> stack;
    for (uint32_t k = 0; k < sv.nodes.size(); ++k) {
      while (!stack.empty() && sv.nodes[stack.back()].end <= k) stack.pop_back();
      parent_of[k] = stack.empty() ? 0 : stack.back();
      stack.push_back(k);
    }
  }
  for (size_t k = sv.nodes.size(); k-- > 1;) {
    uint8_t& up = sv.text_height[parent_of[k]];
    const uint8_t mine = sv.text_height[k];
    if (up == kNotText) continue;
    if (mine == kNotText || !is_text_byte(sv.nodes[k].byte)) {
      up = kNotText;
    } else {
      up = std::max<uint8_t>(up, static_cast<uint8_t>(std::min(254, mine + 1)));
    }
  }
  // Generic heights and the byte sets below each node (interned: subtrees repeat them).
  {
    const size_t count_nodes = sv.nodes.size();
    sv.height.assign(count_nodes, 0);
    std::vector<ByteSet> below(count_nodes, ByteSet{0, 0, 0, 0});
    for (size_t k = count_nodes; k-- > 1;) {
      const uint32_t p = parent_of[k];
      sv.height[p] = static_cast<uint8_t>(std::max<int>(sv.height[p], std::min(255, sv.height[k] + 1)));
      ByteSet& up = below[p];
      for (size_t w = 0; w < 4; ++w) up[w] |= below[k][w];
      add_byte(up, sv.nodes[k].byte);
    }
    std::unordered_map<ByteSet, uint32_t, ByteSetHash> index;
    sv.byte_sets.push_back(ByteSet{0, 0, 0, 0});
    index.emplace(sv.byte_sets.back(), 0);
    sv.below_set.assign(count_nodes, 0);
    for (size_t k = 0; k < count_nodes; ++k) {
      if (sv.height[k] == 0) continue;
      const auto [it, fresh] = index.emplace(below[k], static_cast<uint32_t>(sv.byte_sets.size()));
      if (fresh) sv.byte_sets.push_back(below[k]);
      sv.below_set[k] = it->second;
    }
  }
  for (uint32_t k = 1; k < sv.nodes.size(); k = sv.nodes[k].end) sv.root_child[sv.nodes[k].byte] = k;
  if (whole_vocabulary) sv.pair_tokens.assign(256 * 256, 0);
  for (uint32_t k = 1; whole_vocabulary && k < sv.nodes.size(); k = sv.nodes[k].end) {
    const TrieNode& first = sv.nodes[k];
    sv.one_byte_tokens[first.byte] = first.tokens_end - first.tokens_begin;
    for (uint32_t j = k + 1; j < first.end; j = sv.nodes[j].end) {
      sv.pair_tokens[static_cast<size_t>(first.byte) * 256 + sv.nodes[j].byte] = sv.first_token[sv.nodes[j].end] - sv.first_token[j];
    }
  }
  sv.text_chars = text_chars_below(sv.nodes, parent_of);
  // Whole-token text: decode every path from the root (parents come before children).
  {
    std::vector<uint8_t> need(sv.nodes.size(), kBoundary);
    std::vector<int32_t> chars(sv.nodes.size(), 0);
    sv.token_text_chars.assign(whole_vocabulary ? static_cast<size_t>(n) : 0, 0);
    sv.nontext_below.assign(sv.nodes.size(), 0);
    for (size_t k = 1; k < sv.nodes.size(); ++k) {
      const uint32_t p = parent_of[k];
      need[k] = need[p] == kIllFormed ? kIllFormed : utf8_next(need[p], sv.nodes[k].byte);
      chars[k] = chars[p] + (need[k] == kBoundary ? 1 : 0);
      const bool text = need[k] == kBoundary && chars[k] <= 254;
      for (uint32_t t = sv.nodes[k].tokens_begin; t < sv.nodes[k].tokens_end; ++t) {
        if (text && whole_vocabulary) sv.token_text_chars[static_cast<size_t>(sv.trie_tokens[t])] = static_cast<uint8_t>(chars[k]);
      }
      if (!text && sv.nodes[k].tokens_begin != sv.nodes[k].tokens_end) sv.nontext_below[k] = 1;
    }
    for (size_t k = sv.nodes.size(); k-- > 1;) sv.nontext_below[parent_of[k]] |= sv.nontext_below[k];
    sv.next_nontext.resize(sv.nodes.size() + 1);
    sv.next_nontext[sv.nodes.size()] = static_cast<uint32_t>(sv.nodes.size());
    for (size_t k = sv.nodes.size(); k-- > 0;) {
      sv.next_nontext[k] = sv.nontext_below[k] ? static_cast<uint32_t>(k) : sv.next_nontext[sv.nodes[k].end];
    }
  }
  return sv;
}

// The byte length of the longest prefix of `bytes` made of whole text characters (is_text_byte,
// or a well-formed multi-byte UTF-8 character).
size_t text_prefix_bytes(std::string_view bytes) {
  size_t prefix = 0;
  uint8_t need = kBoundary;
  for (size_t i = 0; i < bytes.size(); ++i) {
    need = utf8_next(need, static_cast<uint8_t>(bytes[i]));
    if (need == kIllFormed) break;
    if (need == kBoundary) prefix = i + 1;
  }
  return prefix;
}

}  // namespace

SortedVocab SortedVocab::build(const Vocabulary& vocab) {
  const int32_t n = vocab.size();
  std::vector<std::pair<std::string_view, int32_t>> entries;
  entries.reserve(static_cast<size_t>(n));
  for (int32_t id = 0; id < n; ++id) {
    if (vocab.kind(id) == TokenKind::kNormal && !vocab.token_bytes(id).empty()) {
      entries.emplace_back(vocab.token_bytes(id), id);
    }
  }
  SortedVocab sv = trie_of(std::move(entries), n, true);
  sv.by_length = sv.ids;
  std::stable_sort(sv.by_length.begin(), sv.by_length.end(), [&](int32_t x, int32_t y) {
    return vocab.token_bytes(x).size() > vocab.token_bytes(y).size();
  });
  sv.by_length_bytes.reserve(sv.by_length.size());
  for (int32_t id : sv.by_length) sv.by_length_bytes.push_back(static_cast<int32_t>(vocab.token_bytes(id).size()));
  // Every token that is not whole text, by what follows its longest whole-text prefix. (A token of
  // more than 254 characters of text, which token_text_chars cannot count, is kept whole.)
  std::vector<std::pair<std::string_view, int32_t>> suffixes;
  std::vector<std::vector<std::pair<std::string_view, int32_t>>> by_chars;
  sv.text_prefix_chars.assign(static_cast<size_t>(n), 0);
  for (int32_t id : sv.ids) {
    if (sv.token_text_chars[static_cast<size_t>(id)] != 0) continue;
    const std::string_view bytes = vocab.token_bytes(id);
    const size_t prefix = text_prefix_bytes(bytes);
    const std::string_view suffix = prefix < bytes.size() ? bytes.substr(prefix) : bytes;
    suffixes.emplace_back(suffix, id);
    // Characters of the prefix (0 for a token kept whole): its bytes that do not continue a
    // multi-byte character.
    size_t chars = 0;
    if (suffix.size() < bytes.size()) {
      for (size_t i = 0; i < prefix; ++i) chars += (static_cast<uint8_t>(bytes[i]) & 0xc0) != 0x80;
    }
    if (by_chars.size() <= chars) by_chars.resize(chars + 1);
    by_chars[chars].emplace_back(suffix, id);
    sv.text_prefix_chars[static_cast<size_t>(id)] = static_cast<uint8_t>(chars);
  }
  sv.text_suffixes = std::make_shared<const SortedVocab>(trie_of(std::move(suffixes), n, false));
  sv.text_suffixes_after.resize(by_chars.size());
  for (size_t c = 0; c < by_chars.size(); ++c) {
    if (!by_chars[c].empty()) sv.text_suffixes_after[c] = std::make_shared<const SortedVocab>(trie_of(std::move(by_chars[c]), n, false));
  }
  return sv;
}

std::span<const int32_t> SortedVocab::at_least(int32_t n) const {
  // by_length_bytes is descending: the tokens of at least n bytes come first.
  const auto end = std::partition_point(by_length_bytes.begin(), by_length_bytes.end(), [n](int32_t len) { return len >= n; });
  return {by_length.data(), static_cast<size_t>(end - by_length_bytes.begin())};
}

}  // namespace stencil::engine
