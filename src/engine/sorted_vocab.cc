// Sorting the vocabulary into trie order.
#include "engine/sorted_vocab.h"

#include <algorithm>

namespace stencil::engine {

SortedVocab SortedVocab::build(const Vocabulary& vocab) {
  SortedVocab sv;
  const int32_t n = vocab.size();
  for (int32_t id = 0; id < n; ++id) {
    if (vocab.kind(id) == TokenKind::kNormal && !vocab.token_bytes(id).empty()) sv.ids.push_back(id);
  }
  std::sort(sv.ids.begin(), sv.ids.end(), [&](int32_t a, int32_t b) {
    const std::string_view x = vocab.token_bytes(a), y = vocab.token_bytes(b);
    return x != y ? x < y : a < b;
  });
  sv.lcp.assign(sv.ids.size(), 0);
  sv.rank.assign(static_cast<size_t>(n), -1);
  for (size_t i = 0; i < sv.ids.size(); ++i) {
    const std::string_view cur = vocab.token_bytes(sv.ids[i]);
    sv.max_token_bytes = std::max(sv.max_token_bytes, static_cast<int32_t>(cur.size()));
    sv.rank[static_cast<size_t>(sv.ids[i])] = static_cast<int32_t>(i);
    if (i == 0) continue;
    const std::string_view prev = vocab.token_bytes(sv.ids[i - 1]);
    size_t k = 0;
    while (k < prev.size() && k < cur.size() && prev[k] == cur[k]) ++k;
    sv.lcp[i] = static_cast<int32_t>(k);
  }
  return sv;
}

}  // namespace stencil::engine
