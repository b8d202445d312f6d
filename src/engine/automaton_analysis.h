// Whole-automaton analysis, run by build_automaton once every rule is built and
// minimised, in this order.
#pragma once

#include "engine/automaton.h"

namespace stencil::engine {

// Fewest bytes from each state to the end of its rule (AutomatonState::min_bytes_to_end,
// kInfiniteBytes where the rule can never finish): a fixpoint over byte and call edges.
void compute_min_bytes(Automaton& a);
// Drops edges that lead where no end can be reached, so every state the Matcher
// can be in can still finish (masks never lead into dead ends).
void prune_dead_edges(Automaton& a);
// Throws GrammarError naming the cycle when a rule can call itself (directly or
// through others) before consuming a byte: the top-down Matcher would expand it forever.
void check_left_recursion(const Automaton& a);
// The return points of every rule (Automaton::returns, by rule in return_begin).
void index_returns(Automaton& a);

}  // namespace stencil::engine
