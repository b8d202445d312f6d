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

struct StateResult {
  std::vector<int32_t> accepted;   // token ids
  std::vector<int32_t> uncertain;  // token ids, trie order
  int32_t max_local_after = 0;     // see StateMask::max_local_after
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
      if (node.tokens_begin != node.tokens_end) {
        if (next.reach == Reach::kInside) {
          out.max_local_after = std::max(out.max_local_after, local_after(next, d));
          for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) out.accepted.push_back(sorted_.trie_tokens[t]);
        } else {
          for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) out.uncertain.push_back(sorted_.trie_tokens[t]);
        }
      }
      levels[d] = next;
      first_known_[d] = 0;
      ++k;
    }
  }

 private:
  int32_t materialise(int32_t state, int32_t parent) { return sm_.push_node(state, parent); }

  // Fewest bytes from a level's best non-escaped stack to the end of the bottom rule.
  int32_t chain_bytes(int32_t state, int32_t parent) const {
    int64_t total = a_.states[static_cast<size_t>(state)].min_bytes_to_end;
    while (parent >= 0) {
      const StackNode& n = sm_.node(parent);
      total += a_.states[static_cast<size_t>(n.state)].min_bytes_to_end;
      parent = n.parent;
    }
    return static_cast<int32_t>(std::min<int64_t>(total, kInfiniteBytes));
  }
  int32_t local_after(const Level& level, size_t d) const {
    if (level.state >= 0) return chain_bytes(level.state, level.parent);
    int32_t best = kInfiniteBytes;
    const uint32_t begin = d >= 1 ? levels_[d - 1].set_end : 0;
    for (uint32_t i = begin; i < level.set_end; ++i) {
      const int32_t id = buf_[i];
      if (id == kEscape) return 0;
      if (id >= 0 && !sm_.escaped(id)) best = std::min(best, chain_bytes(sm_.node(id).state, sm_.node(id).parent));
    }
    return best;
  }

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

int64_t StateMask::memory_bytes() const {
  int64_t n = static_cast<int64_t>(sizeof(StateMask) + bitset.size() * 4 + accepted.size() * 4 + uncertain.size() * 4);
  for (const ParentRefinement& r : refinements) {
    n += static_cast<int64_t>(sizeof(ParentRefinement) + r.accepted.size() * 4 + r.uncertain.size() * 4);
  }
  return n;
}

MaskCache::MaskCache(const Automaton& a, const SortedVocab& sorted, const Vocabulary& vocab)
    : a_(a), sorted_(sorted), vocab_(vocab), words_((vocab.size() + 31) / 32), parents_of_(effective_parents(a)),
      entries_(new std::atomic<const StateMask*>[a.states.size()]) {
  for (size_t s = 0; s < a.states.size(); ++s) {
    entries_[s].store(nullptr, std::memory_order_relaxed);
    if (a.has_bytes(static_cast<int32_t>(s))) scanning_.push_back(static_cast<int32_t>(s));
  }
}

MaskCache::~MaskCache() {
  for (size_t s = 0; s < a_.states.size(); ++s) delete entries_[s].load(std::memory_order_acquire);
}

void MaskCache::precompute_all(int32_t threads) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < scanning_.size(); i = next++) (void)entry(scanning_[i]);
  };
  const int32_t n_threads = std::max(1, std::min<int32_t>(threads, static_cast<int32_t>(scanning_.size())));
  std::vector<std::thread> pool;
  for (int32_t t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

const StateMask& MaskCache::compute(int32_t state) const {
  StateResult r;
  TrieClassifier classifier(a_, sorted_);
  classifier.run(state, r);
  auto entry = std::make_unique<StateMask>();
  // A bitset once the id list would cost more to apply than OR-ing a quarter of the words.
  if (static_cast<int64_t>(r.accepted.size()) * 4 > words_) {
    entry->bitset.assign(static_cast<size_t>(words_), 0u);
    for (int32_t id : r.accepted) entry->bitset[static_cast<size_t>(id >> 5)] |= 1u << (id & 31);
  } else {
    std::sort(r.accepted.begin(), r.accepted.end());
    entry->accepted = std::move(r.accepted);
  }
  const auto& parents = parents_of_[static_cast<size_t>(a_.states[static_cast<size_t>(state)].rule)];
  if (!r.uncertain.empty() && parents.size() <= kMaxRefinedParents) {
    StackMachine sm(a_);
    TokenWalker walker;
    std::vector<int32_t> start;
    for (int32_t t : parents) {
      ParentRefinement ref{t, {}, {}};
      sm.clear();
      start.clear();
      sm.start(state, sm.push_node(t, kEscapeParent), start);
      walker.begin(sm, start);
      for (int32_t id : r.uncertain) {
        if (walker.next(vocab_.token_bytes(id)) != TokenOutcome::kAccepted) continue;
        (reach(sm, walker.last_set()) == Reach::kInside ? ref.accepted : ref.uncertain).push_back(id);
      }
      walker.end();
      std::sort(ref.accepted.begin(), ref.accepted.end());
      entry->refinements.push_back(std::move(ref));
    }
  }
  entry->uncertain = std::move(r.uncertain);
  entry->max_local_after = r.max_local_after;
  const StateMask* expected = nullptr;
  if (entries_[static_cast<size_t>(state)].compare_exchange_strong(expected, entry.get(), std::memory_order_acq_rel)) {
    computed_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(entry->memory_bytes(), std::memory_order_relaxed);
    return *entry.release();
  }
  return *expected;  // another thread published it first
}

}  // namespace stencil::engine
