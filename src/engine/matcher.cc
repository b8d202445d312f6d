// The Matcher: a StackMachine run over the accepted tokens, with a bounded
// history for rollback, and the mask fill that combines the per-state cache
// with a run-time check of the few context-dependent tokens.
#include "stencil/matcher.h"

#include <algorithm>
#include <cstring>

#include "engine/compiled_grammar_impl.h"
#include "engine/stack_machine.h"
#include "engine/token_walk.h"

namespace stencil {

using engine::kAccept;
using engine::StackMachine;

struct Matcher::Impl {
  explicit Impl(CompiledGrammar g, MatcherOptions o)
      : grammar(std::move(g)), gi(&grammar.impl()), sm(gi->automaton), options(o) {
    options.max_rollback_tokens = std::max(options.max_rollback_tokens, 16);
    reset();
  }

  // One accepted step: the set after it lives in sets[begin, end).
  struct Step {
    uint32_t begin, end;
    int32_t nodes;  // arena size after the step
    bool terminated;
  };

  std::span<const int32_t> current() const {
    const Step& s = history.back();
    return {sets.data() + s.begin, s.end - s.begin};
  }

  void reset() {
    sm.clear();
    sets.clear();
    history.clear();
    std::vector<int32_t> start;
    sm.start(gi->automaton.root_start(), engine::kRootParent, start);
    sets = start;
    history.push_back({0, static_cast<uint32_t>(sets.size()), sm.nodes_size(), false});
  }

  // Runs bytes from the current set; on success leaves the final set in `a` and returns true.
  bool run(std::string_view bytes) {
    auto cur = current();
    a.assign(cur.begin(), cur.end());
    for (char c : bytes) {
      if (!sm.advance(a, static_cast<uint8_t>(c), b)) return false;
      std::swap(a, b);
    }
    return true;
  }

  bool push_bytes(std::string_view bytes) {
    if (history.back().terminated) return false;
    const int32_t mark = sm.nodes_size();
    if (!run(bytes)) {
      sm.truncate(mark);
      return false;
    }
    push_step(a, false);
    return true;
  }

  void push_step(std::span<const int32_t> set, bool terminated) {
    const uint32_t begin = static_cast<uint32_t>(sets.size());
    sets.insert(sets.end(), set.begin(), set.end());
    history.push_back({begin, static_cast<uint32_t>(sets.size()), sm.nodes_size(), terminated});
    trim_history();
  }

  // Keeps max_rollback_tokens undoable steps; compacts the set storage now and then.
  void trim_history() {
    const size_t keep = static_cast<size_t>(options.max_rollback_tokens) + 1;
    if (history.size() <= 2 * keep) return;
    history.erase(history.begin(), history.end() - static_cast<std::ptrdiff_t>(keep));
    const uint32_t offset = history.front().begin;
    sets.erase(sets.begin(), sets.begin() + offset);
    for (Step& s : history) {
      s.begin -= offset;
      s.end -= offset;
    }
  }

  bool can_terminate() const { return engine::set_has(current(), kAccept); }

  void fill(uint32_t* __restrict mask, int32_t words) {
    const Vocabulary& vocab = gi->vocab;
    if (history.back().terminated) {
      std::memset(mask, 0, static_cast<size_t>(words) * 4);
      for (int32_t id : vocab.eos_ids()) mask[id >> 5] |= 1u << (id & 31);
      return;
    }
    const engine::MaskCache& cache = *gi->masks;
    auto tops = current();
    // The first dense set is copied, later ones OR-ed in; sparse sets set their bits.
    bool written = false;
    for (int32_t top : tops) {
      if (top < 0) continue;
      const engine::StateMask& m = cache.entry(sm.node(top).state);
      if (m.bitset.empty()) continue;
      const uint32_t* __restrict bits = m.bitset.data();
      if (!written) {
        std::memcpy(mask, bits, static_cast<size_t>(words) * 4);
        written = true;
      } else {
        for (int32_t w = 0; w < words; ++w) mask[w] |= bits[w];
      }
    }
    if (!written) std::memset(mask, 0, static_cast<size_t>(words) * 4);
    for (int32_t top : tops) {
      if (top < 0) continue;
      for (int32_t id : cache.entry(sm.node(top).state).accepted) mask[id >> 5] |= 1u << (id & 31);
    }
    // Context-dependent tokens: refined by the top's parent state when the cache
    // has that refinement, then simulated with the real stack, one top at a time.
    for (int32_t top : tops) {
      if (top < 0) continue;
      const engine::StackNode& node = sm.node(top);
      const engine::StateMask& m = cache.entry(node.state);
      const std::vector<int32_t>* uncertain = &m.uncertain;
      if (m.lazy_parents != nullptr && node.parent >= 0) {
        const engine::ParentRefinement& ref =
            cache.lazy_refinement(node.state, m, sm.node(node.parent).state, lazy_scratch);
        for (int32_t id : ref.accepted) mask[id >> 5] |= 1u << (id & 31);
        uncertain = &ref.uncertain;
      }
      if (uncertain->empty()) continue;
      if (node.parent >= 0 && !m.refinements.empty()) {
        const int32_t parent_state = sm.node(node.parent).state;
        auto it = std::lower_bound(m.refinements.begin(), m.refinements.end(), parent_state,
                                   [](const engine::ParentRefinement& r, int32_t s) { return r.parent_state < s; });
        if (it != m.refinements.end() && it->parent_state == parent_state) {
          for (int32_t id : it->accepted) mask[id >> 5] |= 1u << (id & 31);
          uncertain = &it->uncertain;
          if (uncertain->empty()) continue;
        }
      }
      const int32_t single[1] = {top};
      walker.begin(sm, single);
      for (int32_t id : *uncertain) {
        if ((mask[id >> 5] >> (id & 31)) & 1u) continue;
        if (walker.next(vocab.token_bytes(id)) == engine::TokenOutcome::kAccepted) mask[id >> 5] |= 1u << (id & 31);
      }
      walker.end();
    }
    if (can_terminate()) {
      for (int32_t id : vocab.eos_ids()) mask[id >> 5] |= 1u << (id & 31);
    }
  }

