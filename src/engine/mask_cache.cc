// Building the per-state token mask cache (see mask_cache.h): per scanning state,
// a shared or derived entry when an alike state is already computed, else one
// trie-order walk of the vocabulary (text tokens of text runs classified by
// count, see text_runs.h; subtrees inside a class run taken whole, see
// class_runs.h); eager states spread over threads.
#include "engine/mask_cache.h"

#include <algorithm>
#include <array>
#include <bit>
#include <atomic>
#include <thread>
#include <unordered_map>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine/class_runs.h"
#include "engine/stack_machine.h"
#include "engine/state_equivalence.h"
#include "engine/text_runs.h"
#include "engine/token_walk.h"

namespace stencil::engine {

struct StateResult {
  std::vector<int32_t> accepted;   // token ids
  std::vector<int32_t> uncertain;  // token ids, trie order
  int32_t max_local_after = 0;     // see StateMask::max_local_after
  bool dropped_uncertain = false;  // some uncertain token was not kept (TrieClassifier::run)

  // Empty again, keeping the lists' capacity (results are thread-local scratch).
  void clear() {
    accepted.clear();
    uncertain.clear();
    max_local_after = 0;
    dropped_uncertain = false;
  }
};

namespace {

// Rules with more parent states than this (or more return points than
// kMaxEscapeReturns) are refined lazily, one parent at a time (see mask_cache.h):
// refining every parent up front costs states x parents walks.
constexpr size_t kMaxRefinedParents = 64;
// A state is refined lazily too when refining it up front would walk more tokens than
// this (uncertain tokens x parents, ~50 ns each).
constexpr int64_t kMaxEagerRefinementWalks = 16384;
// How many entries a first visit computes from references of references (first_byte_reference).
constexpr int32_t kMaxReferenceDepth = 3;
// A reference is used when the tokens it classifies are at least this many times those left to walk.
constexpr int32_t kMinReferenceShare = 4;

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
    while (!stack.empty()) {
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

// Fewest bytes from the stack (state, parent) to the end of the bottom rule.
int32_t chain_bytes(const Automaton& a, const StackMachine& sm, int32_t state, int32_t parent) {
  int64_t total = a.states[static_cast<size_t>(state)].min_bytes_to_end;
  while (parent >= 0) {
    const StackNode& n = sm.node(parent);
    total += a.states[static_cast<size_t>(n.state)].min_bytes_to_end;
    parent = n.parent;
  }
  return static_cast<int32_t>(std::min<int64_t>(total, kInfiniteBytes));
}

// Fewest bytes from a set's best non-escaped stack to the end of the bottom rule.
int32_t bytes_to_rule_end(const Automaton& a, const StackMachine& sm, std::span<const int32_t> set) {
  int32_t best = kInfiniteBytes;
  for (int32_t id : set) {
    if (id == kEscape) return 0;
    if (id >= 0 && !sm.escaped(id)) best = std::min(best, chain_bytes(a, sm, sm.node(id).state, sm.node(id).parent));
  }
  return best;
}

// One depth-first walk of the vocabulary trie from the stack (state, <bottom>).
//
// Level d holds the set reached after a d-byte prefix. Most of a walk runs
// inside one rule with a single stack (string bodies, numbers, literals), so a
// level is kept in "single" form when it can: one (state, parent) pair that is
// not materialised in the arena, advanced by a bare DFA step. Anything else
// (calls, rule ends, several stacks) goes through the StackMachine.
//
// The single-form step is the hot loop (every trie node of a string body):
// it touches a 16-byte level and the byte edges, nothing else. A run of
// single-form levels shares one LevelBase (the general part under it), and
// the children of a node come in byte order, so each level keeps a cursor into
// its state's sorted byte edges and a child's search resumes where its
// previous sibling's ended.
struct LevelBase {
  uint32_t set_end;      // end of the general set in buf_
  int32_t arena_size;    // arena size when the base was made
  int32_t parent;        // single form: the parent node of the one stack
  int32_t parent_bytes;  // single form: fewest bytes the parent chain needs to end
  Reach reach;
  bool wild_only = false;  // the set is just kWild: every token below is uncertain
};

struct Level {
  static constexpr uint32_t kUnresolved = 0xffffffffu;
  int32_t state;      // single form: the state; -1: general form
  int32_t base;       // the depth whose LevelBase this level uses
  uint32_t edge;      // single form: byte edge the next child's search starts at (kUnresolved: not looked up yet)
  uint32_t edge_end;
  // Single form at a final state (its rule may end here) or one that calls: index into
  // TrieClassifier::beside_, the bytes the rest of the state's closure could read (what follows the
  // rule's end, what the called rules start with); -1 at a plain state.
  int32_t beside = -1;
};

class TrieClassifier {
 public:
  // One per thread, bound to a cache's automaton and a trie for each walk: its buffers keep their
  // capacity from walk to walk (a fresh classifier per walk paid ~50k instructions of malloc).
  void bind(const Automaton& a, const SortedVocab& sorted, const std::vector<uint8_t>& plain, const TextRuns& runs,
            const ClassRuns& class_runs) {
    a_ = &a;
    sorted_ = &sorted;
    plain_ = &plain;
    text_runs_ = &runs;
    class_runs_ = &class_runs;
    sm_.rebind(a);
  }

  // With text_by_count, tokens that are whole text (SortedVocab::token_text_chars)
  // are left out: the caller classifies them by their character count.
  // With parent_state >= 0 the walk starts from the stack (state, (parent_state, <bottom>)):
  // a refinement (see MaskCache::refinement).
  // With keep_uncertain false, uncertain tokens are dropped (a lazily refined state keeps none).
  // With min_bytes > 0, only subtrees that hold a token of at least that many bytes are walked and
  // only such tokens are classified one by one (subtrees taken whole may add shorter ones).
  void run(int32_t state, StateResult& out, const WalkOptions& options) {
    const bool text_by_count = options.by_count, keep_uncertain = options.keep_uncertain;
    const int32_t parent_state = options.parent_state;
    const uint32_t min_bytes = static_cast<uint32_t>(options.min_bytes);
    sm_.clear();
    buf_.clear();
    // Each token is classified at most once per walk: the trie's token count bounds what is accepted.
    if (accepted_capacity_ < sorted_->trie_tokens.size()) {
      accepted_capacity_ = sorted_->trie_tokens.size();
      accepted_.reset(new int32_t[accepted_capacity_]);
    }
    accepted_size_ = 0;
    const size_t max_depth = static_cast<size_t>(sorted_->max_token_bytes) + 1;
    levels_.resize(max_depth);
    bases_.resize(max_depth);
    first_known_.assign(max_depth, 0);
    first_.resize(max_depth);
    class_first_.resize(max_depth);
    Level* const levels = levels_.data();
    LevelBase* const bases = bases_.data();
    root_parent_ = parent_state >= 0 ? sm_.push_node(parent_state, kEscapeParent) : kEscapeParent;
    beside_.clear();
    last_beside_state_ = -1;
    // Level 0 is the state's own stack, not its closure: the rest of the closure (what its calls
    // start with, what follows its rule's end) are tops of every real set this state is a top of,
    // and the Matcher unions the tops' entries. A token whose first byte only they read is theirs.
    bases[0] = LevelBase{0, sm_.nodes_size(), root_parent_, parent_chain_bytes(root_parent_), Reach::kInside};
    levels[0] = Level{state, 0, Level::kUnresolved, 0};
    const TrieNode* const nodes = sorted_->nodes.data();
    const ByteEdge* const edges = a_->byte_edges.data();
    const uint8_t* const plain = plain_->data();
    const uint8_t* const text_height = sorted_->text_height.data();
    const uint8_t* const text_chars = sorted_->text_chars.data();
    const int32_t* const ascii_run = text_runs_->ascii_steps.data();
    const int32_t* const utf8_run = text_runs_->utf8_steps.data();
    const int32_t* const run_bytes_to_end = text_runs_->bytes_to_end.data();
    const uint32_t n_nodes = static_cast<uint32_t>(sorted_->nodes.size());
    uint32_t k = 1;
    const uint8_t* const nontext_below = sorted_->nontext_below.data();
    const uint32_t* const next_nontext = sorted_->next_nontext.data();
    const uint8_t* const token_text_chars = sorted_->token_text_chars.data();
    const uint8_t* const sub_height = sorted_->height.data();
    const bool classes_apply = !text_by_count && class_runs_->any();
    // The root's children are visited only for the first bytes level 0 can read (root_child).
    ByteSet first0 = edge_bytes(state);
    if (options.first_bytes != nullptr) {
      for (size_t w = 0; w < first0.size(); ++w) first0[w] &= (*options.first_bytes)[w];
    }
    int root_byte = -1;
    uint32_t root_end = 1;
    while (k < n_nodes) {
      if (k >= root_end) {  // left a root child's subtree (every such exit lands on a root child)
        int b = root_byte + 1;
        while (b < 256 && (sorted_->root_child[b] < k || !has_byte(first0, static_cast<uint8_t>(b)))) ++b;
        if (b == 256) break;
        k = sorted_->root_child[b];
        root_byte = b;
        root_end = nodes[k].end;
      }
      const TrieNode& node = nodes[k];
      if (text_by_count && !nontext_below[k]) {
        k = next_nontext[k];  // past this subtree and the all-text ones after it, in one step
        continue;
      }
      const size_t d = node.depth;
      if (min_bytes > 0 && d + sub_height[k] < min_bytes && sub_height[k] < 255) {
        k = node.end;  // every token below is short (a derived entry has them from its base)
        continue;
      }
      Level& up = levels[d - 1];
      const uint8_t c = node.byte;
      Level next;
      if (up.state >= 0 && up.beside >= 0 && has_byte(beside_[static_cast<size_t>(up.beside)].bytes, c)) {
        // Single form at a final or calling state, on a byte that the rest of its closure reads
        // too: simulate the whole set (the state's closure).
        const LevelBase& base = bases[up.base];
        sm_.truncate(base.arena_size);
        buf_.resize(base.set_end);
        closure_.clear();
        sm_.start(up.state, base.parent, closure_);
        scratch_.clear();
        sm_.advance(closure_, c, scratch_);
        next = general(scratch_, d);
      } else if (up.state >= 0) {
        // Single form: a bare DFA step when it stays inside the rule.
        if (up.edge == Level::kUnresolved) {
          const AutomatonState& st = a_->states[static_cast<size_t>(up.state)];
          up.edge = st.byte_begin;
          up.edge_end = st.byte_end;
        }
        uint32_t e = up.edge;
        while (e < up.edge_end && c > edges[e].hi) ++e;
        up.edge = e;
        if (e == up.edge_end || c < edges[e].lo) {
          k = node.end;
          continue;
        }
        const int32_t target = edges[e].target;
        int32_t whole_after = -1;  // >= 0: the subtree is taken whole, leaving at most this many bytes to the rule's end
        if (plain[target]) {
          const uint8_t height = text_height[k], chars = text_chars[k];
          if ((height != kNotText && height > 0 && height <= ascii_run[target]) ||
              (chars != kNotText && chars > 0 && chars <= utf8_run[target])) {
            // Every token below reads only text bytes, which the state takes for at least that many
            // steps without leaving the single stack.
            whole_after = std::max(a_->states[static_cast<size_t>(target)].min_bytes_to_end, run_bytes_to_end[target]);
          }
        }
        // Or only bytes of a class the target surely reads that many times (class_runs.h). Not with
        // text_by_count: the subtree may hold whole-text tokens, which the caller counts.
        if (whole_after < 0 && classes_apply) whole_after = class_run_after(k, target);
        if (whole_after >= 0) {
          // Classify the whole subtree at once.
          const LevelBase& base = bases[up.base];
          if (keep_uncertain || base.reach == Reach::kInside) {
            take_whole(out, k, base.reach == Reach::kInside, int64_t{whole_after} + base.parent_bytes);
          } else {
            out.dropped_uncertain = true;
          }
          k = node.end;
          continue;
        }
        const LevelBase& up_base = bases[up.base];
        int32_t beside = -1;
        if (plain[target]) {
          next = Level{target, up.base, Level::kUnresolved, 0};
        } else if (up_base.parent == root_parent_ && (beside = beside_of(target)) >= 0) {
          // A final state of the rule, or one that calls (the digits of a number before a called
          // whitespace rule): stays one stack until a byte that the rest of its closure reads (above).
          next = Level{target, up.base, Level::kUnresolved, 0, beside};
        } else {
          const LevelBase& base = bases[up.base];
          sm_.truncate(base.arena_size);
          buf_.resize(base.set_end);
          scratch_.clear();
          const int32_t one[1] = {sm_.push_node(up.state, base.parent)};
          sm_.advance(one, c, scratch_);
          next = general(scratch_, d);
        }
      } else {
        // Most children of a general level die on their byte: check the level's first bytes before simulating.
        const uint32_t begin = d >= 2 ? bases[levels[d - 2].base].set_end : 0;
        const LevelBase& base = bases[up.base];
        std::array<uint64_t, 4>& first = first_[d - 1];
        ByteSet& class_first = class_first_[d - 1];
        if (!first_known_[d - 1]) {
          first = {0, 0, 0, 0};
          class_first = {0, 0, 0, 0};
          for (uint32_t i = begin; i < base.set_end; ++i) {
            if (buf_[i] == kWild) first = {~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}};
            if (buf_[i] < 0) continue;
            const AutomatonState& st = a_->states[static_cast<size_t>(sm_.node(buf_[i]).state)];
            const bool inside = classes_apply && !sm_.escaped(buf_[i]);
            for (uint32_t x = st.byte_begin; x < st.byte_end; ++x) {
              add_range(first, edges[x].lo, edges[x].hi);
              if (inside && class_runs_->classes_of(edges[x].target)[0] >= 0) add_range(class_first, edges[x].lo, edges[x].hi);
            }
          }
          first_known_[d - 1] = 1;
        }
        if (!((first[c >> 6] >> (c & 63)) & 1u)) {
          k = node.end;
          continue;
        }
        if (has_byte(class_first, c) && sub_height[k] > 0) {
          // The class-run shortcut from any stack still inside the start state's rule: the path
          // that stays in its own rule keeps every token below alive there (class_runs.h).
          int64_t after = -1;
          for (uint32_t i = begin; i < base.set_end && after < 0; ++i) {
            if (buf_[i] < 0 || sm_.escaped(buf_[i])) continue;
            const StackNode& top = sm_.node(buf_[i]);
            const int32_t target = a_->step(top.state, c);
            if (target < 0) continue;
            const int32_t whole = class_run_after(k, target);
            if (whole < 0) continue;
            after = int64_t{whole} + parent_chain_bytes(top.parent);
          }
          if (after >= 0) {
            take_whole(out, k, true, after);
            k = node.end;
            continue;
          }
        }
        sm_.truncate(base.arena_size);
        buf_.resize(base.set_end);
        scratch_.clear();
        sm_.advance(std::span<const int32_t>(buf_.data() + begin, base.set_end - begin), c, scratch_);
        next = general(scratch_, d);
      }
      const LevelBase& nb = bases[next.base];
      if (nb.reach == Reach::kDead) {
        k = node.end;  // nothing below survives either
        continue;
      }
      if (nb.wild_only && !text_by_count) {
        if (keep_uncertain) {
          out.uncertain.insert(out.uncertain.end(), sorted_->trie_tokens.begin() + sorted_->first_token[k],
                               sorted_->trie_tokens.begin() + sorted_->first_token[node.end]);
        } else {
          out.dropped_uncertain = true;
        }
        k = node.end;
        continue;
      }
      if (node.tokens_begin != node.tokens_end && d >= min_bytes &&
          !(text_by_count && token_text_chars[sorted_->trie_tokens[node.tokens_begin]] != 0)) {
        if (nb.reach == Reach::kInside) {
          out.max_local_after = std::max(out.max_local_after, local_after(next, d));
          for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) accepted_[accepted_size_++] = sorted_->trie_tokens[t];
        } else if (keep_uncertain) {
          for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) out.uncertain.push_back(sorted_->trie_tokens[t]);
        } else {
          out.dropped_uncertain = true;
        }
      }
      levels[d] = next;
      first_known_[d] = 0;
      ++k;
    }
    out.accepted.insert(out.accepted.end(), accepted_.get(), accepted_.get() + accepted_size_);
  }

