// Building the per-state token mask cache (see mask_cache.h): one trie-order
// walk of the vocabulary per scanning state, states spread over threads.
#include "engine/mask_cache.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>

#include "engine/stack_machine.h"
#include "engine/token_walk.h"

namespace stencil::engine {
namespace {

struct Refined {
  int32_t parent_state;
  std::vector<int32_t> accepted, uncertain;
};

struct StateResult {
  std::vector<int32_t> accepted;   // token ids
  std::vector<int32_t> uncertain;  // token ids, trie order
  std::vector<Refined> refined;    // by parent state, increasing
};

// Refinement is skipped for rules returned to from more places than this (the
// cost grows with states x parents); their uncertain tokens are checked at run time.
constexpr size_t kMaxRefinedParents = 512;

bool is_tail(const Automaton& a, int32_t t) {
  const AutomatonState& s = a.states[static_cast<size_t>(t)];
  return s.is_final && s.byte_begin == s.byte_end && s.call_begin == s.call_end;
}

// The states a stack of each rule can have as its parent: return points of the
// calls of the rule, where a tail call's return point is replaced by the parents
// of the rule that made the call (tail calls keep no return node; see StackMachine).
std::vector<std::vector<int32_t>> effective_parents(const Automaton& a) {
  const size_t n = a.rule_start.size();
  std::vector<std::vector<int32_t>> out(n);
  for (size_t r = 0; r < n; ++r) {
    std::vector<bool> seen(n, false);
    std::vector<int32_t> stack{static_cast<int32_t>(r)};
    seen[r] = true;
    while (!stack.empty() && out[r].size() <= kMaxRefinedParents) {
      const int32_t rule = stack.back();
      stack.pop_back();
      for (uint32_t k = a.return_begin[static_cast<size_t>(rule)]; k < a.return_begin[static_cast<size_t>(rule) + 1]; ++k) {
        const int32_t t = a.returns[k];
        if (!is_tail(a, t)) {
          out[r].push_back(t);
          continue;
        }
        const int32_t caller = a.states[static_cast<size_t>(t)].rule;
        if (!seen[static_cast<size_t>(caller)]) {
          seen[static_cast<size_t>(caller)] = true;
          stack.push_back(caller);
        }
      }
    }
    std::sort(out[r].begin(), out[r].end());
    out[r].erase(std::unique(out[r].begin(), out[r].end()), out[r].end());
  }
  return out;
}

// Where a set stands after a token's bytes, for the cache.
enum class Reach : uint8_t { kDead, kContextOnly, kInside };

Reach reach(const StackMachine& sm, std::span<const int32_t> set) {
  if (set.empty()) return Reach::kDead;
  for (int32_t id : set) {
    if (id == kEscape) return Reach::kInside;  // ended exactly at the end of the rule: fine in any context
    if (id >= 0 && !sm.escaped(id)) return Reach::kInside;
  }
  return Reach::kContextOnly;
}

// One depth-first walk of the vocabulary trie from the stack (state, <bottom>).
//
// Level d holds the set reached after a d-byte prefix. Most of a walk runs
// inside one rule with a single stack (string bodies, numbers, literals), so a
// level is kept in "single" form when it can: one (state, parent) pair that is
// not materialised in the arena, advanced by a bare DFA step. Anything else
// (calls, rule ends, several stacks) goes through the StackMachine.
struct Level {
  uint32_t set_end;     // end of this level's set in buf (general form)
  int32_t arena_size;   // arena size after this level was made
  int32_t state;        // single form: the state, or -1 for the general form
  int32_t parent;       // single form: the parent node
  Reach reach;
};

class TrieClassifier {
 public:
  TrieClassifier(const Automaton& a, const SortedVocab& sorted) : a_(a), sorted_(sorted), sm_(a) {}

