// Partition refinement of an automaton's states (see minimise.h).
#include "engine/minimise.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "engine/set_index.h"

namespace stencil::engine {
namespace {

constexpr int64_t kMinimiseWorkPerState = 64;

// The signature of a state: its byte edges with targets replaced by classes
// (adjacent ranges to one class merged) and its call edges.
void state_signature(const std::vector<ByteEdge>& bytes, const std::vector<CallEdge>& calls,
                     const std::vector<int32_t>& cls, std::vector<int32_t>& sig) {
  sig.clear();
  int32_t last_cls = -1, last_hi = -2;
  int32_t last_flags = -1;
  for (const ByteEdge& e : bytes) {
    const int32_t c = cls[static_cast<size_t>(e.target)];
    if (c == last_cls && e.lo == last_hi + 1 && e.flags == last_flags) {
      sig.back() = e.hi;
    } else {
      sig.push_back(-1 - e.flags);
      sig.push_back(c);
      sig.push_back(e.lo);
      sig.push_back(e.hi);
    }
    last_cls = c;
    last_hi = e.hi;
    last_flags = e.flags;
  }
  for (const CallEdge& c : calls) {
    sig.push_back(-2);
    sig.push_back(c.rule);
    sig.push_back(cls[static_cast<size_t>(c.target)]);
  }
}

}  // namespace

void minimise(Automaton& a, std::vector<std::vector<ByteEdge>>& byte_edges,
              std::vector<std::vector<CallEdge>>& call_edges) {
  const size_t n = a.states.size();
  if (n == 0) return;
  // The refinable partition: elems ordered by class, class c owns elems[begin[c], end[c]).
  std::vector<int32_t> cls(n), elems(n), pos(n), begin, end;
  {
    // States of a counted loop never merge with others (their count would be lost).
    std::map<std::tuple<int32_t, bool, int32_t>, int32_t> initial;
    for (size_t s = 0; s < n; ++s) {
      auto key = std::make_tuple(a.states[s].rule, a.states[s].is_final, a.states[s].loop);
      cls[s] = initial.emplace(key, static_cast<int32_t>(initial.size())).first->second;
    }
    std::vector<int32_t> count(initial.size() + 1, 0);
    for (size_t s = 0; s < n; ++s) ++count[static_cast<size_t>(cls[s]) + 1];
    for (size_t c = 1; c < count.size(); ++c) count[c] += count[c - 1];
    begin.assign(count.begin(), count.end() - 1);
    end.assign(count.begin() + 1, count.end());
    std::vector<int32_t> fill(begin);
    for (size_t s = 0; s < n; ++s) {
      const int32_t p = fill[static_cast<size_t>(cls[s])]++;
      elems[static_cast<size_t>(p)] = static_cast<int32_t>(s);
      pos[s] = p;
    }
  }
  // Predecessors (CSR): the states with an edge into each state.
  std::vector<uint32_t> pred_begin(n + 1, 0);
  for (size_t s = 0; s < n; ++s) {
    for (const ByteEdge& e : byte_edges[s]) ++pred_begin[static_cast<size_t>(e.target) + 1];
    for (const CallEdge& e : call_edges[s]) ++pred_begin[static_cast<size_t>(e.target) + 1];
  }
  for (size_t i = 1; i <= n; ++i) pred_begin[i] += pred_begin[i - 1];
  std::vector<int32_t> preds(pred_begin[n]);
  {
    std::vector<uint32_t> fill(pred_begin.begin(), pred_begin.end() - 1);
    for (size_t s = 0; s < n; ++s) {
      for (const ByteEdge& e : byte_edges[s]) preds[fill[static_cast<size_t>(e.target)]++] = static_cast<int32_t>(s);
      for (const CallEdge& e : call_edges[s]) preds[fill[static_cast<size_t>(e.target)]++] = static_cast<int32_t>(s);
    }
  }
  std::vector<uint8_t> dirty(n, 1);
  std::vector<int32_t> worklist(n);
  for (size_t s = 0; s < n; ++s) worklist[s] = static_cast<int32_t>(s);
  int64_t work = 0;
  const int64_t budget = kMinimiseWorkPerState * static_cast<int64_t>(n) + 1024;
  std::vector<int32_t> sig, changed, arena;
  std::vector<uint32_t> sig_begin;
  std::vector<uint64_t> sig_hash;
  std::vector<int32_t> leader;
  std::vector<std::pair<int32_t, int32_t>> by_class;  // (class, state) of this round's dirty states
  std::vector<int32_t> group_of, group_size, group_start, class_count;
  std::vector<std::pair<int32_t, int32_t>> by_class_sorted;
  std::vector<int32_t> members, order;
  auto move_to = [&](int32_t state, int32_t p) {
    const int32_t other = elems[static_cast<size_t>(p)];
    const int32_t old = pos[static_cast<size_t>(state)];
    elems[static_cast<size_t>(old)] = other;
    pos[static_cast<size_t>(other)] = old;
    elems[static_cast<size_t>(p)] = state;
    pos[static_cast<size_t>(state)] = p;
  };
  while (!worklist.empty()) {
    by_class.clear();
    for (int32_t s : worklist) by_class.emplace_back(cls[static_cast<size_t>(s)], s);
    worklist.clear();
    // By class (within a class in worklist order, which is deterministic): a counting sort, as
    // the first round holds every state.
    if (by_class.size() > 64) {
      class_count.assign(begin.size() + 1, 0);
      for (const auto& [c, st] : by_class) ++class_count[static_cast<size_t>(c) + 1];
      for (size_t c = 1; c < class_count.size(); ++c) class_count[c] += class_count[c - 1];
      by_class_sorted.resize(by_class.size());
      for (const auto& e : by_class) by_class_sorted[static_cast<size_t>(class_count[static_cast<size_t>(e.first)]++)] = e;
      by_class.swap(by_class_sorted);
    } else {
      std::sort(by_class.begin(), by_class.end());
    }
    changed.clear();
    for (size_t i = 0; i < by_class.size();) {
      const int32_t c = by_class[i].first;
      size_t j = i;
      members.clear();
      for (; j < by_class.size() && by_class[j].first == c; ++j) members.push_back(by_class[j].second);
      i = j;
      for (int32_t s : members) dirty[static_cast<size_t>(s)] = 0;
      const int32_t size = end[static_cast<size_t>(c)] - begin[static_cast<size_t>(c)];
      if (size == 1) continue;
      work += static_cast<int64_t>(members.size()) + 1;
      if (work > budget) return;
      // Dirty members to the tail of the class; the clean head shares one signature.
      const int32_t clean = size - static_cast<int32_t>(members.size());
      for (size_t k = 0; k < members.size(); ++k) move_to(members[k], end[static_cast<size_t>(c)] - 1 - static_cast<int32_t>(k));
      // Signatures go into one arena (no per-state allocation).
      // Entry k < members.size() is member k; the last entry, with clean members, is their representative.
      const size_t entries = members.size() + (clean > 0 ? 1 : 0);
      arena.clear();
      sig_begin.assign(entries + 1, 0);
      for (size_t k = 0; k < entries; ++k) {
        const size_t s = k < members.size() ? static_cast<size_t>(members[k])
                                            : static_cast<size_t>(elems[static_cast<size_t>(begin[static_cast<size_t>(c)])]);
        state_signature(byte_edges[s], call_edges[s], cls, sig);
        arena.insert(arena.end(), sig.begin(), sig.end());
        sig_begin[k + 1] = static_cast<uint32_t>(arena.size());
      }
      // Group equal signatures: hash them into an open-addressing table of group leaders and
      // compare in full only against a leader (sorting them cost a third of a small compile).
      auto same_sig = [&](size_t x, size_t y) {
        return std::equal(arena.begin() + sig_begin[x], arena.begin() + sig_begin[x + 1], arena.begin() + sig_begin[y],
                          arena.begin() + sig_begin[y + 1]);
      };
      size_t table_size = 16;
      while (table_size < entries * 2) table_size *= 2;
      leader.assign(table_size, -1);
      sig_hash.resize(entries);
      group_of.assign(entries, 0);
      group_size.clear();
      for (size_t k = 0; k < entries; ++k) {
        const uint64_t h = hash_ids(std::span<const int32_t>(arena.data() + sig_begin[k], sig_begin[k + 1] - sig_begin[k]));
        sig_hash[k] = h;
        size_t slot = static_cast<size_t>(h) & (table_size - 1);
        while (leader[slot] >= 0 && !(sig_hash[static_cast<size_t>(leader[slot])] == h && same_sig(static_cast<size_t>(leader[slot]), k))) {
          slot = (slot + 1) & (table_size - 1);
        }
        if (leader[slot] < 0) {
          leader[slot] = static_cast<int32_t>(k);
          group_size.push_back(0);
          group_of[k] = static_cast<int32_t>(group_size.size() - 1);
        } else {
          group_of[k] = group_of[static_cast<size_t>(leader[slot])];
        }
        group_size[static_cast<size_t>(group_of[k])] += k < members.size() ? 1 : clean;
      }
      if (group_size.size() == 1) continue;
      // The group that keeps class c: the clean one, or the largest when all are dirty.
      int32_t keep = clean > 0 ? group_of[members.size()] : 0;
      if (clean == 0) {
        for (size_t g = 1; g < group_size.size(); ++g) {
          if (group_size[g] > group_size[static_cast<size_t>(keep)]) keep = static_cast<int32_t>(g);
        }
      }
      // Lay the dirty tail out group by group: the kept group first, then one new class per group.
      // (a stable counting sort by group, the kept group as group -1)
      group_start.assign(group_size.size() + 2, 0);
      auto key = [&](size_t k) { return group_of[k] == keep ? 0 : group_of[k] + 1; };
      for (size_t k = 0; k < members.size(); ++k) ++group_start[static_cast<size_t>(key(k)) + 1];
      for (size_t g = 1; g < group_start.size(); ++g) group_start[g] += group_start[g - 1];
      order.resize(members.size());
      for (size_t k = 0; k < members.size(); ++k) order[static_cast<size_t>(group_start[static_cast<size_t>(key(k))]++)] = static_cast<int32_t>(k);
      int32_t p = begin[static_cast<size_t>(c)] + clean;
      for (int32_t k : order) move_to(members[static_cast<size_t>(k)], p++);
      p = begin[static_cast<size_t>(c)] + clean;
      int32_t current_group = -2, current_class = c;
      for (int32_t k : order) {
        const int32_t g = group_of[static_cast<size_t>(k)] == keep ? -1 : group_of[static_cast<size_t>(k)];
        if (g != current_group) {
          current_group = g;
          if (g == -1) {
            current_class = c;
          } else {
            current_class = static_cast<int32_t>(begin.size());
            begin.push_back(p);
            end.push_back(p);
            if (end[static_cast<size_t>(c)] > p) end[static_cast<size_t>(c)] = p;
          }
        }
        if (current_class != c) {
          ++end[static_cast<size_t>(current_class)];
          cls[static_cast<size_t>(members[static_cast<size_t>(k)])] = current_class;
          changed.push_back(members[static_cast<size_t>(k)]);
        }
        ++p;
      }
    }
    // Predecessors of states that changed class must be re-examined.
    for (int32_t s : changed) {
      for (uint32_t k = pred_begin[static_cast<size_t>(s)]; k < pred_begin[static_cast<size_t>(s) + 1]; ++k) {
        const int32_t q = preds[k];
        if (!dirty[static_cast<size_t>(q)]) {
          dirty[static_cast<size_t>(q)] = 1;
          worklist.push_back(q);
        }
      }
    }
  }
  const size_t classes = begin.size();
  if (classes == n) return;
  // Keep the first state of each class; map every edge to representatives.
  std::vector<int32_t> rep(classes, -1), new_index(classes, -1);
  std::vector<AutomatonState> states;
  std::vector<std::vector<ByteEdge>> new_bytes;
  std::vector<std::vector<CallEdge>> new_calls;
  for (size_t s = 0; s < n; ++s) {
    const int32_t c = cls[s];
    if (rep[c] >= 0) continue;
    rep[c] = static_cast<int32_t>(s);
    new_index[c] = static_cast<int32_t>(states.size());
    states.push_back(a.states[s]);
  }
  for (size_t c = 0; c < classes; ++c) {
    const size_t s = static_cast<size_t>(rep[c]);
    std::vector<ByteEdge> bytes;
    for (ByteEdge e : byte_edges[s]) {
      e.target = new_index[cls[static_cast<size_t>(e.target)]];
      if (!bytes.empty() && bytes.back().target == e.target && bytes.back().hi + 1 == e.lo && bytes.back().flags == e.flags) {
        bytes.back().hi = e.hi;
      } else {
        bytes.push_back(e);
      }
    }
    std::vector<CallEdge> calls;
    for (CallEdge e : call_edges[s]) {
      e.target = new_index[cls[static_cast<size_t>(e.target)]];
      calls.push_back(e);
    }
    new_bytes.push_back(std::move(bytes));
    new_calls.push_back(std::move(calls));
  }
  // new_index is ordered by class of first appearance, which is the order states were kept in.
  std::vector<std::vector<ByteEdge>> ordered_bytes(classes);
  std::vector<std::vector<CallEdge>> ordered_calls(classes);
  for (size_t c = 0; c < classes; ++c) {
    ordered_bytes[static_cast<size_t>(new_index[c])] = std::move(new_bytes[c]);
    ordered_calls[static_cast<size_t>(new_index[c])] = std::move(new_calls[c]);
  }
  for (int32_t& start : a.rule_start) {
    if (start >= 0) start = new_index[cls[static_cast<size_t>(start)]];
  }
  for (CountedLoop& loop : a.loops) loop.overflow = new_index[cls[static_cast<size_t>(loop.overflow)]];
  a.states = std::move(states);
  byte_edges = std::move(ordered_bytes);
  call_edges = std::move(ordered_calls);
}

}  // namespace stencil::engine
