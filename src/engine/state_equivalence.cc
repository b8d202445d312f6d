// Lockstep walks of two states (see state_equivalence.h).
#include "engine/state_equivalence.h"

namespace stencil::engine {
namespace {

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

bool locally_equal(const Automaton& a, int32_t p, int32_t q) {
  const AutomatonState& sp = a.states[static_cast<size_t>(p)];
  const AutomatonState& sq = a.states[static_cast<size_t>(q)];
  if (sp.rule != sq.rule || sp.is_final != sq.is_final || sp.min_bytes_to_end != sq.min_bytes_to_end) return false;
  if (sp.byte_end - sp.byte_begin != sq.byte_end - sq.byte_begin) return false;
  if (sp.call_end - sp.call_begin != sq.call_end - sq.call_begin) return false;
  for (uint32_t i = 0; i < sp.byte_end - sp.byte_begin; ++i) {
    const ByteEdge& ep = a.byte_edges[sp.byte_begin + i];
    const ByteEdge& eq = a.byte_edges[sq.byte_begin + i];
    if (ep.lo != eq.lo || ep.hi != eq.hi) return false;
  }
  for (uint32_t i = 0; i < sp.call_end - sp.call_begin; ++i) {
    if (a.call_edges[sp.call_begin + i].rule != a.call_edges[sq.call_begin + i].rule) return false;
  }
  return true;
}

}  // namespace

uint64_t local_signature(const Automaton& a, int32_t s) {
  const AutomatonState& st = a.states[static_cast<size_t>(s)];
  uint64_t h = mix(static_cast<uint64_t>(st.rule), static_cast<uint64_t>(st.min_bytes_to_end) * 2 + st.is_final);
  for (uint32_t k = st.byte_begin; k < st.byte_end; ++k) {
    h = mix(h, static_cast<uint64_t>(a.byte_edges[k].lo) << 8 | a.byte_edges[k].hi);
  }
  for (uint32_t k = st.call_begin; k < st.call_end; ++k) h = mix(h, static_cast<uint64_t>(a.call_edges[k].rule) + 0x10000);
  return h;
}

bool EquivalenceProbe::visit(int32_t p, int32_t q, int32_t depth) {
  const size_t i = static_cast<size_t>(p);
  if (stamp_[i] != generation_) {
    stamp_[i] = generation_;
    partner_[i] = q;
    depth_[i] = depth;
    return true;
  }
  int32_t* best = &depth_[i];
  if (partner_[i] != q) {
    const uint64_t key = static_cast<uint64_t>(static_cast<uint32_t>(p)) << 32 | static_cast<uint32_t>(q);
    auto [it, fresh] = other_.try_emplace(key, depth);
    if (fresh) return true;
    best = &it->second;
  }
  if (*best <= depth) return false;
  *best = depth;
  return true;
}

int32_t EquivalenceProbe::equivalent_depth(const Automaton& a, int32_t p, int32_t q, int32_t limit, int32_t max_pairs) {
  // Shortest-depth-first over pairs (a bucket queue): the first unequal pair
  // met is at the smallest depth. A byte edge costs 1; a call costs the
  // callee's fewest bytes (its states are the same on both sides, so only the
  // return points pair up; the fewest bytes is the conservative choice).
  if (stamp_.size() < a.states.size()) {
    stamp_.assign(a.states.size(), 0);
    partner_.resize(a.states.size());
    depth_.resize(a.states.size());
    generation_ = 0;
  }
  if (++generation_ == 0) {  // wrapped: stale stamps could look current
    std::fill(stamp_.begin(), stamp_.end(), 0u);
    generation_ = 1;
  }
  other_.clear();
  if (by_depth_.size() < static_cast<size_t>(limit) + 1) by_depth_.resize(static_cast<size_t>(limit) + 1);
  for (auto& bucket : by_depth_) bucket.clear();
  auto push = [&](int32_t depth, int32_t x, int32_t y) {
    if (x == y || depth > limit || !visit(x, y, depth)) return;
    by_depth_[static_cast<size_t>(depth)].push_back({x, y});
  };
  push(0, p, q);
  int32_t expanded = 0;
  for (int32_t depth = 0; depth <= limit; ++depth) {
    std::vector<Pair>& bucket = by_depth_[static_cast<size_t>(depth)];
    for (size_t k = 0; k < bucket.size(); ++k) {  // nullable calls append to this bucket while it is read
      const Pair pair = bucket[k];
      const bool current = (partner_[static_cast<size_t>(pair.p)] == pair.q ? depth_[static_cast<size_t>(pair.p)]
                            : other_.at(static_cast<uint64_t>(static_cast<uint32_t>(pair.p)) << 32 |
                                        static_cast<uint32_t>(pair.q))) == depth;
      if (!current) continue;  // reached in fewer bytes later on: expanded there
      if (!locally_equal(a, pair.p, pair.q)) return depth;
      if (++expanded > max_pairs) return 0;
      const AutomatonState& sp = a.states[static_cast<size_t>(pair.p)];
      const AutomatonState& sq = a.states[static_cast<size_t>(pair.q)];
      int32_t last_x = -1, last_y = -1;
      for (uint32_t i = 0; i < sp.byte_end - sp.byte_begin; ++i) {
        const int32_t x = a.byte_edges[sp.byte_begin + i].target, y = a.byte_edges[sq.byte_begin + i].target;
        if (x == last_x && y == last_y) continue;  // ranges split around other bytes often share targets
        last_x = x;
        last_y = y;
        push(depth + 1, x, y);
      }
      for (uint32_t i = 0; i < sp.call_end - sp.call_begin; ++i) {
        const CallEdge& cp = a.call_edges[sp.call_begin + i];
        const int32_t callee = a.states[static_cast<size_t>(a.rule_start[static_cast<size_t>(cp.rule)])].min_bytes_to_end;
        if (callee >= kInfiniteBytes) continue;
        push(depth + callee, cp.target, a.call_edges[sq.call_begin + i].target);
      }
    }
  }
  return limit + 1;
}

}  // namespace stencil::engine