  void run(int32_t state, StateResult& out) {
    sm_.clear();
    buf_.clear();
    const size_t max_depth = static_cast<size_t>(sorted_.max_token_bytes) + 1;
    levels_.resize(max_depth);
    first_known_.assign(max_depth, 0);
    first_.resize(max_depth);
    Level* const levels = levels_.data();
    sm_.start(state, kEscapeParent, buf_);
    levels[0] = Level{static_cast<uint32_t>(buf_.size()), sm_.nodes_size(), -1, 0, reach(sm_, buf_)};
    const TrieNode* const nodes = sorted_.nodes.data();
    const uint32_t n_nodes = static_cast<uint32_t>(sorted_.nodes.size());
    uint32_t k = 1;
    while (k < n_nodes) {
      const TrieNode& node = nodes[k];
      const size_t d = node.depth;
      const Level& up = levels[d - 1];
      Level next{};
      if (up.state >= 0) {
        // Single form: a bare DFA step when it stays inside the rule.
        const int32_t target = a_.step(up.state, node.byte);
        if (target < 0) {
          k = node.end;
          continue;
        }
        const AutomatonState& t = a_.states[static_cast<size_t>(target)];
        if (!t.is_final && t.call_begin == t.call_end) {
          next = Level{up.set_end, up.arena_size, target, up.parent, up.reach};
        } else {
          sm_.truncate(up.arena_size);
          buf_.resize(up.set_end);
          scratch_.clear();
          const int32_t id = materialise(up.state, up.parent);
          const int32_t one[1] = {id};
          sm_.advance(one, node.byte, scratch_);
          next = general(scratch_);
        }
      } else {
        // Most children of a general level die on their byte: check the level's first bytes before simulating.
        const uint32_t begin = d >= 2 ? levels[d - 2].set_end : 0;
        std::array<uint64_t, 4>& first = first_[d - 1];
        if (!first_known_[d - 1]) {
          first = {0, 0, 0, 0};
          for (uint32_t i = begin; i < up.set_end; ++i) {
            if (buf_[i] < 0) continue;
            const AutomatonState& st = a_.states[static_cast<size_t>(sm_.node(buf_[i]).state)];
            for (uint32_t e = st.byte_begin; e < st.byte_end; ++e) {
              for (uint32_t b = a_.byte_edges[e].lo; b <= a_.byte_edges[e].hi; ++b) first[b >> 6] |= uint64_t{1} << (b & 63);
            }
          }
          first_known_[d - 1] = 1;
        }
        if (!((first[node.byte >> 6] >> (node.byte & 63)) & 1u)) {
          k = node.end;
          continue;
        }
        sm_.truncate(up.arena_size);
        buf_.resize(up.set_end);
        scratch_.clear();
        sm_.advance(std::span<const int32_t>(buf_.data() + begin, up.set_end - begin), node.byte, scratch_);
        next = general(scratch_);
      }
      if (next.reach == Reach::kDead) {
        k = node.end;  // nothing below survives either
        continue;
      }
      for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) {
        (next.reach == Reach::kInside ? out.accepted : out.uncertain).push_back(sorted_.trie_tokens[t]);
      }
      levels[d] = next;
      first_known_[d] = 0;
      ++k;
    }
  }

 private:
  int32_t materialise(int32_t state, int32_t parent) { return sm_.push_node(state, parent); }

  // A level from a general set just computed into scratch_ (appended to buf_).
  Level general(const std::vector<int32_t>& set) {
    const Reach r = reach(sm_, set);
    if (set.size() == 1 && set[0] >= 0) {
      const StackNode n = sm_.node(set[0]);
      return Level{static_cast<uint32_t>(buf_.size()), sm_.nodes_size(), n.state, n.parent, r};
    }
    buf_.insert(buf_.end(), set.begin(), set.end());
    return Level{static_cast<uint32_t>(buf_.size()), sm_.nodes_size(), -1, 0, r};
  }

  const Automaton& a_;
  const SortedVocab& sorted_;
  StackMachine sm_;
  std::vector<int32_t> buf_, scratch_;
  std::vector<Level> levels_;                      // (max token bytes + 1,) by depth
  std::vector<uint8_t> first_known_;               // (max token bytes + 1,) first_[d] is up to date
  std::vector<std::array<uint64_t, 4>> first_;     // general levels: the bytes some stack can read next
};

}  // namespace

