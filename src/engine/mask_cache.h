// The per-state token mask cache: the reason masks are fast.
//
// For every scanning state s of the automaton, every ordinary token is
// classified once, at compile time, by walking the whole vocabulary from the
// stack (s, <bottom>):
//   accepted  - consumed entirely without leaving s's rule (calls inside are
//               fine: they do not depend on who called s's rule) -> allowed
//               whatever the real stack below is;
//   rejected  - dies inside the rule -> never allowed from s;
//   uncertain - leaves s's rule before its last byte: the rest depends on the
//               real stack; the Matcher checks these few at run time.
// Accepted sets are stored as a bitset when dense, as an id list when sparse.
//
// Second level: an uncertain token usually depends only on the state the
// stack returns to when s's rule ends. For every state a stack of s's rule
// can return to (its parent's state t), the uncertain tokens are classified
// again from (s, (t, <bottom>)): accepted under t, rejected under t, or still
// uncertain (they also look past t's rule). The Matcher looks up its top's
// parent state and checks only what is still uncertain there.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/automaton.h"
#include "engine/sorted_vocab.h"
#include "stencil/vocabulary.h"

namespace stencil::engine {

// The uncertain tokens of a state re-classified for one parent state.
struct ParentRefinement {
  int32_t parent_state;
  uint32_t accepted_begin, accepted_end;    // slice of MaskCache::accepted_ids
  uint32_t uncertain_begin, uncertain_end;  // slice of MaskCache::uncertain_ids, trie order
};

struct StateMask {
  int32_t bitset = -1;               // index into MaskCache::bitsets when the accepted set is dense
  uint32_t accepted_begin = 0;       // slice of MaskCache::accepted_ids (sparse case)
  uint32_t accepted_end = 0;
  uint32_t uncertain_begin = 0;      // slice of MaskCache::uncertain_ids, in trie order
  uint32_t uncertain_end = 0;
  uint32_t refine_begin = 0;         // slice of MaskCache::refinements, sorted by parent_state
  uint32_t refine_end = 0;
};

struct MaskCache {
  int32_t words = 0;                    // 32-bit words per bitset
  std::vector<StateMask> states;        // (automaton states,)
  std::vector<uint32_t> bitsets;        // (dense sets, words)
  std::vector<int32_t> accepted_ids;    // sparse accepted sets, concatenated
  std::vector<int32_t> uncertain_ids;   // uncertain sets, concatenated, each in trie order
  std::vector<ParentRefinement> refinements;
  int32_t cached_states = 0;

  int64_t memory_bytes() const {
    return static_cast<int64_t>(bitsets.size() * 4 + accepted_ids.size() * 4 + uncertain_ids.size() * 4 +
                                states.size() * sizeof(StateMask) + refinements.size() * sizeof(ParentRefinement));
  }

  // threads: how many threads to precompute on (states are independent).
  static MaskCache build(const Automaton& automaton, const SortedVocab& sorted, const Vocabulary& vocab, int32_t threads);
};

}  // namespace stencil::engine
