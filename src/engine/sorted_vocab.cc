// Sorting the vocabulary into trie order and building the preorder trie.
#include "engine/sorted_vocab.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "stencil/errors.h"

namespace stencil::engine {

SortedVocab SortedVocab::build(const Vocabulary& vocab) {
  SortedVocab sv;
  const int32_t n = vocab.size();
  std::vector<std::pair<std::string_view, int32_t>> entries;
  entries.reserve(static_cast<size_t>(n));
  for (int32_t id = 0; id < n; ++id) {
    if (vocab.kind(id) == TokenKind::kNormal && !vocab.token_bytes(id).empty()) {
      entries.emplace_back(vocab.token_bytes(id), id);
    }
  }
  std::sort(entries.begin(), entries.end());
  sv.ids.reserve(entries.size());
  sv.rank.assign(static_cast<size_t>(n), -1);
  sv.trie_tokens.reserve(entries.size());
  sv.nodes.push_back(TrieNode{0, 0, 0, 0, 0});
  std::vector<uint32_t> path{0};  // node index per depth on the current path
  std::string_view prev;
  for (const auto& [bytes, id] : entries) {
    if (bytes.size() > std::numeric_limits<uint16_t>::max()) {
      throw VocabularyError("token " + std::to_string(id) + " is longer than 65535 bytes");
    }
    sv.rank[static_cast<size_t>(id)] = static_cast<int32_t>(sv.ids.size());
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
  return sv;
}

}  // namespace stencil::engine
