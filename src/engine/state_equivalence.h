// How far two states of one rule behave alike: the basis for sharing mask-cache
// work between states that differ only beyond the longest token.
//
// Counted repetitions unroll into chains of states that are all different to
// the automaton (a string with `maxLength: 200` has 200 "characters left"
// states) but look the same to any token shorter than the distance at which
// they first differ. equivalent_depth finds that distance by walking both
// states in lockstep; the mask cache then copies the classification of every
// shorter token from a computed state and walks only the longer ones.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "engine/automaton.h"

namespace stencil::engine {

// A hash of what state s shows locally: its rule, finality, fewest bytes to the
// rule's end, byte ranges and called rules (not the targets). States that can be
// equivalent at any depth have equal signatures.
uint64_t local_signature(const Automaton& automaton, int32_t s);

// Walks pairs of states in lockstep and reports the first depth at which they
// differ. Keeps its scratch between calls (one probe per thread).
class EquivalenceProbe {
 public:
  // The fewest bytes after which runs from p and from q can differ: every byte
  // string shorter than the result takes both through the same edges, ending
  // rules at the same points with the same fewest bytes to the end of the rule
  // and the same calls. p and q must belong to the same rule. Returns `limit + 1`
  // when they cannot differ within `limit` bytes, and 0 when the probe gives up
  // (more than `max_pairs` pairs of states to compare).
  int32_t equivalent_depth(const Automaton& automaton, int32_t p, int32_t q, int32_t limit, int32_t max_pairs = 16384);

 private:
  struct Pair {
    int32_t p, q;
  };
  // Records that (p, q) is reached in `depth` bytes; false if it was already reached in as few.
  bool visit(int32_t p, int32_t q, int32_t depth);

  std::vector<std::vector<Pair>> by_depth_;  // (limit + 1,) pairs to expand, a bucket queue
  // Pairs are mostly one-to-one (each state meets one partner): the first partner
  // of a state is kept in flat arrays, any other in a map.
  std::vector<uint32_t> stamp_;  // (states,) == generation_ when partner_/depth_ are set this call
  std::vector<int32_t> partner_, depth_;
  std::unordered_map<uint64_t, int32_t> other_;  // (p, q) -> depth, for p's later partners
  uint32_t generation_ = 0;
};

}  // namespace stencil::engine
