// Closure and byte steps of the graph-structured stack (see stack_machine.h).
#include "engine/stack_machine.h"

#include <algorithm>

namespace stencil::engine {

StackMachine::Seen& StackMachine::intern(int32_t state, int32_t parent, int32_t count, int32_t existing) {
  // A linear scan while the step is small (the common case: a handful of stacks); past
  // kSeenScanLimit entries an open-addressing index, so a rule ended past the bottom that
  // continues at thousands of callers costs linear, not quadratic, time.
  if (seen_.size() < kSeenScanLimit) {
    for (Seen& s : seen_) {
      if (s.state == state && s.parent == parent && s.count == count) return s;
    }
  } else {
    if (seen_index_.empty()) rebuild_seen_index(kSeenScanLimit * 4);
    const size_t mask = seen_index_.size() - 1;
    for (size_t slot = seen_hash(state, parent, count) & mask;; slot = (slot + 1) & mask) {
      const int32_t i = seen_index_[slot];
      if (i < 0) break;
      Seen& s = seen_[static_cast<size_t>(i)];
      if (s.state == state && s.parent == parent && s.count == count) return s;
    }
  }
  const int32_t id = existing >= 0 ? existing : new_node(state, parent, count);
  seen_.push_back({state, parent, count, id, false});
  if (!seen_index_.empty()) {
    if (seen_.size() * 2 > seen_index_.size()) {
      rebuild_seen_index(seen_index_.size() * 2);
    } else {
      index_seen(seen_.size() - 1);
    }
  }
  return seen_.back();
}

size_t StackMachine::seen_hash(int32_t state, int32_t parent, int32_t count) {
  uint64_t h = static_cast<uint32_t>(state) * 0x9E3779B97F4A7C15ull;
  h ^= (static_cast<uint64_t>(static_cast<uint32_t>(parent)) << 32 | static_cast<uint32_t>(count)) * 0xC2B2AE3D27D4EB4Full;
  return static_cast<size_t>(h ^ (h >> 29));
}

void StackMachine::index_seen(size_t i) {
  const Seen& s = seen_[i];
  const size_t mask = seen_index_.size() - 1;
  size_t slot = seen_hash(s.state, s.parent, s.count) & mask;
  while (seen_index_[slot] >= 0) slot = (slot + 1) & mask;
  seen_index_[slot] = static_cast<int32_t>(i);
}

void StackMachine::rebuild_seen_index(size_t size) {
  seen_index_.assign(size, -1);
  for (size_t i = 0; i < seen_.size(); ++i) index_seen(i);
}

void StackMachine::reset_seen() {
  seen_.clear();
  seen_index_.clear();  // keeps its capacity
}

void StackMachine::close(int32_t state, int32_t parent, int32_t count, int32_t existing, std::vector<int32_t>& out) {
  work_.clear();
  work_.push_back({state, parent, count, existing});
  while (!work_.empty()) {
    const Work w = work_.back();
    work_.pop_back();
    if (w.state == kWild) {
      add_wild(out);
      continue;
    }
    if (w.state < 0) {  // the root ended past a precomputation's bottom
      if (!has_accept_) {
        has_accept_ = true;
        out.push_back(kAccept);
      }
      continue;
    }
    Seen& seen = intern(w.state, w.parent, w.count, w.existing);
    if (seen.closed) continue;
    seen.closed = true;
    const int32_t id = seen.node;
    const AutomatonState& st = a_->states[static_cast<size_t>(w.state)];
    if (st.byte_begin != st.byte_end) out.push_back(id);
    for (uint32_t k = st.call_begin; k < st.call_end; ++k) {
      const CallEdge& c = a_->call_edges[k];
      // A tail call (nothing left to do after it in this rule) returns straight to
      // our caller: no return node. Stacks stay shallow and a rule that ends right
      // after a call hands its context to the callee, which keeps the mask cache sharp.
      const AutomatonState& t = a_->states[static_cast<size_t>(c.target)];
      const bool tail = t.is_final && t.byte_begin == t.byte_end && t.call_begin == t.call_end;
      const int32_t count = return_count(*a_, StackNode{w.state, w.parent, w.count}, c.target);
      const int32_t ret = tail ? w.parent : intern(c.target, w.parent, count, -1).node;
      work_.push_back({a_->rule_start[static_cast<size_t>(c.rule)], ret, 0, -1});
    }
    if (st.is_final) {
      if (w.parent == kRootParent) {
        if (!has_accept_) {
          has_accept_ = true;
          out.push_back(kAccept);
        }
      } else if (w.parent == kEscapeParent) {
        if (!has_escape_) {
          has_escape_ = true;
          out.push_back(kEscape);
        }
        continue_at_callers(st.rule);
      } else if (w.parent == kAnyCallerParent) {
        continue_at_callers(st.rule);
      } else {
        const StackNode& p = nodes_[static_cast<size_t>(w.parent)];
        work_.push_back({p.state, p.parent, p.count, w.parent});
      }
    }
  }
}

void StackMachine::continue_at_callers(int32_t rule) {
  if (rule == a_->root_rule) {
    // The root may also end here; that counts as a (context-dependent) accept.
    work_.push_back({-1, kRootParent, 0, -1});
  }
  if (a_->return_begin[static_cast<size_t>(rule) + 1] - a_->return_begin[static_cast<size_t>(rule)] > kMaxEscapeReturns) {
    work_.push_back({kWild, kAnyCallerParent, 0, -1});
    return;
  }
  for (uint32_t k = a_->return_begin[static_cast<size_t>(rule)]; k < a_->return_begin[static_cast<size_t>(rule) + 1];
       ++k) {
    work_.push_back({a_->returns[k], kAnyCallerParent, 0, -1});
  }
}

void StackMachine::start(int32_t state, int32_t parent, std::vector<int32_t>& out) {
  reset_seen();
  has_accept_ = has_escape_ = has_wild_ = false;
  close(state, parent, 0, -1, out);
}

bool StackMachine::advance(std::span<const int32_t> in, uint8_t c, std::vector<int32_t>& out) {
  out.clear();
  reset_seen();
  has_accept_ = has_escape_ = has_wild_ = false;
  // Fast path: one stack moving inside a rule (no call, no end): the common case
  // inside strings, numbers and literals.
  if (in.size() == 1 && in[0] >= 0) {
    const StackNode n = nodes_[static_cast<size_t>(in[0])];
    const ByteEdge* e = a_->edge(n.state, c);
    if (e == nullptr) return false;
    const StackNode next = loop_step(*a_, n, *e, c);
    if (next.state < 0) return false;
    const AutomatonState& t = a_->states[static_cast<size_t>(next.state)];
    if (!t.is_final && t.call_begin == t.call_end) {
      out.push_back(new_node(next.state, next.parent, next.count));
      return true;
    }
    close(next.state, next.parent, next.count, -1, out);
    return !out.empty();
  }
  for (int32_t id : in) {
    if (id == kWild) add_wild(out);  // anything may follow: any byte keeps it
    if (id < 0) continue;
    const StackNode n = nodes_[static_cast<size_t>(id)];
    const ByteEdge* e = a_->edge(n.state, c);
    if (e == nullptr) continue;
    const StackNode next = loop_step(*a_, n, *e, c);
    if (next.state >= 0) close(next.state, next.parent, next.count, -1, out);
  }
  return !out.empty();
}

int32_t StackMachine::min_bytes_to_end(int32_t id) const {
  int64_t total = 0;
  while (id >= 0) {
    const StackNode& n = nodes_[static_cast<size_t>(id)];
    total += a_->states[static_cast<size_t>(n.state)].min_bytes_to_end;
    id = n.parent;
  }
  return static_cast<int32_t>(std::min<int64_t>(total, kInfiniteBytes));
}

}  // namespace stencil::engine
