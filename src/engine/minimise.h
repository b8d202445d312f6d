// Minimisation of a freshly built automaton, before its per-state edge lists are flattened.
#pragma once

#include <vector>

#include "engine/automaton.h"

namespace stencil::engine {

// Merges equivalent states (the coarsest partition in which every state of a
// class has the same edges to the same classes), before the per-state edge
// lists are flattened: fewer states means fewer token walks in the mask cache.
// States of different rules never merge.
//
// Worklist refinement over a refinable partition: a class is re-examined only
// where one of its members has an edge into a state whose class changed since,
// and when a class splits, its clean members and the largest group keep the old
// class, so a long chain (a bounded string unrolled into thousands of copies)
// splits in work linear in its size, where Moore's rounds would re-hash every
// state once per layer. Work is capped (kMinimiseWorkPerState signatures per
// state): past the cap nothing is merged (a partial refinement is not sound to
// merge by), which only costs states, never exactness.
void minimise(Automaton& a, std::vector<std::vector<ByteEdge>>& byte_edges,
              std::vector<std::vector<CallEdge>>& call_edges);

}  // namespace stencil::engine