 private:
  // The class-run shortcut (class_runs.h): when every byte below trie node k is in a class that
  // `target` (the state node k's byte leads to) surely reads at least that deep inside its rule,
  // the most bytes to the rule's end a token below can leave; else -1.
  int32_t class_run_after(uint32_t k, int32_t target) const {
    const uint8_t height = sorted_->height[k];
    if (height == 0) return -1;
    const int16_t* cls = class_runs_->classes_of(target);
    const ByteSet& below = sorted_->byte_sets[sorted_->below_set[k]];
    for (int j = 0; j < ClassRuns::kClassesPerState && cls[j] >= 0; ++j) {
      const ByteSet& c = class_runs_->bytes(cls[j]);
      int32_t need = height;  // characters of the class the deepest token below reads
      if (!has_utf8(c)) {
        if (!is_subset(below, c)) continue;
      } else {
        // ASCII bytes of the class, and whole characters of its lead bytes (continuation bytes
        // 0x80-0xbf are free; whole characters are checked with text_chars), one each.
        if (((below[0] & ~c[0]) | (below[1] & ~c[1]) | (below[3] & ~c[3])) != 0) continue;
        if ((below[2] | below[3]) != 0) {
          const uint8_t chars = sorted_->text_chars[k];
          if (chars == kNotText || chars == 0) continue;
          need = chars;
        }
      }
      const ClassRuns::Run run = class_runs_->run(cls[j], target);
      if (need <= run.safe) return run.reach_bytes;
    }
    return -1;
  }

