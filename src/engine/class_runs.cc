// Class runs of an automaton (see class_runs.h).
#include "engine/class_runs.h"

#include <algorithm>
#include <unordered_map>

#include "engine/utf8_ranges.h"
#include "support/strongly_connected.h"

namespace stencil::engine {
namespace {

// Distinct classes past this many are not given runs (states keep walking the trie).
constexpr size_t kMaxClasses = 4096;

// Some byte of [lo, hi] is in s.
bool meets_range(const ByteSet& s, uint8_t lo, uint8_t hi) {
  for (int w = lo >> 6; w <= hi >> 6; ++w) {
    if ((s[static_cast<size_t>(w)] & range_mask(w, lo, hi)) != 0) return true;
  }
  return false;
}

// The bytes a class reads one for one: all of them, or with the UTF-8 bit its ASCII bytes (its
// bytes from 0xc2 are then the lead bytes of the whole characters it reads).
ByteSet byte_part(const ByteSet& c) {
  ByteSet b = c;
  if (has_utf8(c)) {
    b[2] = b[3] = 0;
  } else {
    b[3] &= ~(uint64_t{1} << 63);
  }
  return b;
}

// The well-formed multi-byte UTF-8 characters as byte-range sequences.
const std::vector<Utf8Sequence>& multibyte_forms() {
  static const std::vector<Utf8Sequence> forms = [] {
    std::vector<Utf8Sequence> out;
    utf8_sequences(0x80, 0x10ffff, out);
    return out;
  }();
  return forms;
}

// Reads byte i onwards of `form` from s: false if some byte of the form has no edge on the way.
// The states the form's characters end in are added to `ends` (once each) when it is given.
// With i == 0 the form's first byte is just `lead`.
bool follow_form(const Automaton& a, int32_t s, const Utf8Sequence& form, size_t i, uint8_t lead, std::vector<int32_t>* ends) {
  const ByteRange r = i == 0 ? ByteRange{lead, lead} : form[i];
  const AutomatonState& st = a.states[static_cast<size_t>(s)];
  int32_t covered = 0;
  for (uint32_t k = st.byte_begin; k < st.byte_end; ++k) {
    const ByteEdge& e = a.byte_edges[k];
    const int lo = std::max<int>(r.lo, e.lo), hi = std::min<int>(r.hi, e.hi);
    if (lo > hi) continue;
    covered += hi - lo + 1;
    if (i + 1 < form.size()) {
      if (!follow_form(a, e.target, form, i + 1, lead, ends)) return false;
    } else if (ends != nullptr && std::find(ends->begin(), ends->end(), e.target) == ends->end()) {
      ends->push_back(e.target);
    }
  }
  return covered == r.hi - r.lo + 1;
}

// Every well-formed character with this lead byte can be read from s (see follow_form).
bool reads_lead(const Automaton& a, int32_t s, uint8_t lead, std::vector<int32_t>* ends) {
  for (const Utf8Sequence& form : multibyte_forms()) {
    if (lead < form[0].lo || lead > form[0].hi) continue;
    if (!follow_form(a, s, form, 0, lead, ends)) return false;
  }
  return true;
}

// The lead bytes all of whose characters s reads. A `.` reads all but 0xe2's (it leaves out
// U+2028 and U+2029).
ByteSet readable_leads(const Automaton& a, int32_t s) {
  ByteSet leads{};
  const AutomatonState& st = a.states[static_cast<size_t>(s)];
  if (st.byte_begin == st.byte_end || a.byte_edges[st.byte_end - 1].hi < 0xc2) return leads;  // no lead byte read
  for (int lead = 0xc2; lead <= 0xf4; ++lead) {
    if (a.step(s, static_cast<uint8_t>(lead)) >= 0 && reads_lead(a, s, static_cast<uint8_t>(lead), nullptr)) {
      add_byte(leads, static_cast<uint8_t>(lead));
    }
  }
  return leads;
}

// State s reads every character of class c: an edge on each of its bytes, and with the UTF-8
// bit every character of each of its lead bytes. The characters' end states go to `ends`.
bool reads_all(const Automaton& a, int32_t s, const ByteSet& c, std::vector<int32_t>* ends = nullptr) {
  ByteSet read{};
  const AutomatonState& st = a.states[static_cast<size_t>(s)];
  for (uint32_t k = st.byte_begin; k < st.byte_end; ++k) add_range(read, a.byte_edges[k].lo, a.byte_edges[k].hi);
  if (!is_subset(byte_part(c), read)) return false;
  if (!has_utf8(c)) return true;
  for (int lead = 0xc2; lead <= 0xf4; ++lead) {
    if (has_byte(c, static_cast<uint8_t>(lead)) && !reads_lead(a, s, static_cast<uint8_t>(lead), ends)) return false;
  }
  return true;
}

}  // namespace

ClassRuns::ClassRuns(const Automaton& a, const SortedVocab& sorted, const TextRuns& text) : a_(a) {
  const size_t n = a.states.size();
  class_of_.assign(n * kClassesPerState, -1);
  // Tokens starting with each byte, summed: a class's weight over a byte range in two loads.
  std::array<int64_t, 257> starting{};
  if (!sorted.nodes.empty()) {
    for (uint32_t k = 1; k < sorted.nodes.size(); k = sorted.nodes[k].end) {
      starting[static_cast<size_t>(sorted.nodes[k].byte) + 1] += sorted.first_token[sorted.nodes[k].end] - sorted.first_token[k];
    }
  }
  for (size_t c = 1; c < starting.size(); ++c) starting[c] += starting[c - 1];
  auto weight = [&](uint8_t lo, uint8_t hi) { return starting[static_cast<size_t>(hi) + 1] - starting[lo]; };

  std::unordered_map<ByteSet, int16_t, ByteSetHash> index;
  ByteSet last_set{};
  int16_t last_id = -1;
  auto intern = [&](const ByteSet& s) -> int16_t {
    if (last_id >= 0 && s == last_set) return last_id;  // chains of states repeat their class
    auto it = index.find(s);
    if (it == index.end()) {
      if (classes_.size() >= kMaxClasses) return -1;
      it = index.emplace(s, static_cast<int16_t>(classes_.size())).first;
      classes_.push_back(s);
    }
    last_set = s;
    last_id = it->second;
    return last_id;
  };

  // A class is worth runs when enough tokens start with two of its bytes (or are one): the
  // walk a run saves. Judged once per distinct class.
  std::vector<int8_t> worth;  // (classes,) -1 not judged yet
  auto worth_it = [&](int16_t id) {
    if (static_cast<size_t>(id) >= worth.size()) worth.resize(static_cast<size_t>(id) + 1, -1);
    if (worth[static_cast<size_t>(id)] < 0) {
      const ByteSet& c = classes_[static_cast<size_t>(id)];
      int64_t tokens = 0;
      for (int b1 = 0; b1 < 255; ++b1) {  // not the UTF-8 bit
        if (!has_byte(c, static_cast<uint8_t>(b1))) continue;
        tokens += sorted.one_byte_tokens[static_cast<size_t>(b1)];
        const uint32_t* row = sorted.pair_tokens.data() + static_cast<size_t>(b1) * 256;
        for (int b2 = 0; b2 < 255; ++b2) {
          if (has_byte(c, static_cast<uint8_t>(b2))) tokens += row[b2];
        }
      }
      worth[static_cast<size_t>(id)] = tokens >= kMinClassPairTokens;
    }
    return worth[static_cast<size_t>(id)] == 1;
  };

  struct Group {
    int32_t target;
    int32_t bytes;
    int64_t tokens;
  };
  std::vector<Group> groups;
  std::vector<std::pair<int32_t, bool>> judged;
  for (size_t s = 0; s < n; ++s) {
    const AutomatonState& st = a.states[s];
    if (st.byte_begin == st.byte_end || text.ascii_steps[s] > 0) continue;
    groups.clear();
    int64_t ascii_tokens = 0;
    for (uint32_t k = st.byte_begin; k < st.byte_end; ++k) {
      const ByteEdge& e = a.byte_edges[k];
      const int64_t w = weight(e.lo, e.hi);
      if (e.lo < 0x80) ascii_tokens += weight(e.lo, std::min<uint8_t>(e.hi, 0x7f));
      auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.target == e.target; });
      if (g == groups.end()) {
        groups.push_back({e.target, 0, 0});
        g = groups.end() - 1;
      }
      g->bytes += e.hi - e.lo + 1;
      g->tokens += w;
    }
    if (groups.empty()) continue;
    const Group& best = *std::max_element(groups.begin(), groups.end(), [](const Group& x, const Group& y) { return x.bytes < y.bytes; });
    int16_t* out = class_of_.data() + s * kClassesPerState;
    int slot = 0;
    // A class is worth a run only if the state it leads to reads all of it again (a run of
    // at least two): the start of a JSON value reads many bytes once, a pattern's class repeats.
    auto add = [&](const ByteSet& set) {
      if (!reads_all(a, best.target, set)) return;
      const int16_t id = intern(set);
      if (id >= 0 && worth_it(id) && (slot == 0 || out[0] != id)) {
        out[slot++] = id;
        any_ = true;
      }
    };
    if (best.tokens >= kMinClassTokens) {
      ByteSet set{};
      for (uint32_t k = st.byte_begin; k < st.byte_end; ++k) {
        if (a.byte_edges[k].target == best.target) add_range(set, a.byte_edges[k].lo, a.byte_edges[k].hi);
      }
      set[3] &= ~(uint64_t{1} << 63);  // byte 0xff (never in UTF-8) would read as the UTF-8 bit
      add(set);
    }
    if (ascii_tokens >= kMinClassTokens && (groups.size() > 1 || best.tokens != ascii_tokens)) {
      // The ASCII bytes read, less those leading to a state that does not read the rest again
      // (a backslash into an escape, inside an unanchored pattern's string): a few rounds reach
      // a set every target of which reads it, as far as one step tells.
      ByteSet set{};
      for (uint32_t k = st.byte_begin; k < st.byte_end; ++k) {
        const ByteEdge& e = a.byte_edges[k];
        if (e.lo < 0x80) add_range(set, e.lo, std::min<uint8_t>(e.hi, 0x7f));
      }
      for (int round = 0; round < 3; ++round) {
        ByteSet kept{};
        judged.clear();  // (target, reads the set): ranges of a state share a few targets
        for (uint32_t k = st.byte_begin; k < st.byte_end; ++k) {
          const ByteEdge& e = a.byte_edges[k];
          if (e.lo >= 0x80) break;  // edges are sorted by byte
          auto it = std::find_if(judged.begin(), judged.end(), [&](const auto& j) { return j.first == e.target; });
          if (it == judged.end()) it = judged.insert(judged.end(), {e.target, reads_all(a, e.target, set)});
          if (it->second) add_range(kept, e.lo, std::min<uint8_t>(e.hi, 0x7f));
        }
        for (size_t w = 0; w < 4; ++w) kept[w] &= set[w];
        if (kept == set) break;
        set = kept;
      }
      // A state reading whole multi-byte characters too (a `.`, a negated class) gets the class
      // with those characters' lead bytes and the UTF-8 bit: subtrees of whole characters are
      // then counted in characters.
      if (set != ByteSet{}) {
        const ByteSet leads = readable_leads(a, static_cast<int32_t>(s));
        if (leads != ByteSet{}) {
          for (size_t w = 0; w < 4; ++w) set[w] |= leads[w];
          add_byte(set, kUtf8Bit);
        }
      }
      if (set != ByteSet{}) add(set);
    }
  }
  info_ = std::make_unique<std::atomic<std::atomic<uint32_t>*>[]>(classes_.size());
  for (size_t c = 0; c < classes_.size(); ++c) info_[c].store(nullptr, std::memory_order_relaxed);
}