MaskCache MaskCache::build(const Automaton& a, const SortedVocab& sorted, const Vocabulary& vocab, int32_t threads) {
  MaskCache cache;
  cache.words = (vocab.size() + 31) / 32;
  cache.states.resize(a.states.size());
  std::vector<int32_t> scanning;
  for (size_t s = 0; s < a.states.size(); ++s) {
    if (a.has_bytes(static_cast<int32_t>(s))) scanning.push_back(static_cast<int32_t>(s));
  }
  std::vector<StateResult> results(scanning.size());
  const std::vector<std::vector<int32_t>> parents_of = effective_parents(a);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    TrieClassifier classifier(a, sorted);
    StackMachine sm(a);
    TokenWalker walker;
    std::vector<int32_t> start;
    for (size_t i = next++; i < scanning.size(); i = next++) {
      StateResult& r = results[i];
      classifier.run(scanning[i], r);
      const auto& parents = parents_of[static_cast<size_t>(a.states[static_cast<size_t>(scanning[i])].rule)];
      if (r.uncertain.empty() || parents.size() > kMaxRefinedParents) continue;
      for (int32_t t : parents) {
        Refined ref{t, {}, {}};
        sm.clear();
        start.clear();
        sm.start(scanning[i], sm.push_node(t, kEscapeParent), start);
        walker.begin(sm, start);
        for (int32_t id : r.uncertain) {
          if (walker.next(vocab.token_bytes(id)) != TokenOutcome::kAccepted) continue;
          (reach(sm, walker.last_set()) == Reach::kInside ? ref.accepted : ref.uncertain).push_back(id);
        }
        walker.end();
        std::sort(ref.accepted.begin(), ref.accepted.end());
        r.refined.push_back(std::move(ref));
      }
    }
  };
  const int32_t n_threads = std::max(1, std::min<int32_t>(threads, static_cast<int32_t>(scanning.size())));
  std::vector<std::thread> pool;
  for (int32_t t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  for (size_t i = 0; i < scanning.size(); ++i) {
    StateMask& m = cache.states[static_cast<size_t>(scanning[i])];
    StateResult& r = results[i];
    // A bitset once the id list would cost more to apply than OR-ing a quarter of the words.
    if (static_cast<int64_t>(r.accepted.size()) * 4 > cache.words) {
      // Dense: a bitset (the ids come in trie order; no need to sort them).
      m.bitset = static_cast<int32_t>(cache.bitsets.size() / static_cast<size_t>(cache.words));
      cache.bitsets.resize(cache.bitsets.size() + static_cast<size_t>(cache.words), 0u);
      uint32_t* bits = cache.bitsets.data() + static_cast<size_t>(m.bitset) * static_cast<size_t>(cache.words);
      for (int32_t id : r.accepted) bits[id >> 5] |= 1u << (id & 31);
    } else {
      std::sort(r.accepted.begin(), r.accepted.end());
      m.accepted_begin = static_cast<uint32_t>(cache.accepted_ids.size());
      cache.accepted_ids.insert(cache.accepted_ids.end(), r.accepted.begin(), r.accepted.end());
      m.accepted_end = static_cast<uint32_t>(cache.accepted_ids.size());
    }
    m.uncertain_begin = static_cast<uint32_t>(cache.uncertain_ids.size());
    cache.uncertain_ids.insert(cache.uncertain_ids.end(), r.uncertain.begin(), r.uncertain.end());
    m.uncertain_end = static_cast<uint32_t>(cache.uncertain_ids.size());
    m.refine_begin = static_cast<uint32_t>(cache.refinements.size());
    for (const Refined& ref : r.refined) {
      ParentRefinement p{ref.parent_state, 0, 0, 0, 0};
      p.accepted_begin = static_cast<uint32_t>(cache.accepted_ids.size());
      cache.accepted_ids.insert(cache.accepted_ids.end(), ref.accepted.begin(), ref.accepted.end());
      p.accepted_end = static_cast<uint32_t>(cache.accepted_ids.size());
      p.uncertain_begin = static_cast<uint32_t>(cache.uncertain_ids.size());
      cache.uncertain_ids.insert(cache.uncertain_ids.end(), ref.uncertain.begin(), ref.uncertain.end());
      p.uncertain_end = static_cast<uint32_t>(cache.uncertain_ids.size());
      cache.refinements.push_back(p);
    }
    m.refine_end = static_cast<uint32_t>(cache.refinements.size());
  }
  cache.cached_states = static_cast<int32_t>(scanning.size());
  return cache;
}

}  // namespace stencil::engine
