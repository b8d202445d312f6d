// Closure and byte steps of the graph-structured stack (see stack_machine.h).
#include "engine/stack_machine.h"

#include <algorithm>

namespace stencil::engine {

StackMachine::Seen& StackMachine::intern(int32_t state, int32_t parent, int32_t existing) {
  for (Seen& s : seen_) {
    if (s.state == state && s.parent == parent) return s;
  }
  int32_t id = existing;
  if (id < 0) {
    id = static_cast<int32_t>(nodes_.size());
    nodes_.push_back({state, parent});
  }
  seen_.push_back({state, parent, id, false});
  return seen_.back();
}

void StackMachine::close(int32_t state, int32_t parent, int32_t existing, std::vector<int32_t>& out) {
  work_.clear();
  work_.push_back({state, parent, existing});
  while (!work_.empty()) {
    const Work w = work_.back();
    work_.pop_back();
    Seen& seen = intern(w.state, w.parent, w.existing);
    if (seen.closed) continue;
    seen.closed = true;
    const int32_t id = seen.node;
    const AutomatonState& st = a_->states[static_cast<size_t>(w.state)];
    if (st.byte_begin != st.byte_end) out.push_back(id);
    for (uint32_t k = st.call_begin; k < st.call_end; ++k) {
      const CallEdge& c = a_->call_edges[k];
      const int32_t ret = intern(c.target, w.parent, -1).node;
      work_.push_back({a_->rule_start[static_cast<size_t>(c.rule)], ret, -1});
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
      } else {
        const StackNode& p = nodes_[static_cast<size_t>(w.parent)];
        work_.push_back({p.state, p.parent, w.parent});
      }
    }
  }
}

void StackMachine::start(int32_t state, int32_t parent, std::vector<int32_t>& out) {
  seen_.clear();
  has_accept_ = has_escape_ = false;
  close(state, parent, -1, out);
}

bool StackMachine::advance(std::span<const int32_t> in, uint8_t c, std::vector<int32_t>& out) {
  out.clear();
  seen_.clear();
  has_accept_ = has_escape_ = false;
  for (int32_t id : in) {
    if (id < 0) continue;
    const StackNode n = nodes_[static_cast<size_t>(id)];
    const int32_t target = a_->step(n.state, c);
    if (target >= 0) close(target, n.parent, -1, out);
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