  // The bytes the state has edges on: all a walk from its own stack can read first.
  ByteSet edge_bytes(int32_t state) const {
    ByteSet out{};
    const AutomatonState& st = a_->states[static_cast<size_t>(state)];
    for (uint32_t x = st.byte_begin; x < st.byte_end; ++x) add_range(out, a_->byte_edges[x].lo, a_->byte_edges[x].hi);
    return out;
  }

  // Every token of node k's subtree, as accepted (inside: leaving at most `after` bytes to the
  // bottom rule's end) or as uncertain.
  void take_whole(StateResult& out, uint32_t k, bool inside, int64_t after) {
    const int32_t* const first = sorted_->trie_tokens.data() + sorted_->first_token[k];
    const int32_t* const last = sorted_->trie_tokens.data() + sorted_->first_token[sorted_->nodes[k].end];
    if (!inside) {
      out.uncertain.insert(out.uncertain.end(), first, last);
      return;
    }
    std::copy(first, last, accepted_.get() + accepted_size_);
    accepted_size_ += static_cast<size_t>(last - first);
    out.max_local_after = std::max<int32_t>(out.max_local_after, static_cast<int32_t>(std::min<int64_t>(after, kInfiniteBytes)));
  }

  int32_t local_after(const Level& level, size_t d) const {
    const LevelBase& base = bases_[static_cast<size_t>(level.base)];
    if (level.state >= 0) {
      const int64_t total = int64_t{a_->states[static_cast<size_t>(level.state)].min_bytes_to_end} + base.parent_bytes;
      return static_cast<int32_t>(std::min<int64_t>(total, kInfiniteBytes));
    }
    const uint32_t begin = d >= 1 ? bases_[static_cast<size_t>(levels_[d - 1].base)].set_end : 0;
    return bytes_to_rule_end(*a_, sm_, std::span<const int32_t>(buf_.data() + begin, base.set_end - begin));
  }

  // Level d from a general set just computed into scratch_ (appended to buf_ unless it is one stack).
  Level general(const std::vector<int32_t>& set, size_t d) {
    const Reach r = reach(sm_, set);
    if (set.size() == 1 && set[0] >= 0) {
      const StackNode n = sm_.node(set[0]);
      bases_[d] = LevelBase{static_cast<uint32_t>(buf_.size()), sm_.nodes_size(), n.parent, parent_chain_bytes(n.parent), r};
      return Level{n.state, static_cast<int32_t>(d), Level::kUnresolved, 0};
    }
    if (const int32_t x = closure_alone(set); x >= 0) {
      // One stack at a final or calling state plus exactly the rest of its closure: the single
      // form at such a state, which re-creates the rest when a byte needs it.
      const StackNode n = sm_.node(x);
      bases_[d] = LevelBase{static_cast<uint32_t>(buf_.size()), sm_.nodes_size(), n.parent, parent_chain_bytes(n.parent), r};
      return Level{n.state, static_cast<int32_t>(d), Level::kUnresolved, 0, beside_of(n.state)};
    }
    buf_.insert(buf_.end(), set.begin(), set.end());
    bases_[d] = LevelBase{static_cast<uint32_t>(buf_.size()), sm_.nodes_size(), 0, 0, r, set.size() == 1 && set[0] == kWild};
    return Level{-1, static_cast<int32_t>(d), Level::kUnresolved, 0};
  }

