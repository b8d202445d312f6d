// The two BPE merge loops of the runtime tokenizer and the GPT-2 byte<->unicode mapping.
//
// bpe_merge_ranks: Hugging Face's BPE. Repeatedly merge the adjacent pair with the lowest merge
// rank (ties: leftmost), using a heap of candidate pairs over a linked list of symbols, so a piece
// of n symbols costs O(n log n). Stale heap entries are skipped when popped.
// spm_encode_scores: llama.cpp's SentencePiece BPE (llm_tokenizer_spm_session): start from UTF-8
// characters, repeatedly merge the adjacent pair whose concatenation is a piece with the highest
// score (ties: leftmost); whatever is left and not a piece becomes <0xNN> byte pieces.
#include <algorithm>
#include <queue>
#include <vector>

#include "grammar/utf8.h"
#include "runtime/tokenizer_impl.h"

namespace stencil::runtime::detail {

const std::array<uint32_t, 256>& byte_to_unicode() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      t[b] = printable ? b : next++;
    }
    return t;
  }();
  return table;
}

bool byte_level_decode(std::string_view s, std::string& out) {
  // Inverse of byte_to_unicode: code points 0..323 only.
  static const std::array<int16_t, 324> inverse = [] {
    std::array<int16_t, 324> inv{};
    inv.fill(-1);
    const auto& fwd = byte_to_unicode();
    for (int b = 0; b < 256; ++b) inv[fwd[static_cast<size_t>(b)]] = static_cast<int16_t>(b);
    return inv;
  }();
  out.clear();
  size_t pos = 0;
  while (pos < s.size()) {
    const int32_t cp = grammar::decode_utf8(s, pos);
    if (cp < 0 || cp >= 324 || inverse[static_cast<size_t>(cp)] < 0) return false;
    out.push_back(static_cast<char>(inverse[static_cast<size_t>(cp)]));
  }
  return true;
}

namespace {

struct Candidate {
  int32_t rank;  // merge rank (lower first)
  int32_t left;  // symbol index of the left side (lower first on ties)
  int32_t left_id;
  int32_t right_id;
  bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
};

}  // namespace

void bpe_merge_ranks(const Tokenizer::Impl& t, std::vector<int32_t>& symbols) {
  const int32_t n = static_cast<int32_t>(symbols.size());
  if (n < 2 || t.merges.empty()) return;
  thread_local std::vector<int32_t> prev, next;
  thread_local std::vector<Candidate> heap;  // a min-heap through std::greater
  prev.resize(static_cast<size_t>(n));
  next.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    prev[static_cast<size_t>(i)] = i - 1;
    next[static_cast<size_t>(i)] = i + 1 < n ? i + 1 : -1;
  }
  heap.clear();
  auto try_add = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = next[static_cast<size_t>(left)];
    if (right < 0) return;
    const int32_t a = symbols[static_cast<size_t>(left)], b = symbols[static_cast<size_t>(right)];
    const auto it = t.merges.find((static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b));
    if (it == t.merges.end()) return;
    heap.push_back({it->second.rank, left, a, b});
    std::push_heap(heap.begin(), heap.end(), std::greater<>{});
  };
  for (int32_t i = 0; i + 1 < n; ++i) try_add(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
    const Candidate c = heap.back();
    heap.pop_back();
    const auto left = static_cast<size_t>(c.left);
    if (symbols[left] != c.left_id) continue;  // the left symbol changed (or was merged away: id -1)
    const int32_t right = next[left];
    if (right < 0 || symbols[static_cast<size_t>(right)] != c.right_id) continue;
    const auto it =
        t.merges.find((static_cast<uint64_t>(static_cast<uint32_t>(c.left_id)) << 32) | static_cast<uint32_t>(c.right_id));
    symbols[left] = it->second.id;
    symbols[static_cast<size_t>(right)] = -1;
    const int32_t after = next[static_cast<size_t>(right)];
    next[left] = after;
    if (after >= 0) prev[static_cast<size_t>(after)] = c.left;
    try_add(prev[left]);
    try_add(c.left);
  }
  symbols.erase(std::remove(symbols.begin(), symbols.end(), -1), symbols.end());
}

namespace {

struct SpmSymbol {
  uint32_t begin;  // byte offset into the text
  uint32_t len;    // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

struct SpmBigram {
  float score;
  int32_t left;
  int32_t right;
  uint32_t size;
  // priority_queue is a max-heap: "less" means lower score, or same score and further right.
  bool operator<(const SpmBigram& o) const { return score < o.score || (score == o.score && left > o.left); }
};

}  // namespace

void spm_encode_scores(const Tokenizer::Impl& t, std::string_view text, std::vector<int32_t>& out) {
  thread_local std::vector<SpmSymbol> symbols;
  symbols.clear();
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(utf8_len_from_lead(static_cast<unsigned char>(text[off])), text.size() - off);
    const auto idx = static_cast<int32_t>(symbols.size());
    symbols.push_back({static_cast<uint32_t>(off), static_cast<uint32_t>(len), idx - 1,
                       off + len == text.size() ? -1 : idx + 1});
    off += len;
  }
  if (symbols.empty()) return;
  std::priority_queue<SpmBigram> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const SpmSymbol& l = symbols[static_cast<size_t>(left)];
    const SpmSymbol& r = symbols[static_cast<size_t>(right)];
    const std::string_view s = text.substr(l.begin, l.len + r.len);
    const auto it = t.piece_to_id.find(s);
    if (it == t.piece_to_id.end()) return;
    queue.push({t.scores[static_cast<size_t>(it->second)], left, right, static_cast<uint32_t>(s.size())});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const SpmBigram b = queue.top();
    queue.pop();
    SpmSymbol& l = symbols[static_cast<size_t>(b.left)];
    SpmSymbol& r = symbols[static_cast<size_t>(b.right)];
    // Stale: one side was merged since (the left side can only grow by absorbing this right side).
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.size) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  // Every merged symbol is a piece by construction; single characters may not be.
  for (int32_t i = 0; i != -1; i = symbols[static_cast<size_t>(i)].next) {
    const SpmSymbol& s = symbols[static_cast<size_t>(i)];
    const std::string_view piece = text.substr(s.begin, s.len);
    const auto it = t.piece_to_id.find(piece);
    if (it != t.piece_to_id.end()) {
      out.push_back(it->second);
      continue;
    }
    for (const char c : piece) {
      const int32_t id = t.byte_ids[static_cast<unsigned char>(c)];
      out.push_back(id >= 0 ? id : t.unk_id);
    }
  }
}

}  // namespace stencil::runtime::detail