ClassRuns::~ClassRuns() {
  for (size_t c = 0; c < classes_.size(); ++c) delete[] info_[c].load(std::memory_order_relaxed);
}

ClassRuns::Run ClassRuns::compute(int32_t cls, int32_t t) const {
  std::lock_guard<std::mutex> lock(compute_mutex_);
  const size_t n = a_.states.size();
  std::atomic<uint32_t>* info = info_[static_cast<size_t>(cls)].load(std::memory_order_acquire);
  if (info == nullptr) {
    info = new std::atomic<uint32_t>[n];
    for (size_t s = 0; s < n; ++s) info[s].store(kUnknown, std::memory_order_relaxed);
    info_[static_cast<size_t>(cls)].store(info, std::memory_order_release);
  }
  if (const uint32_t v = info[t].load(std::memory_order_acquire); v != kUnknown) return decode(v);  // another thread did it
  if (local_of_.size() != n) local_of_.assign(n, -1);
  const ByteSet bytes = byte_part(classes_[static_cast<size_t>(cls)]);
  const bool utf8 = has_utf8(classes_[static_cast<size_t>(cls)]);

  // The region: states C's bytes reach from t that are not known yet, found depth-first. For
  // each, its distinct targets on C (CSR, global ids) when it reads every byte of C; a state
  // that does not is "bad" (safe 0) and gets none.
  std::vector<int32_t> region{t};
  std::vector<uint32_t> begin;
  std::vector<int32_t> succ;
  std::vector<uint8_t> bad;
  std::vector<int32_t> ends;  // the states a state's multi-byte characters end in
  local_of_[static_cast<size_t>(t)] = 0;
  for (size_t i = 0; i < region.size(); ++i) {
    const int32_t s = region[i];
    begin.push_back(static_cast<uint32_t>(succ.size()));
    const AutomatonState& st = a_.states[static_cast<size_t>(s)];
    ByteSet read{};
    const size_t first = succ.size();
    ends.clear();
    for (uint32_t k = st.byte_begin; k < st.byte_end; ++k) {
      const ByteEdge& e = a_.byte_edges[k];
      add_range(read, e.lo, e.hi);
      if (!meets_range(bytes, e.lo, e.hi)) continue;
      if (std::find(succ.begin() + static_cast<std::ptrdiff_t>(first), succ.end(), e.target) == succ.end()) succ.push_back(e.target);
    }
    if (!is_subset(bytes, read) || (utf8 && !reads_all(a_, s, classes_[static_cast<size_t>(cls)], &ends))) {
      succ.resize(first);
      bad.push_back(1);
      continue;
    }
    for (int32_t e : ends) {
      if (std::find(succ.begin() + static_cast<std::ptrdiff_t>(first), succ.end(), e) == succ.end()) succ.push_back(e);
    }
    bad.push_back(0);
    for (size_t k = first; k < succ.size(); ++k) {
      const size_t w = static_cast<size_t>(succ[k]);
      if (local_of_[w] >= 0 || info[w].load(std::memory_order_relaxed) != kUnknown) continue;
      local_of_[w] = static_cast<int32_t>(region.size());
      region.push_back(succ[k]);
    }
  }
  begin.push_back(static_cast<uint32_t>(succ.size()));
  const size_t m = region.size();

  // safe: shortest distance to a bad state, over the region's reversed class edges, starting
  // from the bad states (0) and from 1 + safe of each known state an edge leaves the region for.
  // Unit steps from several start values: a bucket queue by distance.
  std::vector<int32_t> safe(m, kLong);
  std::vector<std::vector<int32_t>> buckets(static_cast<size_t>(kLong));
  std::vector<uint32_t> rbegin(m + 1, 0);
  for (size_t i = 0; i < m; ++i) {
    if (bad[i]) {
      safe[i] = 0;
      buckets[0].push_back(static_cast<int32_t>(i));
      continue;
    }
    for (uint32_t k = begin[i]; k < begin[i + 1]; ++k) {
      const int32_t w = local_of_[static_cast<size_t>(succ[k])];
      if (w >= 0) {
        ++rbegin[static_cast<size_t>(w) + 1];
      } else if (const int32_t known = decode(info[succ[k]].load(std::memory_order_relaxed)).safe; known < kLong) {
        const int32_t d = std::min(kLong - 1, known + 1);
        if (d < safe[i]) {
          safe[i] = d;
          buckets[static_cast<size_t>(d)].push_back(static_cast<int32_t>(i));
        }
      }
    }
  }
  for (size_t i = 0; i < m; ++i) rbegin[i + 1] += rbegin[i];
  std::vector<int32_t> pred(rbegin[m]);
  {
    std::vector<uint32_t> fill(rbegin.begin(), rbegin.end() - 1);
    for (size_t i = 0; i < m; ++i) {
      for (uint32_t k = begin[i]; k < begin[i + 1]; ++k) {
        const int32_t w = local_of_[static_cast<size_t>(succ[k])];
        if (w >= 0) pred[fill[static_cast<size_t>(w)]++] = static_cast<int32_t>(i);
      }
    }
  }
  for (int32_t d = 0; d < kLong; ++d) {
    std::vector<int32_t>& bucket = buckets[static_cast<size_t>(d)];
    for (size_t q = 0; q < bucket.size(); ++q) {
      const size_t v = static_cast<size_t>(bucket[q]);
      if (safe[v] != d) continue;  // a shorter distance was found after it was queued
      const int32_t next = std::min(kLong - 1, d + 1);
      for (uint32_t k = rbegin[v]; k < rbegin[v + 1]; ++k) {
        const size_t u = static_cast<size_t>(pred[k]);
        if (next >= safe[u]) continue;
        safe[u] = next;
        buckets[static_cast<size_t>(next)].push_back(static_cast<int32_t>(u));  // this bucket again at the cap
      }
    }
  }

  // reach_bytes: the most min_bytes_to_end over what the class's edges reach, per strongly
  // connected component of the region in reverse topological order (the components an edge
  // leads to come first; known states outside the region have theirs already).
  std::vector<int32_t> reach(m, -1);
  std::vector<std::vector<int32_t>> inner(m);
  for (size_t i = 0; i < m; ++i) {
    for (uint32_t k = begin[i]; k < begin[i + 1]; ++k) {
      if (const int32_t w = local_of_[static_cast<size_t>(succ[k])]; w >= 0) inner[i].push_back(w);
    }
  }
  support::strongly_connected_components(
      static_cast<int32_t>(m), std::vector<int32_t>{0}, [&](int32_t v) -> const std::vector<int32_t>& { return inner[static_cast<size_t>(v)]; },
      [&](const std::vector<int32_t>& component) {
        int32_t most = 0;
        for (int32_t v : component) {
          const size_t i = static_cast<size_t>(v);
          most = std::max(most, a_.states[static_cast<size_t>(region[i])].min_bytes_to_end);
          for (uint32_t k = begin[i]; k < begin[i + 1]; ++k) {
            const int32_t w = local_of_[static_cast<size_t>(succ[k])];
            most = std::max(most, w >= 0 ? reach[static_cast<size_t>(w)]  // -1 inside the component
                                         : decode(info[succ[k]].load(std::memory_order_relaxed)).reach_bytes);
          }
        }
        for (int32_t v : component) reach[static_cast<size_t>(v)] = most;
      });

  for (size_t i = 0; i < m; ++i) {
    info[region[i]].store(encode({safe[i], reach[i]}), std::memory_order_release);
    local_of_[static_cast<size_t>(region[i])] = -1;
  }
  return {safe[0], decode(encode({safe[0], reach[0]})).reach_bytes};
}

}  // namespace stencil::engine
