// The pushdown run of an Automaton over bytes: the parser under the Matcher
// and under the mask-cache precomputation.
//
// A parse state is a set of stack tops. Each stack is a chain of nodes in an
// arena: a node is (automaton state, parent node), where the parent is the
// return point in the calling rule. Stacks share their common parts, so a set
// of many stacks stays small (a graph-structured stack, as in GLR parsing).
//
// The set holds only *scanning* nodes (states with byte edges: where the next
// byte is read) plus two markers: kAccept (the root rule has ended: the text so
// far is a complete match) and kEscape (a precomputation's bottom rule ended,
// see mask_cache.cc).
//
// Past the bottom: when a precomputation's bottom rule (parent kEscapeParent)
// or a rule entered that way ends, the run goes on at *every* place that calls
// the rule (parent kAnyCallerParent): an over-approximation of any real stack.
// Such nodes are "escaped": what they accept depends on the real context. A rule
// returned to from more than kMaxEscapeReturns places (the whitespace between JSON
// tokens) ends in the marker kWild instead: "anything may follow", kept alive by
// every byte, so one step does not carry thousands of escaped stacks.
// Calls are expanded and finished rules popped eagerly
// (the closure), so advancing by one byte is: step each top's byte edge, then
// close the results.
//
// Allocation: the arena and scratch vectors grow and are reused; callers
// truncate the arena (nodes_size / truncate) to undo speculative work.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/automaton.h"

namespace stencil::engine {

inline constexpr int32_t kRootParent = -1;     // parent of the root rule's nodes
inline constexpr int32_t kEscapeParent = -2;   // parent of a precomputation's bottom rule
inline constexpr int32_t kAnyCallerParent = -3;  // "whoever may call this rule": past a precomputation's bottom
inline constexpr int32_t kAccept = -1;        // set marker: the root rule ended here
inline constexpr int32_t kEscape = -2;        // set marker: the bottom rule ended here
inline constexpr int32_t kWild = -3;          // set marker: past a widely called rule's end, anything may follow
// Past the bottom, a rule with more return points than this continues as kWild.
inline constexpr uint32_t kMaxEscapeReturns = 64;

struct StackNode {
  int32_t state;
  int32_t parent;     // node index, kRootParent or kEscapeParent
  int32_t count = 0;  // in a CountedLoop: the iterations completed (0 elsewhere)
};

// The node a byte step from `from` over edge `e` (read at byte c) makes: its
// state and count (see CountedLoop). The step past a loop's limit continues as
// the same byte read from the loop's overflow state; -1 state if that dies.
inline StackNode loop_step(const Automaton& a, const StackNode& from, const ByteEdge& e, uint8_t c) {
  StackNode n{e.target, from.parent, 0};
  const int32_t loop = a.states[static_cast<size_t>(e.target)].loop;
  if (loop < 0 || (e.flags & kEntersLoop) || a.states[static_cast<size_t>(from.state)].loop != loop) return n;
  n.count = from.count;
  if (e.flags & kStartsIteration) {
    const CountedLoop& l = a.loops[static_cast<size_t>(loop)];
    if (n.count == l.limit) return StackNode{a.step(l.overflow, c), from.parent, 0};
    ++n.count;
  }
  return n;
}

// The return point of a call made from `from`: inside the caller's loop it keeps the count.
inline int32_t return_count(const Automaton& a, const StackNode& from, int32_t target) {
  const int32_t loop = a.states[static_cast<size_t>(target)].loop;
  return loop >= 0 && a.states[static_cast<size_t>(from.state)].loop == loop ? from.count : 0;
}

class StackMachine {
 public:
  explicit StackMachine(const Automaton& automaton) : a_(&automaton) {}
  StackMachine() = default;
  // Works on another automaton from now on, keeping the buffers' capacity (an empty arena).
  void rebind(const Automaton& automaton) {
    a_ = &automaton;
    clear();
  }

  // Appends to `out` the closure of the node (state, parent): scanning nodes and markers.
  void start(int32_t state, int32_t parent, std::vector<int32_t>& out);
  // The set after reading byte c from set `in` (markers in `in` are ignored). Returns false if it is empty.
  bool advance(std::span<const int32_t> in, uint8_t c, std::vector<int32_t>& out);

  int32_t nodes_size() const { return static_cast<int32_t>(nodes_.size()); }
  void truncate(int32_t size) {
    nodes_.resize(static_cast<size_t>(size));
    escaped_.resize(static_cast<size_t>(size));
  }
  const StackNode& node(int32_t id) const { return nodes_[static_cast<size_t>(id)]; }
  // The node's stack went past a precomputation's bottom (see above).
  bool escaped(int32_t id) const { return escaped_[static_cast<size_t>(id)] != 0; }
  void clear() {
    nodes_.clear();
    escaped_.clear();
  }
  void reserve(size_t n) {
    nodes_.reserve(n);
    escaped_.reserve(n);
  }
  const Automaton& automaton() const { return *a_; }
  std::vector<StackNode>& nodes() { return nodes_; }
  const std::vector<StackNode>& nodes() const { return nodes_; }

  // Adds a node to the arena (for callers that keep stacks in their own form).
  int32_t push_node(int32_t state, int32_t parent, int32_t count = 0) { return new_node(state, parent, count); }

  // Fewest bytes that finish the whole stack of node `id` (its rule and every caller).
  int32_t min_bytes_to_end(int32_t id) const;

 private:
  struct Seen {
    int32_t state, parent, count, node;
    bool closed;
  };
  // Returns the node for (state, parent, count) in this step, creating it (or adopting `existing`) if new.
  Seen& intern(int32_t state, int32_t parent, int32_t count, int32_t existing);
  static constexpr size_t kSeenScanLimit = 16;
  static size_t seen_hash(int32_t state, int32_t parent, int32_t count);
  void index_seen(size_t i);
  void rebuild_seen_index(size_t size);
  void reset_seen();
  void close(int32_t state, int32_t parent, int32_t count, int32_t existing, std::vector<int32_t>& out);

  int32_t new_node(int32_t state, int32_t parent, int32_t count = 0) {
    nodes_.push_back({state, parent, count});
    escaped_.push_back(parent == kAnyCallerParent || (parent >= 0 && escaped_[static_cast<size_t>(parent)] != 0));
    return static_cast<int32_t>(nodes_.size() - 1);
  }
  // A finished rule continues at every caller (precomputation only).
  void continue_at_callers(int32_t rule);

  const Automaton* a_ = nullptr;
  std::vector<StackNode> nodes_;
  std::vector<uint8_t> escaped_;  // (nodes,) see escaped()
  std::vector<Seen> seen_;  // per-step dedup of (state, parent, count)
  std::vector<int32_t> seen_index_;  // open-addressing index into seen_ (empty while seen_ is small)
  struct Work {
    int32_t state, parent, count, existing;
  };
  std::vector<Work> work_;
  bool has_accept_ = false, has_escape_ = false, has_wild_ = false;
  void add_wild(std::vector<int32_t>& out) {
    if (!has_wild_) {
      has_wild_ = true;
      out.push_back(kWild);
    }
  }
};

inline bool set_has(std::span<const int32_t> set, int32_t marker) {
  for (int32_t x : set) {
    if (x == marker) return true;
  }
  return false;
}

}  // namespace stencil::engine