  // Fewest bytes the stack below a node (its parent chain) needs to end; 0 at the bottom.
  int32_t parent_chain_bytes(int32_t parent) const {
    return parent >= 0 ? chain_bytes(*a_, sm_, sm_.node(parent).state, sm_.node(parent).parent) : 0;
  }

  // A final or calling state whose closure from the run's bottom, beside the state's own stack,
  // reads only some bytes: the index of those bytes in beside_, else -1. Computed once per run for
  // each calling state, and for each rule's final states without calls (what follows a rule's end
  // is the same for all of them).
  int32_t beside_of(int32_t state) {
    if (state == last_beside_state_) return last_beside_;  // a loop (digits) asks for one state again and again
    last_beside_state_ = state;
    return last_beside_ = find_beside(state);
  }

  int32_t find_beside(int32_t state) {
    const AutomatonState& st = a_->states[static_cast<size_t>(state)];
    const bool calls = st.call_begin != st.call_end;
    if (!st.is_final && !calls) return -1;
    const int32_t key = calls ? state : -1 - st.rule;
    for (size_t i = 0; i < beside_.size(); ++i) {
      if (beside_[i].key == key) return beside_[i].some ? static_cast<int32_t>(i) : -1;
    }
    const int32_t mark = sm_.nodes_size();
    closure_.clear();
    sm_.start(state, root_parent_, closure_);
    ByteSet bytes{};
    bool some = true;  // false: anything may follow (kWild), the single form would not pay
    for (int32_t id : closure_) {
      if (id == kWild) some = false;
      if (id < 0) continue;
      const StackNode& n = sm_.node(id);
      if (n.state == state && n.parent == root_parent_) continue;  // the stack inside the rule
      const AutomatonState& o = a_->states[static_cast<size_t>(n.state)];
      for (uint32_t k = o.byte_begin; k < o.byte_end; ++k) add_range(bytes, a_->byte_edges[k].lo, a_->byte_edges[k].hi);
    }
    sm_.truncate(mark);
    beside_.push_back({key, bytes, some});
    return some ? static_cast<int32_t>(beside_.size() - 1) : -1;
  }

  // The id of a stack of `set` at a final or calling state right above the run's bottom whose
  // closure is exactly the set (compared by content: the closure's nodes are new ones), else -1.
  int32_t closure_alone(const std::vector<int32_t>& set) {
    int tries = 0;
    for (int32_t x : set) {
      if (x < 0 || sm_.escaped(x)) continue;
      const StackNode n = sm_.node(x);  // a copy: the closure below grows the arena
      if (n.parent != root_parent_ || beside_of(n.state) < 0) continue;
      if (++tries > 2) return -1;  // a set of many stacks rarely is one closure: do not pay for each
      const int32_t mark = sm_.nodes_size();
      closure_.clear();
      sm_.start(n.state, n.parent, closure_);
      const bool same = same_stacks(set, closure_, x);
      sm_.truncate(mark);
      if (same) return x;
    }
    return -1;
  }

  // Whether `a` and `b` hold the same stacks, by content, leaving out the stack `x` of `a` and its
  // copy in `b`. Ties of the chain hashes may order equal sets differently: then it says no, which
  // only costs the single form.
  bool same_stacks(const std::vector<int32_t>& a, const std::vector<int32_t>& b, int32_t x) {
    const StackNode& top = sm_.node(x);
    auto keyed = [&](const std::vector<int32_t>& ids, std::vector<std::array<int32_t, 3>>& out) {
      out.clear();
      for (int32_t id : ids) {
        if (id >= 0 && sm_.node(id).state == top.state && sm_.node(id).parent == top.parent) continue;
        out.push_back({chain_hash(id), id, 0});
      }
      std::sort(out.begin(), out.end());
    };
    keyed(a, have_);
    keyed(b, want_);
    if (have_.size() != want_.size()) return false;
    for (size_t i = 0; i < have_.size(); ++i) {
      if (!same_chain(have_[i][1], want_[i][1])) return false;
    }
    return true;
  }

  int32_t chain_hash(int32_t id) const {
    uint32_t h = 0x9e3779b9u;
    for (; id >= 0; id = sm_.node(id).parent) {
      const StackNode& n = sm_.node(id);
      h = (h ^ static_cast<uint32_t>(n.state)) * 0x85ebca6bu;
      h = (h ^ static_cast<uint32_t>(n.count)) * 0xc2b2ae35u;
    }
    return static_cast<int32_t>((h ^ static_cast<uint32_t>(id)) * 0x27d4eb2fu);
  }

  bool same_chain(int32_t x, int32_t y) const {
    while (x >= 0 && y >= 0 && x != y) {
      const StackNode &m = sm_.node(x), &n = sm_.node(y);
      if (m.state != n.state || m.count != n.count) return false;
      x = m.parent;
      y = n.parent;
    }
    return x == y;
  }

  const Automaton* a_ = nullptr;
  const SortedVocab* sorted_ = nullptr;
  const std::vector<uint8_t>* plain_ = nullptr;  // (states,) not final and no calls: a byte step stays a single stack
  const TextRuns* text_runs_ = nullptr;
  const ClassRuns* class_runs_ = nullptr;
  StackMachine sm_;
  std::vector<int32_t> buf_, scratch_;
  // The tokens accepted so far in this walk, appended to the result at its end: a plain store per
  // token (push_back per token was a tenth of a walk's instructions). Not a vector: growing one to
  // the trie's size would zero it.
  std::unique_ptr<int32_t[]> accepted_;
  size_t accepted_capacity_ = 0, accepted_size_ = 0;
  std::vector<Level> levels_;                   // (max token bytes + 1,) by depth
  std::vector<LevelBase> bases_;                // (max token bytes + 1,) by the depth that made them
  std::vector<uint8_t> first_known_;            // (max token bytes + 1,) first_[d] is up to date
  std::vector<std::array<uint64_t, 4>> first_;  // general levels: the bytes some stack can read next
  std::vector<ByteSet> class_first_;            // general levels: the bytes that lead a stack inside the rule to a state with classes
  int32_t root_parent_ = kEscapeParent;         // the parent of the run's bottom stack (kEscapeParent, or the refined parent's node)
  struct Beside {
    int32_t key;    // a calling state, or -1 - rule for the final states of a rule
    ByteSet bytes;  // what the rest of the state's closure can read
    bool some;      // some bytes only (false: kWild, anything may follow)
  };
  std::vector<Beside> beside_;                  // per calling state or rule met in this run
  int32_t last_beside_state_ = -1, last_beside_ = -1;  // beside_of's last answer
  std::vector<int32_t> closure_;
  std::vector<std::array<int32_t, 3>> have_, want_;
};

}  // namespace

int64_t refinement_bytes(const ParentRefinement& r) {
  return static_cast<int64_t>(sizeof(ParentRefinement) + r.accepted.size() * 4 + r.uncertain.size() * 4);
}

int64_t StateMask::memory_bytes() const {
  int64_t n = static_cast<int64_t>(sizeof(StateMask) + bitset.size() * 4 + accepted.size() * 4 + uncertain.size() * 4);
  for (const ParentRefinement& r : refinements) n += refinement_bytes(r);
  if (lazy_parents != nullptr) n += static_cast<int64_t>(lazy_parents->size() * sizeof(void*));
  return n;
}

