// Text runs of an automaton (see text_runs.h).
#include "engine/text_runs.h"

#include <algorithm>
#include <array>

#include "engine/sorted_vocab.h"

namespace stencil::engine {
namespace {

struct ByteRange {
  uint8_t lo, hi;
};

// The state every byte of [lo, hi] leads to from s, or -1 when they do not all lead to one state.
// With text_only, the bytes of the range that are not text bytes (quote, backslash) are left out.
int32_t uniform_step(const Automaton& a, int32_t s, ByteRange r, bool text_only) {
  const AutomatonState& st = a.states[static_cast<size_t>(s)];
  int32_t target = -1;
  uint32_t k = st.byte_begin;
  for (int c = r.lo; c <= r.hi;) {
    if (text_only && !is_text_byte(static_cast<uint8_t>(c))) {
      ++c;
      continue;
    }
    while (k < st.byte_end && a.byte_edges[k].hi < c) ++k;
    if (k == st.byte_end || a.byte_edges[k].lo > c) return -1;
    if (target >= 0 && target != a.byte_edges[k].target) return -1;
    target = a.byte_edges[k].target;
    c = a.byte_edges[k].hi + 1;
  }
  return target;
}

// Well-formed UTF-8 multi-byte characters as sequences of byte ranges (RFC 3629).
struct Utf8Form {
  int len;
  std::array<ByteRange, 4> bytes;
};
constexpr std::array<Utf8Form, 7> kUtf8Forms = {{
    {2, {{{0xc2, 0xdf}, {0x80, 0xbf}}}},
    {3, {{{0xe0, 0xe0}, {0xa0, 0xbf}, {0x80, 0xbf}}}},
    {3, {{{0xe1, 0xec}, {0x80, 0xbf}, {0x80, 0xbf}}}},
    {3, {{{0xed, 0xed}, {0x80, 0x9f}, {0x80, 0xbf}}}},
    {3, {{{0xee, 0xef}, {0x80, 0xbf}, {0x80, 0xbf}}}},
    {4, {{{0xf0, 0xf0}, {0x90, 0xbf}, {0x80, 0xbf}, {0x80, 0xbf}}}},
    {4, {{{0xf1, 0xf3}, {0x80, 0xbf}, {0x80, 0xbf}, {0x80, 0xbf}}}},
}};
constexpr Utf8Form kUtf8LastForm = {4, {{{0xf4, 0xf4}, {0x80, 0x8f}, {0x80, 0xbf}, {0x80, 0xbf}}}};

// Every multi-byte character leads from s to `next` through plain states.
bool reads_utf8_to(const Automaton& a, int32_t s, int32_t next, const std::vector<uint8_t>& plain) {
  auto follows = [&](const Utf8Form& f) {
    int32_t cur = s;
    for (int i = 0; i < f.len; ++i) {
      cur = uniform_step(a, cur, f.bytes[static_cast<size_t>(i)], false);
      if (cur < 0) return false;
      if (i + 1 < f.len && !plain[static_cast<size_t>(cur)]) return false;
    }
    return cur == next;
  };
  for (const Utf8Form& f : kUtf8Forms) {
    if (!follows(f)) return false;
  }
  return follows(kUtf8LastForm);
}

// No edge of s reads a text byte or the first byte of a multi-byte character.
bool reads_no_text(const Automaton& a, int32_t s) {
  const AutomatonState& st = a.states[static_cast<size_t>(s)];
  for (uint32_t k = st.byte_begin; k < st.byte_end; ++k) {
    const ByteEdge& e = a.byte_edges[k];
    for (int c = e.lo; c <= e.hi; ++c) {
      if (is_text_byte(static_cast<uint8_t>(c)) || (c >= 0xc2 && c <= 0xf4)) return false;
    }
  }
  return true;
}

// Lengths of the paths of a functional graph (next[s] = the one successor, or
// -1), capped at kLong, with the most min_bytes_to_end met on the way.
void path_lengths(const Automaton& a, const std::vector<int32_t>& next, std::vector<int32_t>& steps,
                  std::vector<int32_t>* bytes_to_end, std::vector<int32_t>* last = nullptr) {
  constexpr int32_t kUnknown = -1, kOnPath = -2;
  const size_t n = next.size();
  steps.assign(n, kUnknown);
  if (bytes_to_end != nullptr) bytes_to_end->assign(n, 0);
  if (last != nullptr) last->assign(n, -1);  // the state a path ends in; -1 on a cycle
  auto mbte = [&](int32_t s) { return a.states[static_cast<size_t>(s)].min_bytes_to_end; };
  std::vector<int32_t> path;
  for (size_t s = 0; s < n; ++s) {
    if (steps[s] != kUnknown) continue;
    path.clear();
    int32_t x = static_cast<int32_t>(s);
    while (x >= 0 && steps[static_cast<size_t>(x)] == kUnknown) {
      steps[static_cast<size_t>(x)] = kOnPath;
      path.push_back(x);
      x = next[static_cast<size_t>(x)];
    }
    size_t end = path.size();
    if (x >= 0 && steps[static_cast<size_t>(x)] == kOnPath) {  // a cycle: endless runs
      const size_t from = static_cast<size_t>(std::find(path.begin(), path.end(), x) - path.begin());
      int32_t worst = 0;
      for (size_t i = from; i < path.size(); ++i) worst = std::max(worst, mbte(path[i]));
      for (size_t i = from; i < path.size(); ++i) {
        steps[static_cast<size_t>(path[i])] = TextRuns::kLong;
        if (bytes_to_end != nullptr) (*bytes_to_end)[static_cast<size_t>(path[i])] = worst;
      }
      end = from;
    }
    for (size_t i = end; i-- > 0;) {
      const size_t y = static_cast<size_t>(path[i]);
      const int32_t t = next[y];
      steps[y] = t < 0 ? 0 : std::min(TextRuns::kLong, 1 + steps[static_cast<size_t>(t)]);
      if (last != nullptr) (*last)[y] = t < 0 ? static_cast<int32_t>(y) : (*last)[static_cast<size_t>(t)];
      if (bytes_to_end != nullptr && t >= 0) {
        (*bytes_to_end)[y] = std::max(mbte(t), (*bytes_to_end)[static_cast<size_t>(t)]);
      }
    }
  }
}

}  // namespace

TextRuns TextRuns::build(const Automaton& a, const std::vector<uint8_t>& plain) {
  const size_t n = a.states.size();
  TextRuns runs;
  std::vector<int32_t> ascii_next(n, -1);
  std::vector<int32_t>& utf8_next = runs.utf8_next;
  utf8_next.assign(n, -1);
  for (size_t s = 0; s < n; ++s) {
    if (!a.has_bytes(static_cast<int32_t>(s))) continue;
    const int32_t t = uniform_step(a, static_cast<int32_t>(s), {0x20, 0x7e}, true);
    if (t < 0 || !plain[static_cast<size_t>(t)]) continue;
    ascii_next[s] = t;
    // Only text-reading states are checked for UTF-8 (a dozen steps each).
    if (reads_utf8_to(a, static_cast<int32_t>(s), t, plain)) utf8_next[s] = t;
  }
  path_lengths(a, ascii_next, runs.ascii_steps, &runs.bytes_to_end);
  std::vector<int32_t> last;
  path_lengths(a, utf8_next, runs.utf8_steps, nullptr, &last);  // a UTF-8 run follows the ASCII run's states
  runs.utf8_closed.assign(n, 0);
  for (size_t s = 0; s < n; ++s) {
    if (runs.utf8_steps[s] == 0) continue;
    runs.utf8_closed[s] = last[s] < 0 || reads_no_text(a, last[s]);
  }
  return runs;
}

}  // namespace stencil::engine
