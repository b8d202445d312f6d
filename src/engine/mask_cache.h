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
//
// Rules returned to from more than kMaxRefinedParents places (the whitespace
// between JSON tokens, called from every gap of a large schema) are refined
// lazily instead: the first fill that meets a top with parent state t walks the
// vocabulary once from (s, (t, <bottom>)) and publishes that refinement; the
// state's own uncertain list is not kept (it would be nearly the whole
// vocabulary, as such a rule may end before any byte).
//
// First-byte references: a state that reads most first bytes to the same states
// as another (a key trie's prefix beside the free key string, a partial match of
// an unanchored pattern beside "nothing matched yet") takes that state's classes
// for every token starting with such a byte, at every level: after the byte both
// stand on the same stack. Only the tokens starting with the other bytes are
// walked (MaskCache::classify_beside).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/automaton.h"
#include "engine/byte_set.h"
#include "engine/class_runs.h"
#include "engine/sorted_vocab.h"
#include "engine/text_runs.h"
#include "stencil/vocabulary.h"
#include "support/function_ref.h"

namespace stencil::engine {

struct StateResult;  // a walk's output (mask_cache.cc)

// How a walk of the vocabulary trie from a state classifies tokens.
struct WalkOptions {
  bool by_count = false;      // whole-text tokens are left out: the caller takes them by count (text_runs.h)
  int32_t parent_state = -1;  // >= 0: from the stack (state, (parent_state, <bottom>)), a refinement
  bool keep_uncertain = true; // false: uncertain tokens are dropped (a lazily refined state keeps none)
  int32_t min_bytes = 0;      // only tokens of at least this many bytes (a derived entry)
  const ByteSet* first_bytes = nullptr;  // only tokens starting with one of these bytes (MaskCache::classify_beside)
};

// The uncertain tokens of a state re-classified for one parent state.
struct ParentRefinement {
  int32_t parent_state;
  std::vector<int32_t> accepted;   // sorted ids
  std::vector<int32_t> uncertain;  // trie order
};

// Everything the Matcher needs to know about one scanning state.
struct StateMask {
  std::vector<uint32_t> bitset;     // (words,) the accepted set when dense; empty when sparse
  std::vector<int32_t> accepted;    // the accepted set when sparse: sorted ids
  std::vector<int32_t> uncertain;   // trie order
  std::vector<ParentRefinement> refinements;  // sorted by parent_state
  // Lazy refinements (see above): one slot per entry of `lazy_parents` (the sorted parent
  // states of the owner's rule), null until first use. `uncertain` is empty then.
  const std::vector<int32_t>* lazy_parents = nullptr;
  std::unique_ptr<std::atomic<const ParentRefinement*>[]> lazy;
  // The most bytes any accepted token can leave to finish the state's rule
  // (fewest bytes to its end after the token). With the bytes its callers need,
  // this bounds how far an accepted token can push the end away: the
  // budget-aware fill only checks tokens one by one when that bound is too long.
  int32_t max_local_after = 0;
  int32_t owner = -1;  // the state that computed this entry (others may share it, see MaskCache)
  int64_t memory_bytes() const;

  StateMask() = default;
  StateMask(const StateMask&) = delete;
  StateMask& operator=(const StateMask&) = delete;
  ~StateMask();
};

// Entries are computed eagerly at compile time (all of them when the automaton
// is small enough, see CompileLimits::eager_mask_states) and otherwise on first
// use, by whichever thread needs one first: entries are published with an
// atomic compare-and-swap, so readers never lock and a race only costs a
// duplicate computation. A grammar with 40,000 states compiles in milliseconds
// and pays only for the states a generation visits.
class MaskCache {
 public:
  MaskCache(const Automaton& automaton, const SortedVocab& sorted, const Vocabulary& vocab);
  ~MaskCache();
  MaskCache(const MaskCache&) = delete;
  MaskCache& operator=(const MaskCache&) = delete;