StateMask::~StateMask() {
  if (lazy_parents == nullptr) return;
  for (size_t i = 0; i < lazy_parents->size(); ++i) delete lazy[i].load(std::memory_order_acquire);
}

MaskCache::MaskCache(const Automaton& a, const SortedVocab& sorted, const Vocabulary& vocab)
    : a_(a), sorted_(sorted), vocab_(vocab), words_((vocab.size() + 31) / 32), parents_of_(effective_parents(a)),
      plain_(a.states.size(), 0), shape_of_(a.states.size(), -1), entries_(new std::atomic<const StateMask*>[a.states.size()]) {
  std::unordered_map<uint64_t, int32_t> shapes;
  for (size_t s = 0; s < a.states.size(); ++s) {
    entries_[s].store(nullptr, std::memory_order_relaxed);
    plain_[s] = !a.states[s].is_final && !a.has_calls(static_cast<int32_t>(s));
    if (!a.has_bytes(static_cast<int32_t>(s))) continue;
    scanning_.push_back(static_cast<int32_t>(s));
    const auto [it, fresh] = shapes.try_emplace(local_signature(a, static_cast<int32_t>(s)), static_cast<int32_t>(shapes.size()));
    shape_of_[s] = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    const uint32_t k = sorted.root_child[static_cast<size_t>(b)];
    const int32_t n = k == 0 ? 0 : static_cast<int32_t>(sorted.first_token[sorted.nodes[k].end] - sorted.first_token[k]);
    tokens_before_byte_[static_cast<size_t>(b) + 1] = tokens_before_byte_[static_cast<size_t>(b)] + n;
  }
  text_runs_ = TextRuns::build(a, plain_);
  class_runs_ = std::make_unique<ClassRuns>(a, sorted, text_runs_);
  last_of_shape_ = std::make_unique<std::atomic<int32_t>[]>(shapes.size());
  for (size_t k = 0; k < shapes.size(); ++k) last_of_shape_[k].store(-1, std::memory_order_relaxed);
}

MaskCache::~MaskCache() {
  // Shared entries are owned by the state that computed them: find every owner before deleting
  // any (a state sharing an entry reads its owner field).
  std::vector<const StateMask*> owned;
  for (size_t s = 0; s < a_.states.size(); ++s) {
    const StateMask* e = entries_[s].load(std::memory_order_acquire);
    if (e != nullptr && e->owner == static_cast<int32_t>(s)) owned.push_back(e);
  }
  for (const StateMask* e : owned) delete e;
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

namespace {

// Sets bit i of `bits` for every i with 1 <= counts[i] <= most (most <= 255).
void set_counts_up_to(const std::vector<uint8_t>& counts, int32_t most, uint32_t* bits) {
  const size_t n = counts.size();
  const uint8_t* c = counts.data();
  const uint8_t limit = static_cast<uint8_t>(most - 1);  // counts[i] - 1 <= most - 1, with 0 wrapping to 255
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i one = _mm_set1_epi8(1), lim = _mm_set1_epi8(static_cast<char>(limit));
  for (; i + 32 <= n; i += 32) {
    uint32_t word = 0;
    for (size_t half = 0; half < 2; ++half) {
      const __m128i v = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i + 16 * half)), one);
      const __m128i ok = _mm_cmpeq_epi8(_mm_min_epu8(v, lim), v);  // unsigned v <= limit
      word |= static_cast<uint32_t>(_mm_movemask_epi8(ok)) << (16 * half);
    }
    bits[i / 32] = word;
  }
#endif
  for (; i < n; ++i) {
    if (static_cast<uint8_t>(c[i] - 1) <= limit) bits[i / 32] |= 1u << (i % 32);
  }
}

// Stores an accepted set in the entry: a bitset once the id list would cost
// more to apply than OR-ing a quarter of the words.
void store_accepted(StateMask& entry, const std::vector<int32_t>& ids, int32_t words) {
  if (static_cast<int64_t>(ids.size()) * 4 > words) {
    entry.bitset.assign(static_cast<size_t>(words), 0u);
    uint32_t* const bits = entry.bitset.data();
    for (int32_t id : ids) bits[id >> 5] |= 1u << (id & 31);
  } else if (ids.size() < 256) {
    entry.accepted = ids;
    std::sort(entry.accepted.begin(), entry.accepted.end());
  } else {
    // Sorted through a bitset: a few thousand words scanned cost less than sorting ~1k ids.
    thread_local std::vector<uint64_t> bits;
    bits.assign(static_cast<size_t>(words + 1) / 2, 0);
    for (int32_t id : ids) bits[static_cast<size_t>(id >> 6)] |= uint64_t{1} << (id & 63);
    entry.accepted.clear();
    entry.accepted.reserve(ids.size());
    for (size_t w = 0; w < bits.size(); ++w) {
      for (uint64_t x = bits[w]; x != 0; x &= x - 1) entry.accepted.push_back(static_cast<int32_t>(w * 64 + std::countr_zero(x)));
    }
  }
}

// Makes `entry` lazily refined (mask_cache.h): one empty slot per parent state of its rule, and no
// uncertain list of its own.
void make_lazy(StateMask& entry, const std::vector<int32_t>& parents) {
  entry.lazy_parents = &parents;
  entry.lazy = std::make_unique<std::atomic<const ParentRefinement*>[]>(parents.size());
  for (size_t i = 0; i < parents.size(); ++i) entry.lazy[i].store(nullptr, std::memory_order_relaxed);
  entry.uncertain.clear();
}

}  // namespace

void MaskCache::refine(int32_t state, std::span<const int32_t> tokens, std::vector<ParentRefinement>& out) const {
  const auto& parents = parents_of_[static_cast<size_t>(a_.states[static_cast<size_t>(state)].rule)];
  StackMachine sm(a_);
  TokenWalker walker;
  std::vector<int32_t> start;
  for (int32_t t : parents) {
    ParentRefinement ref{t, {}, {}};
    sm.clear();
    start.clear();
    sm.start(state, sm.push_node(t, kEscapeParent), start);
    walker.begin(sm, start);
    for (int32_t id : tokens) {
      if (walker.next(vocab_.token_bytes(id)) != TokenOutcome::kAccepted) continue;
      (reach(sm, walker.last_set()) == Reach::kInside ? ref.accepted : ref.uncertain).push_back(id);
    }
    walker.end();
    std::sort(ref.accepted.begin(), ref.accepted.end());
    out.push_back(std::move(ref));
  }
}

