// Whole-automaton analysis (see automaton_analysis.h).
#include "engine/automaton_analysis.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "stencil/errors.h"

namespace stencil::engine {

void compute_min_bytes(Automaton& a) {
  // Fixpoint of min_end(s) = min(0 if final, 1 + min_end(t) over bytes, min_len(R) + min_end(t) over calls).
  // Passes in reverse state order converge in a few rounds for the forward-built automata.
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t i = a.states.size(); i-- > 0;) {
      AutomatonState& s = a.states[i];
      int32_t best = s.is_final ? 0 : kInfiniteBytes;
      for (uint32_t k = s.byte_begin; k < s.byte_end; ++k) {
        best = std::min(best, 1 + a.states[a.byte_edges[k].target].min_bytes_to_end);
      }
      for (uint32_t k = s.call_begin; k < s.call_end; ++k) {
        const CallEdge& c = a.call_edges[k];
        const int32_t len = a.states[a.rule_start[c.rule]].min_bytes_to_end;
        best = std::min(best, std::min(kInfiniteBytes, len + a.states[c.target].min_bytes_to_end));
      }
      best = std::min(best, kInfiniteBytes);
      if (best < s.min_bytes_to_end) {
        s.min_bytes_to_end = best;
        changed = true;
      }
    }
  }
}

// Drops edges that lead where no end can be reached, so every state the Matcher
// can be in can still finish (masks never lead into dead ends).
void prune_dead_edges(Automaton& a) {
  std::vector<ByteEdge> bytes;
  std::vector<CallEdge> calls;
  for (AutomatonState& s : a.states) {
    const uint32_t bb = static_cast<uint32_t>(bytes.size());
    for (uint32_t k = s.byte_begin; k < s.byte_end; ++k) {
      if (a.states[a.byte_edges[k].target].min_bytes_to_end < kInfiniteBytes) bytes.push_back(a.byte_edges[k]);
    }
    const uint32_t cb = static_cast<uint32_t>(calls.size());
    for (uint32_t k = s.call_begin; k < s.call_end; ++k) {
      const CallEdge& c = a.call_edges[k];
      if (a.states[a.rule_start[c.rule]].min_bytes_to_end < kInfiniteBytes &&
          a.states[c.target].min_bytes_to_end < kInfiniteBytes) {
        calls.push_back(c);
      }
    }
    s.byte_begin = bb;
    s.byte_end = static_cast<uint32_t>(bytes.size());
    s.call_begin = cb;
    s.call_end = static_cast<uint32_t>(calls.size());
  }
  a.byte_edges = std::move(bytes);
  a.call_edges = std::move(calls);
}

// A rule that can call itself (directly or through others) before consuming a
// byte would make the top-down Matcher expand calls forever.
void check_left_recursion(const Automaton& a) {
  const int32_t n = static_cast<int32_t>(a.rule_start.size());
  std::vector<std::vector<int32_t>> left_calls(n);
  for (int32_t r = 0; r < n; ++r) {
    if (a.rule_start[r] < 0) continue;
    std::vector<int32_t> stack{a.rule_start[r]};
    std::vector<bool> seen(a.states.size(), false);
    while (!stack.empty()) {
      const int32_t s = stack.back();
      stack.pop_back();
      if (seen[s]) continue;
      seen[s] = true;
      const AutomatonState& st = a.states[s];
      for (uint32_t k = st.call_begin; k < st.call_end; ++k) {
        const CallEdge& c = a.call_edges[k];
        left_calls[r].push_back(c.rule);
        if (a.states[a.rule_start[c.rule]].min_bytes_to_end == 0) stack.push_back(c.target);
      }
    }
  }
  // Cycle detection with colours (iterative DFS), reporting the cycle.
  std::vector<int8_t> colour(n, 0);
  std::vector<int32_t> parent(n, -1);
  for (int32_t root = 0; root < n; ++root) {
    if (colour[root] != 0 || a.rule_start[root] < 0) continue;
    std::vector<std::pair<int32_t, size_t>> frames{{root, 0}};
    colour[root] = 1;
    while (!frames.empty()) {
      auto& [v, next] = frames.back();
      if (next < left_calls[v].size()) {
        const int32_t w = left_calls[v][next++];
        if (colour[w] == 1) {
          std::string cycle = a.rule_names[w];
          std::vector<int32_t> path;
          for (auto& f : frames) path.push_back(f.first);
          auto it = std::find(path.begin(), path.end(), w);
          for (++it; it != path.end(); ++it) cycle += " -> " + a.rule_names[*it];
          cycle += " -> " + a.rule_names[w];
          throw GrammarError("left recursion is not supported: " + cycle +
                             " (rewrite the rule so it consumes input before calling itself)");
        }
        if (colour[w] == 0) {
          colour[w] = 1;
          frames.push_back({w, 0});
        }
        continue;
      }
      colour[v] = 2;
      frames.pop_back();
    }
  }
}

void index_returns(Automaton& a) {
  const size_t n = a.rule_start.size();
  std::vector<std::vector<int32_t>> by_rule(n);
  for (const CallEdge& c : a.call_edges) by_rule[static_cast<size_t>(c.rule)].push_back(c.target);
  a.return_begin.assign(n + 1, 0);
  for (size_t r = 0; r < n; ++r) {
    std::sort(by_rule[r].begin(), by_rule[r].end());
    by_rule[r].erase(std::unique(by_rule[r].begin(), by_rule[r].end()), by_rule[r].end());
    a.return_begin[r] = static_cast<uint32_t>(a.returns.size());
    a.returns.insert(a.returns.end(), by_rule[r].begin(), by_rule[r].end());
  }
  a.return_begin[n] = static_cast<uint32_t>(a.returns.size());
}

}  // namespace stencil::engine
