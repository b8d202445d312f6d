// The vocabulary's ordinary tokens sorted by their bytes, and the trie that
// order implies, stored in preorder.
//
// Preorder makes a depth-first walk a plain loop over `nodes`, and skipping a
// dead prefix a jump to the node's `end`: a whole-vocabulary walk only touches
// the prefixes that stay alive (see mask_cache.cc).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "stencil/vocabulary.h"

namespace stencil::engine {

struct TrieNode {
  uint8_t byte;           // the byte that leads here from the parent
  uint16_t depth;         // bytes from the root (the root is node 0, depth 0)
  uint32_t end;           // one past the last node of this subtree (preorder)
  uint32_t tokens_begin;  // slice of SortedVocab::trie_tokens: tokens whose bytes end here
  uint32_t tokens_end;
};

struct SortedVocab {
  std::vector<int32_t> ids;          // ordinary tokens with non-empty bytes, sorted by bytes
  std::vector<int32_t> rank;         // (vocab size,) position of a token in `ids`, -1 if not there
  std::vector<TrieNode> nodes;       // preorder trie of `ids`
  std::vector<int32_t> trie_tokens;  // token ids grouped by node (same order as `ids`)
  int32_t max_token_bytes = 0;

  static SortedVocab build(const Vocabulary& vocab);
};

}  // namespace stencil::engine