void MaskCache::refine_from(int32_t state, const std::vector<ParentRefinement>& old, support::FunctionRef<bool(int32_t)> kept,
                            std::span<const int32_t> walked, std::vector<ParentRefinement>& out) const {
  auto by_rank = [&](int32_t x, int32_t y) { return sorted_.rank[static_cast<size_t>(x)] < sorted_.rank[static_cast<size_t>(y)]; };
  std::vector<ParentRefinement> fresh;
  refine(state, walked, fresh);  // same rule, so the same parents in the same order as `old`
  for (size_t k = 0; k < old.size(); ++k) {
    ParentRefinement ref{old[k].parent_state, {}, {}};
    for (int32_t id : old[k].accepted) {
      if (kept(id)) ref.accepted.push_back(id);
    }
    ref.accepted.insert(ref.accepted.end(), fresh[k].accepted.begin(), fresh[k].accepted.end());
    std::sort(ref.accepted.begin(), ref.accepted.end());
    for (int32_t id : old[k].uncertain) {
      if (kept(id)) ref.uncertain.push_back(id);
    }
    const auto middle = static_cast<std::ptrdiff_t>(ref.uncertain.size());
    ref.uncertain.insert(ref.uncertain.end(), fresh[k].uncertain.begin(), fresh[k].uncertain.end());
    std::inplace_merge(ref.uncertain.begin(), ref.uncertain.begin() + middle, ref.uncertain.end(), by_rank);
    out.push_back(std::move(ref));
  }
}

bool MaskCache::text_by_count(int32_t state) const {
  const size_t s = static_cast<size_t>(state);
  return plain_[s] && text_runs_.utf8_steps[s] > 0 && text_runs_.utf8_closed[s];
}

bool MaskCache::reads_text_in_place(int32_t state) const {
  return text_by_count(state) && text_runs_.utf8_next[static_cast<size_t>(state)] == state;
}

void MaskCache::walk(int32_t state, StateResult& out, const WalkOptions& options) const {
  thread_local TrieClassifier classifier;
  const bool in_place = options.by_count && reads_text_in_place(state);
  // (Suffix depths are not token lengths: a walk pruned by length takes the vocabulary trie.
  // Derived entries, the only pruned walks, are never made for in-place states.)
  if (!options.by_count || (!in_place && options.min_bytes > 0)) {
    classifier.bind(a_, sorted_, plain_, text_runs_, *class_runs_);
    classifier.run(state, out, options);
    return;
  }
  // Suffix tries hold no whole-text token, so nothing is left out of them by count.
  WalkOptions suffixes = options;
  suffixes.by_count = false;
  suffixes.min_bytes = 0;
  if (in_place) {
    // A token's whole-text prefix leads back to the state (and stack) it started from: walk the
    // trie of what follows those prefixes (SortedVocab::text_suffixes).
    classifier.bind(a_, *sorted_.text_suffixes, plain_, text_runs_, *class_runs_);
    classifier.run(state, out, suffixes);
  } else {
    // A run of plain states: a prefix of c characters leads to the run's c-th state with the stack
    // otherwise unchanged, and past the run's end to a state that reads no text (the run is
    // closed), where the token dies. Walk each prefix length's suffixes from its state.
    const int32_t run = text_runs_.utf8_steps[static_cast<size_t>(state)];
    const size_t entries = sorted_.text_suffixes_after.size();
    int32_t at = state;
    for (size_t c = 0; c < entries && static_cast<int32_t>(c) <= run; ++c) {
      if (c > 0) at = text_runs_.utf8_next[static_cast<size_t>(at)];
      if (c > 0 && reads_text_in_place(at) && static_cast<size_t>(run) + 1 >= entries) {
        // The run ends in a state that reads text back to itself (a string of minLength c and no
        // maxLength): every longer prefix leads there too. One walk of all the suffixes from it,
        // less those of the shorter prefixes (walked above from their own states), instead of one
        // walk per prefix length.
        const size_t accepted_from = out.accepted.size(), uncertain_from = out.uncertain.size();
        classifier.bind(a_, *sorted_.text_suffixes, plain_, text_runs_, *class_runs_);
        classifier.run(at, out, suffixes);
        auto shorter = [&](int32_t id) { return sorted_.text_prefix_chars[static_cast<size_t>(id)] < c; };
        out.accepted.erase(std::remove_if(out.accepted.begin() + static_cast<std::ptrdiff_t>(accepted_from), out.accepted.end(), shorter),
                           out.accepted.end());
        out.uncertain.erase(std::remove_if(out.uncertain.begin() + static_cast<std::ptrdiff_t>(uncertain_from), out.uncertain.end(), shorter),
                            out.uncertain.end());
        break;
      }
      if (const SortedVocab* trie = sorted_.text_suffixes_after[c].get()) {
        classifier.bind(a_, *trie, plain_, text_runs_, *class_runs_);
        classifier.run(at, out, suffixes);
      }
    }
  }
  // The uncertain list is kept in vocabulary trie order, which walks of it expect.
  std::sort(out.uncertain.begin(), out.uncertain.end(), [&](int32_t x, int32_t y) {
    return sorted_.rank[static_cast<size_t>(x)] < sorted_.rank[static_cast<size_t>(y)];
  });
}

std::unique_ptr<StateMask> MaskCache::classify(int32_t state) const {
  // The accepted list is scratch (the entry keeps a bitset or a copy): one per
  // thread, so a walk does not grow a fresh 500 KB list step by step.
  thread_local StateResult r;
  r.clear();
  // A text run's first state that ends closed takes a whole-text token exactly when
  // it has no more characters than the run: no walk needed for those (most of the vocabulary).
  const bool by_count = text_by_count(state);
  // A lazily refined rule keeps no uncertain list (see below): do not collect one.
  walk(state, r, {.by_count = by_count, .keep_uncertain = !lazy_rule(state)});
  auto entry = std::make_unique<StateMask>();
  if (by_count) {
    entry->bitset.assign(static_cast<size_t>(words_), 0u);
    set_counts_up_to(sorted_.token_text_chars, text_runs_.utf8_steps[static_cast<size_t>(state)], entry->bitset.data());
    uint32_t* const bits = entry->bitset.data();
    for (int32_t id : r.accepted) bits[id >> 5] |= 1u << (id & 31);
    r.max_local_after = std::max(r.max_local_after, text_runs_.bytes_to_end[static_cast<size_t>(state)]);
  } else {
    store_accepted(*entry, r.accepted, words_);
  }
  const auto& parents = parents_of_[static_cast<size_t>(a_.states[static_cast<size_t>(state)].rule)];
  const bool lazy = lazy_rule(state) || static_cast<int64_t>(r.uncertain.size()) * static_cast<int64_t>(parents.size()) >
                                             kMaxEagerRefinementWalks;
  if ((!r.uncertain.empty() || r.dropped_uncertain) && lazy) {
    make_lazy(*entry, parents);
    r.uncertain.clear();
  } else if (!r.uncertain.empty()) {
    refine(state, r.uncertain, entry->refinements);
  }
  entry->uncertain = r.uncertain;
  entry->max_local_after = r.max_local_after;
  return entry;
}

