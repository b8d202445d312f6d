// stencil::Matcher: the grammar state of one sequence being generated.
//
// Per step: fill_next_token_bitmask() says which tokens may come next (exactly:
// token t is allowed iff its bytes can be consumed from the current state; EOS
// iff the grammar may end here), the sampler picks one, accept_token() advances.
// rollback(n) undoes the last n accepted tokens (speculative decoding), and
// forced_bytes() gives the bytes the grammar fixes from here (jump-forward).
//
// A Matcher's own state is small: it references the CompiledGrammar's shared,
// immutable data and never copies anything vocabulary-sized.
//
// Thread-safety: one Matcher per sequence, used by one thread at a time.
// Move-only; fork() makes an explicit independent copy of the state.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "stencil/bitmask.h"
#include "stencil/compiler.h"

namespace stencil {

struct MatcherOptions {
  // How many accepted tokens rollback() can undo (at least 16).
  int32_t max_rollback_tokens = 16;
};

class Matcher {
 public:
  explicit Matcher(CompiledGrammar grammar, MatcherOptions options = {});
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;
  ~Matcher();

  // An independent copy of this matcher's state (same grammar).
  Matcher fork() const;

  // Writes the allowed-token mask for the next token into `mask`, which must have
  // at least bitmask_words(vocabulary().size()) words (extra words are cleared).
  // Returns false (and leaves the mask untouched) only if the mask is too small.
  // After termination only EOS ids are allowed.
  bool fill_next_token_bitmask(std::span<uint32_t> mask) noexcept;
  bool fill_next_token_bitmask(TokenBitmask& mask) noexcept { return fill_next_token_bitmask(std::span<uint32_t>(mask.words)); }
  // Same, but also masks every token after which a valid end no longer fits in
  // `max_tokens_left` tokens (counting the token itself; EOS not counted). This is
  // budget-aware closing: the output can always be finished within the budget.
  bool fill_next_token_bitmask(std::span<uint32_t> mask, int32_t max_tokens_left) noexcept;

  // Advances by one token. Returns false, leaving the state unchanged, when the
  // token is not allowed here (or out of range, or special and not EOS).
  bool accept_token(int32_t token) noexcept;
  // Advances by raw bytes (not a token boundary). False, state unchanged, if any byte is rejected.
  // Counts as one step for rollback().
  bool accept_bytes(std::string_view bytes) noexcept;
  // Undoes the last n accepted steps. False (nothing undone) if n exceeds the history kept.
  bool rollback(int32_t n) noexcept;
  // Back to the start state, history cleared.
  void reset() noexcept;

  // True once an EOS token has been accepted (then only rollback/reset change the state).
  bool is_terminated() const noexcept;
  // True when the text so far is a complete match: EOS would be accepted now.
  bool can_terminate() const noexcept;
  // The bytes every continuation must start with from here (jump-forward); empty if none.
  std::string forced_bytes() const;
  // Fewest bytes that complete a valid match from here (0 when can_terminate()).
  int32_t min_bytes_to_end() const noexcept;

  const CompiledGrammar& grammar() const noexcept;

  struct Impl;

 private:
  explicit Matcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Fills the masks of many matchers at once on `threads` threads (a pool kept by
// the BatchFiller; no thread is spawned per call). masks holds
// matchers.size() rows of `words_per_row` words each.
class BatchFiller {
 public:
  explicit BatchFiller(int32_t threads);
  ~BatchFiller();
  BatchFiller(const BatchFiller&) = delete;
  BatchFiller& operator=(const BatchFiller&) = delete;
  void fill(std::span<Matcher* const> matchers, std::span<uint32_t> masks, int32_t words_per_row);

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace stencil
