// The grammar automaton: every rule of the grammar as a byte-level automaton
// whose edges are either byte ranges or calls of other rules. This is what the
// Matcher runs (a pushdown automaton: a call pushes a return point, reaching a
// final state pops) and what the mask cache precomputes over.
//
// Rules that are not recursive are inlined into their callers where that keeps
// the automaton small, so lexeme-like rules (strings, numbers, whitespace,
// literals) become plain DFA paths; each rule is then determinised (subset
// construction), so a given byte leads to at most one state of the same rule.
//
// Everything is flat and index-based: states are numbered globally, each state
// belongs to one rule, and edges live in two arrays sliced per state.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "grammar/grammar.h"
#include "stencil/compiler.h"

namespace stencil::engine {

inline constexpr int32_t kInfiniteBytes = std::numeric_limits<int32_t>::max() / 4;

struct ByteEdge {
  uint8_t lo;     // inclusive
  uint8_t hi;     // inclusive
  uint8_t flags;  // kStartsIteration / kEntersLoop: how the step counts in a CountedLoop
  int32_t target;
};
inline constexpr uint8_t kStartsIteration = 1;  // within a loop: begins the next iteration
inline constexpr uint8_t kEntersLoop = 2;       // into a loop afresh (count 0)

struct CallEdge {
  int32_t rule;    // the rule called
  int32_t target;  // the state to continue at when the call returns
};

struct AutomatonState {
  int32_t rule;
  uint32_t byte_begin, byte_end;  // slice of Automaton::byte_edges, sorted by lo, disjoint
  uint32_t call_begin, call_end;  // slice of Automaton::call_edges
  bool is_final;                  // the rule may end here (then the caller continues)
  int32_t min_bytes_to_end;       // fewest bytes from here to the end of this rule (kInfiniteBytes: never)
  int32_t loop = -1;              // the CountedLoop this state belongs to, or -1
};

// A long optional repetition X{0,n} kept as one copy of X plus a counter,
// instead of n copies. Its states (one copy of X, and where an iteration may
// start or the repetition end) form a cycle; a stack node in the loop carries
// the iterations started so far. A step marked kStartsIteration begins one; the
// one past `limit` continues instead as the same byte read from `overflow`, the
// start of the last `slack` iterations unrolled, so the whole reads at most
// limit + slack iterations, exactly as the grammar says. Counting starts (not
// ends) lets an iteration end ambiguously, as "," ws item ws does.
//
// Why the cache needs no counter: slack is at least the iterations one token
// can start, so no token read from a loop state can tell the cycle from the
// real loop-then-tail: the loop states' token masks are those of the plain
// cycle, whatever the count.
struct CountedLoop {
  int32_t limit;     // iterations started in the loop (>= 2)
  int32_t overflow;  // start of the unrolled tail X{0,slack}
};

struct Automaton {
  std::vector<AutomatonState> states;
  std::vector<ByteEdge> byte_edges;
  std::vector<CallEdge> call_edges;
  std::vector<int32_t> rule_start;      // (rules,) start state per rule; -1 for rules inlined everywhere
  std::vector<std::string> rule_names;  // (rules,)
  int32_t root_rule = 0;
  // Where a finished rule may continue: the targets of every call edge calling it.
  // returns[return_begin[r], return_begin[r + 1]) for rule r. Used by the
  // mask-cache precomputation to look past the end of a rule in any context.
  std::vector<uint32_t> return_begin;  // (rules + 1,)
  std::vector<int32_t> returns;
  std::vector<CountedLoop> loops;  // see CountedLoop; states[s].loop indexes it

  bool has_bytes(int32_t s) const { return states[s].byte_begin != states[s].byte_end; }
  bool has_calls(int32_t s) const { return states[s].call_begin != states[s].call_end; }
  // The target of the byte edge of state s that matches c, or -1. (Deterministic per rule.)
  int32_t step(int32_t s, uint8_t c) const {
    const ByteEdge* e = edge(s, c);
    return e != nullptr ? e->target : -1;
  }
  const ByteEdge* edge(int32_t s, uint8_t c) const {
    const AutomatonState& st = states[s];
    for (uint32_t i = st.byte_begin; i < st.byte_end; ++i) {
      const ByteEdge& e = byte_edges[i];
      if (c < e.lo) return nullptr;
      if (c <= e.hi) return &e;
    }
    return nullptr;
  }
  int32_t root_start() const { return rule_start[root_rule]; }
};

// Builds the automaton. Throws GrammarError for undefined rules, left recursion
// the engine can't take (naming the cycle) and grammars that accept nothing;
// LimitError when limits.max_automaton_states is exceeded. `longest_token` is
// the vocabulary's longest token in bytes: an optional repetition longer than
// slack + 1, slack = the iterations one such token can start, becomes a
// CountedLoop where it counts exactly (0: never).
Automaton build_automaton(const grammar::Grammar& grammar, const CompileLimits& limits, int32_t longest_token = 0);

// The automaton as readable text (one line per state), for debugging.
std::string describe(const Automaton& automaton);

}  // namespace stencil::engine