  CompiledGrammar grammar;
  const CompiledGrammar::Impl* gi;
  StackMachine sm;
  MatcherOptions options;
  std::vector<int32_t> sets;  // the sets of the steps in `history`, concatenated
  std::vector<Step> history;  // history.back() is the current state
  std::vector<int32_t> a, b;  // scratch sets
  engine::TokenWalker walker;
  engine::ParentRefinement lazy_scratch;  // a lazy refinement the cache does not keep (see MaskCache)
};

Matcher::Matcher(CompiledGrammar grammar, MatcherOptions options)
    : impl_(std::make_unique<Impl>(std::move(grammar), options)) {}
Matcher::Matcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;
Matcher::~Matcher() = default;

Matcher Matcher::fork() const { return Matcher(std::make_unique<Impl>(*impl_)); }

bool Matcher::fill_next_token_bitmask(std::span<uint32_t> mask) noexcept {
  const int32_t words = bitmask_words(impl_->gi->vocab.size());
  if (static_cast<int64_t>(mask.size()) < words) return false;
  impl_->fill(mask.data(), words);
  std::fill(mask.begin() + words, mask.end(), 0u);
  return true;
}

bool Matcher::fill_next_token_bitmask(std::span<uint32_t> mask, int32_t max_tokens_left) noexcept {
  if (!fill_next_token_bitmask(mask)) return false;
  Impl& im = *impl_;
  if (im.history.back().terminated) return true;
  // Budget-aware closing: keep a token only if, after it, the fewest bytes to a
  // valid end fit in the tokens left (every byte is at worst one token).
  const int32_t after = max_tokens_left - 1;
  const engine::MaskCache& cache = *im.gi->masks;
  const Vocabulary& vocab = im.gi->vocab;
  auto fits_after = [&](int32_t id) {
    const int32_t mark = im.sm.nodes_size();
    bool fits = false;
    if (after >= 0 && im.run(vocab.token_bytes(id))) {
      for (int32_t top : im.a) {
        if (top == kAccept || (top >= 0 && im.sm.min_bytes_to_end(top) <= after)) fits = true;
      }
    }
    im.sm.truncate(mark);
    return fits;
  };
  // Tokens a top's cache accepts cannot push the end further than the state's
  // max_local_after plus what the top's callers need. When every top is within
  // the budget that way, only the context-dependent tokens need a check.
  bool cache_bound_fits = after >= 0;
  auto cur = im.current();
  std::vector<int32_t>& check = im.b;
  check.clear();
  for (int32_t top : cur) {
    if (top < 0) continue;
    const engine::StackNode& node = im.sm.node(top);
    const engine::StateMask& m = cache.entry(node.state);
    const int32_t callers = node.parent >= 0 ? im.sm.min_bytes_to_end(node.parent) : 0;
    if (m.max_local_after + callers > after) cache_bound_fits = false;
    check.insert(check.end(), m.uncertain.begin(), m.uncertain.end());
    for (const engine::ParentRefinement& r : m.refinements) check.insert(check.end(), r.accepted.begin(), r.accepted.end());
    if (m.lazy_parents != nullptr && node.parent >= 0) {
      const engine::ParentRefinement& r =
          cache.lazy_refinement(node.state, m, im.sm.node(node.parent).state, im.lazy_scratch);
      check.insert(check.end(), r.accepted.begin(), r.accepted.end());
      check.insert(check.end(), r.uncertain.begin(), r.uncertain.end());
    }
  }
  if (cache_bound_fits) {
    std::sort(check.begin(), check.end());
    check.erase(std::unique(check.begin(), check.end()), check.end());
    std::vector<int32_t> ids(check);  // run() below reuses the scratch vectors
    for (int32_t id : ids) {
      if (((mask[id >> 5] >> (id & 31)) & 1u) && !fits_after(id)) mask[id >> 5] &= ~(1u << (id & 31));
    }
    return true;
  }
  // Close to the budget: check every allowed token, walking them in trie order so
  // shared prefixes are simulated once.
  engine::TokenWalker& walker = im.walker;
  walker.begin(im.sm, cur);
  for (int32_t id : im.gi->sorted->ids) {
    if (!((mask[id >> 5] >> (id & 31)) & 1u)) continue;
    bool fits = false;
    if (after >= 0 && walker.next(vocab.token_bytes(id)) == engine::TokenOutcome::kAccepted) {
      for (int32_t top : walker.last_set()) {
        if (top == kAccept || (top >= 0 && im.sm.min_bytes_to_end(top) <= after)) fits = true;
      }
    }
    if (!fits) mask[id >> 5] &= ~(1u << (id & 31));
  }
  walker.end();
  return true;
}

bool Matcher::accept_token(int32_t token) noexcept {
  Impl& im = *impl_;
  const Vocabulary& vocab = im.gi->vocab;
  if (token < 0 || token >= vocab.size()) return false;
  if (im.history.back().terminated) return false;
  if (vocab.is_eos(token)) {
    if (!im.can_terminate()) return false;
    auto cur = im.current();
    std::vector<int32_t> copy(cur.begin(), cur.end());
    im.push_step(copy, true);
    return true;
  }
  if (vocab.kind(token) != TokenKind::kNormal) return false;
  const std::string_view bytes = vocab.token_bytes(token);
  if (bytes.empty()) return false;
  return im.push_bytes(bytes);
}

bool Matcher::accept_bytes(std::string_view bytes) noexcept { return impl_->push_bytes(bytes); }

bool Matcher::rollback(int32_t n) noexcept {
  Impl& im = *impl_;
  if (n < 0 || static_cast<size_t>(n) >= im.history.size()) return false;
  for (int32_t i = 0; i < n; ++i) im.history.pop_back();
  const auto& s = im.history.back();
  im.sets.resize(s.end);
  im.sm.truncate(s.nodes);
  return true;
}

void Matcher::reset() noexcept { impl_->reset(); }
bool Matcher::is_terminated() const noexcept { return impl_->history.back().terminated; }
bool Matcher::can_terminate() const noexcept { return impl_->can_terminate(); }

std::string Matcher::forced_bytes() const {
  Impl& im = const_cast<Impl&>(*impl_);
  std::string out;
  if (im.history.back().terminated) return out;
  const engine::Automaton& a = im.gi->automaton;
  const int32_t mark = im.sm.nodes_size();
  auto cur = im.current();
  std::vector<int32_t> set(cur.begin(), cur.end()), next;
  constexpr size_t kMaxForced = 4096;
  while (out.size() < kMaxForced && !engine::set_has(set, kAccept)) {
    int forced = -1;
    bool unique = true;
    for (int32_t top : set) {
      if (top < 0) continue;
      const engine::AutomatonState& st = a.states[static_cast<size_t>(im.sm.node(top).state)];
      for (uint32_t k = st.byte_begin; k < st.byte_end && unique; ++k) {
        const engine::ByteEdge& e = a.byte_edges[k];
        if (e.lo != e.hi || (forced >= 0 && forced != e.lo)) unique = false;
        forced = e.lo;
      }
    }
    if (!unique || forced < 0) break;
    if (!im.sm.advance(set, static_cast<uint8_t>(forced), next)) break;
    out.push_back(static_cast<char>(forced));
    std::swap(set, next);
  }
  im.sm.truncate(mark);
  return out;
}

int32_t Matcher::min_bytes_to_end() const noexcept {
  int32_t best = engine::kInfiniteBytes;
  for (int32_t top : impl_->current()) {
    if (top == kAccept) return 0;
    if (top >= 0) best = std::min(best, impl_->sm.min_bytes_to_end(top));
  }
  return best;
}

const CompiledGrammar& Matcher::grammar() const noexcept { return impl_->grammar; }

}  // namespace stencil
