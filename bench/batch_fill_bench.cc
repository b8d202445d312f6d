// Batched mask fill, the C++ side of bench/python_batch_fill.py: 64 sequences under one JSON
// Schema, each step one BatchFiller::fill for the whole batch (what a serving loop does per
// decoding step). The walk is deterministic and the same as the Python script's, so both time the
// same fills: row i at step s takes the allowed non-EOS token of index (i * 7919 + s * 104729) mod
// count (ids in increasing order), and restarts when only EOS is left. The walk is recorded once
// (untimed: it pays the first visits of lazily computed states, and its token picking would pollute
// the caches), then replayed 5 times (--replays N) with each step's fill timed.
//
//   batch_fill_bench TOKENIZER SCHEMA [THREADS...] [--replays N]    (default threads: 1 2; replays: 5)
//
// Prints, per thread count, the time of one batch fill in microseconds: min (the machine is shared:
// the minimum is the code's own cost), p50, mean, p99.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "stencil/stencil.h"

namespace {

constexpr int kBatch = 64;
constexpr int kSteps = 200;
constexpr int kDefaultReplays = 5;
constexpr int32_t kReset = -1;

struct Batch {
  explicit Batch(const stencil::CompiledGrammar& grammar) {
    for (int i = 0; i < kBatch; ++i) matchers.emplace_back(grammar);
    for (auto& m : matchers) ptrs.push_back(&m);
  }
  std::vector<stencil::Matcher> matchers;
  std::vector<stencil::Matcher*> ptrs;
};

// The walk, untimed: per step, the token each row accepts (kReset: the row restarts).
std::vector<std::vector<int32_t>> record_walk(const stencil::CompiledGrammar& grammar, stencil::BatchFiller& filler) {
  const stencil::Vocabulary& vocab = grammar.vocabulary();
  const int32_t words = stencil::bitmask_words(vocab.size());
  Batch batch(grammar);
  std::vector<uint32_t> masks(static_cast<size_t>(kBatch) * words);
  std::vector<std::vector<int32_t>> actions;
  for (int step = 0; step < kSteps; ++step) {
    filler.fill(batch.ptrs, masks, words);
    std::vector<int32_t>& chosen = actions.emplace_back();
    for (int i = 0; i < kBatch; ++i) {
      std::vector<int32_t> allowed;
      const uint32_t* row = masks.data() + static_cast<size_t>(i) * words;
      for (int32_t t = 0; t < vocab.size(); ++t) {
        if ((row[t >> 5] >> (t & 31)) & 1u && !vocab.is_eos(t)) allowed.push_back(t);
      }
      if (allowed.empty()) {
        chosen.push_back(kReset);
        batch.matchers[i].reset();
        continue;
      }
      const int64_t pick = (static_cast<int64_t>(i) * 7919 + static_cast<int64_t>(step) * 104729) %
                           static_cast<int64_t>(allowed.size());
      chosen.push_back(allowed[static_cast<size_t>(pick)]);
      batch.matchers[i].accept_token(chosen.back());
    }
  }
  return actions;
}

// Replays the recorded walk; returns each step's fill time in microseconds.
std::vector<double> replay(const stencil::CompiledGrammar& grammar, stencil::BatchFiller& filler,
                           const std::vector<std::vector<int32_t>>& actions) {
  const int32_t words = stencil::bitmask_words(grammar.vocabulary().size());
  Batch batch(grammar);
  std::vector<uint32_t> masks(static_cast<size_t>(kBatch) * words);
  std::vector<double> times;
  for (const std::vector<int32_t>& chosen : actions) {
    const auto t0 = std::chrono::steady_clock::now();
    filler.fill(batch.ptrs, masks, words);
    times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    for (int i = 0; i < kBatch; ++i) {
      if (chosen[i] == kReset) {
        batch.matchers[i].reset();
      } else {
        batch.matchers[i].accept_token(chosen[i]);
      }
    }
  }
  return times;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: batch_fill_bench TOKENIZER SCHEMA [THREADS...] [--replays N]\n");
    return 2;
  }
  std::ifstream in(argv[2]);
  std::stringstream schema;
  schema << in.rdbuf();
  stencil::Compiler compiler(stencil::Vocabulary::from_file(argv[1]));
  const stencil::CompiledGrammar grammar = compiler.compile_json_schema(schema.str());
  std::vector<int> thread_counts;
  int replays = kDefaultReplays;
  for (int a = 3; a < argc; ++a) {
    if (std::string(argv[a]) == "--replays" && a + 1 < argc) {
      replays = std::max(1, std::atoi(argv[++a]));
    } else {
      thread_counts.push_back(std::atoi(argv[a]));
    }
  }
  if (thread_counts.empty()) thread_counts = {1, 2};
  for (int threads : thread_counts) {
    stencil::BatchFiller filler(threads);
    const std::vector<std::vector<int32_t>> actions = record_walk(grammar, filler);  // pays first visits too
    int64_t token_sum = 0;  // printed so that a run can be checked to walk the Python script's path
    for (const auto& chosen : actions) {
      for (int32_t t : chosen) token_sum += t;
    }
    std::vector<double> times;
    for (int r = 0; r < replays; ++r) {
      const std::vector<double> pass = replay(grammar, filler, actions);
      times.insert(times.end(), pass.begin(), pass.end());
    }
    double sum = 0;
    for (double t : times) sum += t;
    std::sort(times.begin(), times.end());
    std::printf("c++    batch %d, threads %d: batch fill min %6.1f us, p50 %6.1f us, mean %6.1f us, p99 %6.1f us (%zu fills)\n",
                kBatch, threads, times.front(), times[times.size() / 2], sum / times.size(),
                times[times.size() * 99 / 100], times.size());
    std::printf("c++    walk token sum %lld\n", static_cast<long long>(token_sum));
  }
  return 0;
}