MaskCache::Reference MaskCache::first_byte_reference(int32_t state) const {
  const AutomatonState& st = a_.states[static_cast<size_t>(state)];
  const ByteEdge* const edges = a_.byte_edges.data();
  auto tokens_in = [&](uint8_t lo, uint8_t hi) {
    return tokens_before_byte_[static_cast<size_t>(hi) + 1] - tokens_before_byte_[lo];
  };
  // The target most tokens' first byte leads to (a state has a few dozen edges at most).
  int32_t best = -1, best_tokens = 0;
  for (uint32_t x = st.byte_begin; x < st.byte_end; ++x) {
    const int32_t t = edges[x].target;
    if (t == state || t == best) continue;
    int32_t n = 0;
    for (uint32_t y = x; y < st.byte_end; ++y) {
      if (edges[y].target == t) n += tokens_in(edges[y].lo, edges[y].hi);
    }
    if (n > best_tokens) {
      best = t;
      best_tokens = n;
    }
  }
  if (best < 0 || !a_.has_bytes(best) || a_.states[static_cast<size_t>(best)].rule != st.rule) return {};
  std::array<int32_t, 256> mine, theirs;
  mine.fill(-1);
  theirs.fill(-1);
  auto fill = [&](int32_t s, std::array<int32_t, 256>& to) {
    const AutomatonState& from = a_.states[static_cast<size_t>(s)];
    for (uint32_t x = from.byte_begin; x < from.byte_end; ++x) {
      for (int b = edges[x].lo; b <= edges[x].hi; ++b) to[static_cast<size_t>(b)] = edges[x].target;
    }
  };
  fill(state, mine);
  fill(best, theirs);
  Reference out{best, {}, 0};
  // Worth it when the tokens left to walk are a small part of those the state reads at all (the
  // reference's own walk is paid too, unless it was visited already).
  int32_t taken = 0;
  for (int b = 0; b < 256; ++b) {
    const int32_t n = tokens_in(static_cast<uint8_t>(b), static_cast<uint8_t>(b));
    if (mine[static_cast<size_t>(b)] == theirs[static_cast<size_t>(b)]) {
      if (mine[static_cast<size_t>(b)] >= 0) taken += n;
      continue;
    }
    add_byte(out.differ, static_cast<uint8_t>(b));
    if (mine[static_cast<size_t>(b)] >= 0) out.walk_tokens += n;
  }
  if (out.walk_tokens > taken / kMinReferenceShare) return {};
  return out;
}

std::unique_ptr<StateMask> MaskCache::classify_beside(int32_t state, const StateMask& reference, const ByteSet& differ) const {
  auto shared = [&](int32_t id) { return !has_byte(differ, static_cast<uint8_t>(vocab_.token_bytes(id)[0])); };
  auto by_rank = [&](int32_t x, int32_t y) { return sorted_.rank[static_cast<size_t>(x)] < sorted_.rank[static_cast<size_t>(y)]; };
  auto shared_only = [&](const std::vector<int32_t>& ids, std::vector<int32_t>& out) {
    for (int32_t id : ids) {
      if (shared(id)) out.push_back(id);
    }
  };
  // Merges two lists in trie order.
  auto merged = [&](std::vector<int32_t> kept, const std::vector<int32_t>& walked) {
    const size_t middle = kept.size();
    kept.insert(kept.end(), walked.begin(), walked.end());
    std::inplace_merge(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(middle), kept.end(), by_rank);
    return kept;
  };
  thread_local StateResult r;
  r.clear();
  const bool lazy_owner = lazy_rule(state);
  walk(state, r, {.keep_uncertain = !lazy_owner, .first_bytes = &differ});
  auto entry = std::make_unique<StateMask>();
  if (!reference.bitset.empty()) {
    // The reference's bits less the tokens starting with a byte read apart (their subtrees of the
    // trie: the few tokens the walk looked at), then what the walk accepted.
    entry->bitset = reference.bitset;
    uint32_t* const bits = entry->bitset.data();
    for (int b = 0; b < 256; ++b) {
      const uint32_t k = sorted_.root_child[static_cast<size_t>(b)];
      if (k == 0 || !has_byte(differ, static_cast<uint8_t>(b))) continue;
      for (uint32_t i = sorted_.first_token[k]; i < sorted_.first_token[sorted_.nodes[k].end]; ++i) {
        const int32_t id = sorted_.trie_tokens[i];
        bits[id >> 5] &= ~(1u << (id & 31));
      }
    }
    for (int32_t id : r.accepted) bits[id >> 5] |= 1u << (id & 31);
  } else {
    std::vector<int32_t> ids;
    shared_only(reference.accepted, ids);
    ids.insert(ids.end(), r.accepted.begin(), r.accepted.end());
    store_accepted(*entry, ids, words_);
  }
  // A bound: the reference's share can only be smaller.
  entry->max_local_after = std::max(reference.max_local_after, r.max_local_after);
  const auto& parents = parents_of_[static_cast<size_t>(a_.states[static_cast<size_t>(state)].rule)];
  std::vector<int32_t> kept;
  shared_only(reference.uncertain, kept);
  entry->uncertain = merged(std::move(kept), r.uncertain);
  // A lazy reference kept no uncertain list: this entry cannot know its share either.
  const bool lazy = lazy_owner || reference.lazy_parents != nullptr ||
                    static_cast<int64_t>(entry->uncertain.size()) * static_cast<int64_t>(parents.size()) > kMaxEagerRefinementWalks;
  if (lazy && (!entry->uncertain.empty() || r.dropped_uncertain || reference.lazy_parents != nullptr)) {
    make_lazy(*entry, parents);
  } else if (!entry->uncertain.empty()) {
    if (reference.refinements.size() != parents.size()) {
      refine(state, entry->uncertain, entry->refinements);
    } else {
      refine_from(state, reference.refinements, shared, r.uncertain, entry->refinements);
    }
  }
  return entry;
}

void MaskCache::classify_under(int32_t state, int32_t parent_state, ParentRefinement& out) const {
  thread_local StateResult r;
  r.clear();
  // Whole-text tokens of a text run are decided by the state's own entry (they never reach
  // the rule's end), so the walk skips them as classify does.
  walk(state, r, {.by_count = text_by_count(state), .parent_state = parent_state});
  out.parent_state = parent_state;
  out.accepted = r.accepted;
  std::sort(out.accepted.begin(), out.accepted.end());
  out.uncertain = r.uncertain;
}

const ParentRefinement& MaskCache::lazy_refinement(int32_t state, const StateMask& m, int32_t parent_state,
                                                   ParentRefinement& scratch) const {
  const std::vector<int32_t>& parents = *m.lazy_parents;
  const auto it = std::lower_bound(parents.begin(), parents.end(), parent_state);
  // A lazy entry is only shared within its rule (see compute), so `state` has the owner's
  // parents; a parent outside them would be a stack the automaton cannot make: still exact.
  if (it == parents.end() || *it != parent_state) {
    classify_under(state, parent_state, scratch);
    return scratch;
  }
  std::atomic<const ParentRefinement*>& slot = m.lazy[static_cast<size_t>(it - parents.begin())];
  if (const ParentRefinement* ready = slot.load(std::memory_order_acquire)) return *ready;
  auto fresh = std::make_unique<ParentRefinement>();
  classify_under(m.owner, parent_state, *fresh);
  const ParentRefinement* expected = nullptr;
  if (slot.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel)) {
    bytes_.fetch_add(refinement_bytes(*fresh), std::memory_order_relaxed);
    return *fresh.release();
  }
  return *expected;  // another thread published it first
}

