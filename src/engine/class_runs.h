// Class runs: classifying whole subtrees of the vocabulary trie under a
// character class.
//
// Text runs (text_runs.h) cover states that read all of JSON text alike.
// Patterns read narrower or less uniform classes: a patternProperties key
// `^[0-9a-zA-Z_-]{1,255}$` reads 64 bytes for 255 steps, an unanchored
// `[0-9a-f]{32}` reads every text byte but hex digits go elsewhere than the
// rest. Without a shortcut the first visit of such a state walks every trie
// node made of class bytes: tens of thousands of tokens, 7-48 ms with Llama-3.
//
// For a class C and a state t, safe_C(t) is how many characters of C in a row t
// surely reads inside its rule: 0 when some character of C has no path from t, else
// 1 + the least of the next states'. States that cannot reach such a state read
// C for ever (kLong). A trie node whose byte leads into t, whose subtree holds
// only bytes of C and is at most safe_C(t) deep, has every token below it alive
// on a path that never leaves the rule, which is all "accepted" needs (final
// states and calls on the way only add other paths, like a called pattern
// rule that may end after any character): the walk takes the subtree whole
// (SortedVocab::below_set and ::height give the subtree's side in two loads).
//
// The classes: per state, the bytes of its largest group leading to one state
// (a counted repetition's class) and the ASCII bytes it reads at all (an
// unanchored pattern; less those that lead where the rest is not read, and with
// every multi-byte character when the state reads those too), each only when enough of the vocabulary starts with one
// of its bytes that a walk would be long (kMinClassTokens, kMinClassPairTokens), the state it leads
// to reads the class again (a run of at least two), and the state does not
// start a text run (text_runs.h takes those).
//
// safe_C is computed on first use per region: the states C's bytes reach from
// the state asked about and not known yet, with the known ones as a boundary,
// so a walk pays for the few states it meets (a schema's key trie has a class
// per key prefix). Computation is under a mutex (first visits only); readers
// load published values without locking.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/automaton.h"
#include "engine/byte_set.h"
#include "engine/sorted_vocab.h"
#include "engine/text_runs.h"

namespace stencil::engine {

// Bit 255 of a class (a byte no class of ASCII bytes holds) marks a class of characters: its
// ASCII bytes, and every well-formed multi-byte UTF-8 character whose lead byte (0xc2-0xf4) is
// in it — the class of a `.` (all leads but 0xe2: it leaves out U+2028/9) or a negated class.
// Such a class counts in characters: a subtree of whole characters (SortedVocab::text_chars)
// fits when it has no more characters than safe_C, whatever their byte lengths.
inline constexpr uint8_t kUtf8Bit = 0xff;
inline bool has_utf8(const ByteSet& c) { return has_byte(c, kUtf8Bit); }

class ClassRuns {
 public:
  static constexpr int32_t kLong = TextRuns::kLong;  // the same "longer than any token"
  // A class gets runs only when at least this many tokens start with one of its bytes (a
  // cheap first filter, per state) and this many start with two of them or are one (per class:
  // Llama-3 has 37k for [0-9a-zA-Z_-], 2.7k for [0-9a-f], 1.1k for digits, 350 for [ \t]).
  static constexpr int32_t kMinClassTokens = 4096;
  static constexpr int32_t kMinClassPairTokens = 2048;
  static constexpr int32_t kClassesPerState = 2;

  struct Run {
    int32_t safe;         // safe_C(t); kLong: for ever (finite values are capped at kLong - 1)
    int32_t reach_bytes;  // the most min_bytes_to_end over the states C's bytes reach from t, t included
  };

  // `text`: the automaton's text runs (their first states get no classes).
  ClassRuns(const Automaton& automaton, const SortedVocab& sorted, const TextRuns& text);
  ~ClassRuns();
  ClassRuns(const ClassRuns&) = delete;
  ClassRuns& operator=(const ClassRuns&) = delete;

  // The classes of state t: kClassesPerState ids, -1 where there is none.
  const int16_t* classes_of(int32_t t) const { return class_of_.data() + static_cast<size_t>(t) * kClassesPerState; }
  const ByteSet& bytes(int32_t cls) const { return classes_[static_cast<size_t>(cls)]; }
  // safe_C(t) for class cls, computed now if it was not yet.
  Run run(int32_t cls, int32_t t) const {
    const std::atomic<uint32_t>* info = info_[static_cast<size_t>(cls)].load(std::memory_order_acquire);
    if (info != nullptr) {
      const uint32_t v = info[t].load(std::memory_order_acquire);
      if (v != kUnknown) return decode(v);
    }
    return compute(cls, t);
  }
  // Some state has a class (else the walk need not look).
  bool any() const { return any_; }

 private:
  static constexpr uint32_t kUnknown = ~uint32_t{0};
  // reach_bytes saturates here and reads back as kInfiniteBytes (an over-estimate is safe: it
  // only makes the budget-aware fill check more tokens one by one). Below 2^24 - 1, so no
  // encoded value is kUnknown.
  static constexpr uint32_t kReachSaturated = (1u << 24) - 2;
  static uint32_t encode(Run r) {
    return static_cast<uint32_t>(r.safe) << 24 | std::min<uint32_t>(static_cast<uint32_t>(r.reach_bytes), kReachSaturated);
  }
  static Run decode(uint32_t v) {
    const uint32_t reach = v & 0xffffffu;
    return {static_cast<int32_t>(v >> 24), reach >= kReachSaturated ? kInfiniteBytes : static_cast<int32_t>(reach)};
  }
  Run compute(int32_t cls, int32_t t) const;

  const Automaton& a_;
  std::vector<ByteSet> classes_;
  std::vector<int16_t> class_of_;    // (states * kClassesPerState,)
  bool any_ = false;
  // (classes,) per state: kUnknown or encode(run); allocated on a class's first use.
  std::unique_ptr<std::atomic<std::atomic<uint32_t>*>[]> info_;
  mutable std::mutex compute_mutex_;
  mutable std::vector<int32_t> local_of_;  // (states,) scratch of compute(): index in the region, or -1
};

}  // namespace stencil::engine
