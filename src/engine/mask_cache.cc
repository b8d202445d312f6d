// Building the per-state token mask cache (see mask_cache.h): one trie-order
// walk of the vocabulary per scanning state, states spread over threads.
#include "engine/mask_cache.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "engine/stack_machine.h"
#include "engine/token_walk.h"

namespace stencil::engine {
namespace {

struct StateResult {
  std::vector<int32_t> accepted;   // token ids
  std::vector<int32_t> uncertain;  // token ids, trie order
};

void classify_state(const Automaton& a, const SortedVocab& sorted, const Vocabulary& vocab, int32_t state,
                    StackMachine& sm, TokenWalker& walker, std::vector<int32_t>& start, StateResult& out) {
  sm.clear();
  start.clear();
  sm.start(state, kEscapeParent, start);
  walker.begin(sm, start);
  for (int32_t id : sorted.ids) {
    switch (walker.next(vocab.token_bytes(id))) {
      case TokenOutcome::kAccepted: out.accepted.push_back(id); break;
      case TokenOutcome::kEscaped: out.uncertain.push_back(id); break;
      case TokenOutcome::kRejected: break;
    }
  }
  walker.end();
  std::sort(out.accepted.begin(), out.accepted.end());
}

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
  std::atomic<size_t> next{0};
  auto worker = [&] {
    StackMachine sm(a);
    TokenWalker walker;
    std::vector<int32_t> start;
    for (size_t i = next++; i < scanning.size(); i = next++) {
      classify_state(a, sorted, vocab, scanning[i], sm, walker, start, results[i]);
    }
  };
  const int32_t n_threads = std::max(1, std::min<int32_t>(threads, static_cast<int32_t>(scanning.size())));
  std::vector<std::thread> pool;
  for (int32_t t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  for (size_t i = 0; i < scanning.size(); ++i) {
    StateMask& m = cache.states[static_cast<size_t>(scanning[i])];
    const StateResult& r = results[i];
    if (static_cast<int64_t>(r.accepted.size()) > cache.words) {
      m.bitset = static_cast<int32_t>(cache.bitsets.size() / static_cast<size_t>(cache.words));
      cache.bitsets.resize(cache.bitsets.size() + static_cast<size_t>(cache.words), 0u);
      uint32_t* bits = cache.bitsets.data() + static_cast<size_t>(m.bitset) * static_cast<size_t>(cache.words);
      for (int32_t id : r.accepted) bits[id >> 5] |= 1u << (id & 31);
    } else {
      m.accepted_begin = static_cast<uint32_t>(cache.accepted_ids.size());
      cache.accepted_ids.insert(cache.accepted_ids.end(), r.accepted.begin(), r.accepted.end());
      m.accepted_end = static_cast<uint32_t>(cache.accepted_ids.size());
    }
    m.uncertain_begin = static_cast<uint32_t>(cache.uncertain_ids.size());
    cache.uncertain_ids.insert(cache.uncertain_ids.end(), r.uncertain.begin(), r.uncertain.end());
    m.uncertain_end = static_cast<uint32_t>(cache.uncertain_ids.size());
  }
  cache.cached_states = static_cast<int32_t>(scanning.size());
  return cache;
}

}  // namespace stencil::engine