bool MaskCache::lazy_rule(int32_t state) const {
  const size_t rule = static_cast<size_t>(a_.states[static_cast<size_t>(state)].rule);
  return parents_of_[rule].size() > kMaxRefinedParents || a_.return_begin[rule + 1] - a_.return_begin[rule] > kMaxEscapeReturns;
}

std::unique_ptr<StateMask> MaskCache::derive(int32_t state, const StateMask& base, int32_t depth) const {
  auto is_long = [&](int32_t id) { return static_cast<int32_t>(vocab_.token_bytes(id).size()) >= depth; };
  auto by_rank = [&](int32_t x, int32_t y) { return sorted_.rank[static_cast<size_t>(x)] < sorted_.rank[static_cast<size_t>(y)]; };
  auto short_only = [&](const std::vector<int32_t>& ids) {
    std::vector<int32_t> out;
    out.reserve(ids.size());
    for (int32_t id : ids) {
      if (!is_long(id)) out.push_back(id);
    }
    return out;
  };
  // Walk the trie from this state down to the long tokens only.
  thread_local StateResult r;
  r.clear();
  const bool by_count = text_by_count(state);
  walk(state, r, {.by_count = by_count, .min_bytes = depth});
  std::erase_if(r.accepted, [&](int32_t id) { return !is_long(id); });  // (subtrees taken whole hold short ones too)
  std::erase_if(r.uncertain, [&](int32_t id) { return !is_long(id); });
  const std::vector<int32_t>& accepted = r.accepted;
  const std::vector<int32_t>& uncertain = r.uncertain;
  // A bound: the short tokens' share can only be smaller.
  int32_t max_local_after = std::max(base.max_local_after, r.max_local_after);
  // The walk leaves whole-text tokens out by count: the long ones are taken by theirs.
  std::vector<int32_t> counted;
  const std::span<const int32_t> long_ids = sorted_.at_least(depth);
  if (by_count) {
    const int32_t run = text_runs_.utf8_steps[static_cast<size_t>(state)];
    for (int32_t id : long_ids) {
      const uint8_t chars = sorted_.token_text_chars[static_cast<size_t>(id)];
      if (chars != 0 && chars <= run) counted.push_back(id);
    }
    max_local_after = std::max(max_local_after, text_runs_.bytes_to_end[static_cast<size_t>(state)]);
  }
  auto entry = std::make_unique<StateMask>();
  if (!base.bitset.empty()) {
    entry->bitset = base.bitset;
    for (int32_t id : long_ids) entry->bitset[static_cast<size_t>(id >> 5)] &= ~(1u << (id & 31));
    for (int32_t id : accepted) entry->bitset[static_cast<size_t>(id >> 5)] |= 1u << (id & 31);
    for (int32_t id : counted) entry->bitset[static_cast<size_t>(id >> 5)] |= 1u << (id & 31);
  } else {
    std::vector<int32_t> ids = short_only(base.accepted);
    ids.insert(ids.end(), accepted.begin(), accepted.end());
    ids.insert(ids.end(), counted.begin(), counted.end());
    store_accepted(*entry, ids, words_);
  }
  entry->uncertain = short_only(base.uncertain);
  entry->uncertain.insert(entry->uncertain.end(), uncertain.begin(), uncertain.end());
  std::inplace_merge(entry->uncertain.begin(), entry->uncertain.end() - static_cast<std::ptrdiff_t>(uncertain.size()),
                     entry->uncertain.end(), by_rank);
  entry->max_local_after = max_local_after;
  const auto& parents = parents_of_[static_cast<size_t>(a_.states[static_cast<size_t>(state)].rule)];
  if (!entry->uncertain.empty() && parents.size() <= kMaxRefinedParents) {
    if (base.refinements.empty()) {
      refine(state, entry->uncertain, entry->refinements);  // base had no uncertain tokens: all of these are long
    } else {
      // The short tokens keep their classes under every parent; the long ones (all of `uncertain`) are walked again.
      refine_from(state, base.refinements, [&](int32_t id) { return !is_long(id); }, uncertain, entry->refinements);
    }
  }
  return entry;
}

const StateMask& MaskCache::compute(int32_t state) const {
  // Deriving walks the trie down to the long tokens only, then clears and sets their bits: worth
  // it while they are at most a quarter of the vocabulary.
  const size_t max_long = sorted_.ids.size() / 4;
  const int32_t shape = shape_of_[static_cast<size_t>(state)];
  const int32_t like = shape >= 0 ? last_of_shape_[static_cast<size_t>(shape)].load(std::memory_order_relaxed) : -1;
  const StateMask* base = like >= 0 ? entries_[static_cast<size_t>(like)].load(std::memory_order_acquire) : nullptr;
  std::unique_ptr<StateMask> entry;
  const StateMask* shared = nullptr;
  // Lazy entries keep no uncertain list to derive from, and their refinements belong to one rule.
  if (base != nullptr && (lazy_rule(state) || base->lazy_parents != nullptr) &&
      a_.states[static_cast<size_t>(like)].rule != a_.states[static_cast<size_t>(state)].rule) {
    base = nullptr;
  }
  int32_t derive_depth = 0;  // > 0: the entry can be derived from base's (tokens of at least this many bytes walked)
  if (base != nullptr) {
    thread_local EquivalenceProbe probe;
    const int32_t depth = probe.equivalent_depth(a_, like, state, sorted_.max_token_bytes);
    if (depth > sorted_.max_token_bytes) {
      shared = base;
    } else if (depth > 0 && sorted_.at_least(depth).size() <= max_long && !lazy_rule(state) && base->lazy_parents == nullptr &&
               !reads_text_in_place(state)) {  // (its walk is cheaper than deriving)
      derive_depth = depth;
    }
  }
  if (shared == nullptr) {
    // A first-byte reference when it leaves fewer tokens to walk than deriving would (a text run's
    // first state classifies most tokens by count instead). References of references are followed
    // a few levels at most, which also ends a cycle of states naming each other.
    thread_local int32_t reference_depth = 0;
    const Reference ref = text_by_count(state) || reference_depth >= kMaxReferenceDepth ? Reference{} : first_byte_reference(state);
    if (ref.state >= 0 && (derive_depth == 0 || static_cast<size_t>(ref.walk_tokens) < sorted_.at_least(derive_depth).size())) {
      ++reference_depth;
      const StateMask& reference = this->entry(ref.state);
      --reference_depth;
      entry = classify_beside(state, reference, ref.differ);
    } else if (derive_depth > 0) {
      entry = derive(state, *base, derive_depth);
    } else {
      entry = classify(state);
    }
  }
  if (entry != nullptr) entry->owner = state;
  const StateMask* mine = shared != nullptr ? shared : entry.get();
  const StateMask* expected = nullptr;
  if (entries_[static_cast<size_t>(state)].compare_exchange_strong(expected, mine, std::memory_order_acq_rel)) {
    computed_.fetch_add(1, std::memory_order_relaxed);
    if (entry != nullptr) bytes_.fetch_add(entry.release()->memory_bytes(), std::memory_order_relaxed);
    if (shape >= 0) last_of_shape_[static_cast<size_t>(shape)].store(state, std::memory_order_relaxed);
    return *mine;
  }
  return *expected;  // another thread published it first
}

}  // namespace stencil::engine
