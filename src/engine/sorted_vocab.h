// The vocabulary's ordinary tokens sorted by their bytes: an implicit trie.
// Walking tokens in this order with the longest-common-prefix of neighbours
// lets a simulation reuse the state reached after the shared prefix and skip a
// whole subtree as soon as a prefix dies (see mask_cache.cc).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "stencil/vocabulary.h"

namespace stencil::engine {

struct SortedVocab {
  std::vector<int32_t> ids;  // ordinary tokens with non-empty bytes, sorted by bytes
  std::vector<int32_t> lcp;  // (ids.size(),) lcp[i]: common prefix length of tokens ids[i-1] and ids[i]; lcp[0] = 0
  std::vector<int32_t> rank; // (vocab size,) position of a token in `ids`, -1 if not there
  int32_t max_token_bytes = 0;

  static SortedVocab build(const Vocabulary& vocab);
};

}  // namespace stencil::engine