  // Computes the entries of every scanning state on `threads` threads.
  void precompute_all(int32_t threads);
  // The entry of a scanning state, computed now if it was not yet.
  const StateMask& entry(int32_t state) const {
    const StateMask* e = entries_[static_cast<size_t>(state)].load(std::memory_order_acquire);
    return e != nullptr ? *e : compute(state);
  }
  // The refinement of a lazy entry `m` of `state` for a top whose parent is in `parent_state`,
  // computed now if it was not yet. A parent outside the entry's list is classified into
  // `scratch`, uncached.
  const ParentRefinement& lazy_refinement(int32_t state, const StateMask& m, int32_t parent_state,
                                          ParentRefinement& scratch) const;
  int32_t words() const { return words_; }
  int32_t scanning_states() const { return static_cast<int32_t>(scanning_.size()); }
  int32_t computed_states() const { return computed_.load(std::memory_order_relaxed); }
  int64_t memory_bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  const StateMask& compute(int32_t state) const;
  // The state starts a closed UTF-8 text run (text_runs.h) from a single stack: it takes
  // a whole-text token exactly when the token has no more characters than the run.
  bool text_by_count(int32_t state) const;
  // The state reads every text character back to itself (text_runs.h: TextRuns::utf8_next).
  bool reads_text_in_place(int32_t state) const;
  // The trie walk of `state` into `out` (mask_cache.cc: TrieClassifier::run).
  void walk(int32_t state, StateResult& out, const WalkOptions& options) const;
  // A whole-vocabulary walk from the state.
  std::unique_ptr<StateMask> classify(int32_t state) const;
  // A state that reads most of `state`'s first bytes to the same states (see classify_beside).
  struct Reference {
    int32_t state = -1;     // -1: none worth it
    ByteSet differ{};       // the first bytes the two read apart
    int32_t walk_tokens = 0;  // tokens starting with a byte of `differ` that `state` reads
  };
  // The state most of `state`'s first bytes lead to (counted in tokens starting with them), when
  // it reads those bytes to the same states and the tokens left to walk are few.
  Reference first_byte_reference(int32_t state) const;
  // The entry of `state` from the entry of a reference state that reads every first byte outside
  // `differ` as `state` does: after such a byte both stand on the same stack, so every token
  // starting with it is classified alike. Only the tokens starting with a byte of `differ` are walked.
  std::unique_ptr<StateMask> classify_beside(int32_t state, const StateMask& reference, const ByteSet& differ) const;
  // The entry of `state` from `base`, the entry of a state that no token shorter than `depth` bytes tells apart.
  std::unique_ptr<StateMask> derive(int32_t state, const StateMask& base, int32_t depth) const;
  // Re-classifies the uncertain tokens `tokens` (trie order) under each parent state of the state's rule.
  void refine(int32_t state, std::span<const int32_t> tokens, std::vector<ParentRefinement>& out) const;
  // The refinements of `state` from `old`, another state's of the same rule: the tokens `kept` keeps
  // keep their classes under every parent, and `walked` (trie order) are refined anew.
  void refine_from(int32_t state, const std::vector<ParentRefinement>& old, support::FunctionRef<bool(int32_t)> kept,
                   std::span<const int32_t> walked, std::vector<ParentRefinement>& out) const;
  // One whole-vocabulary walk from (state, (parent_state, <bottom>)).
  void classify_under(int32_t state, int32_t parent_state, ParentRefinement& out) const;
  bool lazy_rule(int32_t state) const;

  const Automaton& a_;
  const SortedVocab& sorted_;
  const Vocabulary& vocab_;
  int32_t words_;
  std::vector<int32_t> scanning_;
  std::array<int32_t, 257> tokens_before_byte_{};  // ordinary tokens whose first byte is below b (prefix sums)
  std::vector<std::vector<int32_t>> parents_of_;  // (rules,) effective parent states
  std::vector<uint8_t> plain_;     // (automaton states,) not final and no calls (see mask_cache.cc)
  TextRuns text_runs_;
  std::unique_ptr<ClassRuns> class_runs_;
  std::vector<int32_t> shape_of_;  // (automaton states,) index of the state's local signature, -1 if not scanning
  std::unique_ptr<std::atomic<int32_t>[]> last_of_shape_;  // (shapes,) the state computed last, or -1
  std::unique_ptr<std::atomic<const StateMask*>[]> entries_;  // (automaton states,)
  mutable std::atomic<int32_t> computed_{0};
  mutable std::atomic<int64_t> bytes_{0};
};

}  // namespace stencil::engine
