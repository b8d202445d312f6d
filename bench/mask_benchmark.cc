// mask_benchmark: the per-token hot paths with the Llama-3 vocabulary (128,256 ids).
//   BM_FillMask/<state>   fill_next_token_bitmask in typical states of the builtin JSON grammar
//                         (start, inside a key, before a value, inside a number/string/literal,
//                         in an array, after the end), reached by accepting a prefix of bytes;
//   BM_FillMaskBudget     the same with the budget-aware overload (tokens_left = 64);
//   BM_ApplyTokenBitmask/<vocab size>  masking a float32 logit vector of 32k, 128k and 256k
//                         with a random mask (half the bits set: the worst case for branches);
//   BM_ApplyTokenBitmaskSparse/<vocab size>  the same with 1% of the bits set, like a JSON mask
//                         before a value (about 1.6k of 128k tokens allowed).
// Run: build/bench/mask_benchmark [--benchmark_filter=...]. Not a correctness test (see tests/engine).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench_data.h"
#include "stencil/stencil.h"

namespace {

using stencil::bench::llama3_compiler;
using stencil::bench::missing_data_message;

struct JsonState {
  const char* name;
  const char* prefix;  // bytes accepted from the start state
};

const JsonState kStates[] = {
    {"start", ""},
    {"object_key", "{\""},
    {"in_key", "{\"temperat"},
    {"before_value", "{\"a\": "},
    {"in_number", "{\"a\": 12"},
    {"in_fraction", "{\"a\": 12.5"},
    {"in_string", "{\"a\": \"the quick brown"},
    {"in_literal", "{\"a\": tr"},
    {"after_value", "{\"a\": 1"},
    {"array_value", "{\"a\": [1, "},
    {"nested", "{\"a\": [{\"b\": {\"c\": [[\""},
    {"after_end", "{\"a\": 1}"},
};

const stencil::CompiledGrammar* json_grammar() {
  static const std::unique_ptr<stencil::CompiledGrammar> g = []() -> std::unique_ptr<stencil::CompiledGrammar> {
    const stencil::Compiler* c = llama3_compiler();
    if (c == nullptr) return nullptr;
    return std::make_unique<stencil::CompiledGrammar>(c->compile_builtin_json());
  }();
  return g.get();
}

void fill_mask(benchmark::State& state, bool budget) {
  const stencil::CompiledGrammar* g = json_grammar();
  if (g == nullptr) {
    state.SkipWithError(missing_data_message().c_str());
    return;
  }
  const JsonState& s = kStates[state.range(0)];
  state.SetLabel(s.name);
  stencil::Matcher m(*g);
  if (!m.accept_bytes(s.prefix)) {
    state.SkipWithError("prefix not accepted by the JSON grammar");
    return;
  }
  stencil::TokenBitmask mask(g->vocabulary().size());
  for (auto _ : state) {
    if (budget) {
      m.fill_next_token_bitmask(std::span<uint32_t>(mask.words), 64);
    } else {
      m.fill_next_token_bitmask(mask);
    }
    benchmark::DoNotOptimize(mask.words.data());
    benchmark::ClobberMemory();
  }
  state.counters["allowed"] = mask.count_allowed();
}

void BM_FillMask(benchmark::State& state) { fill_mask(state, false); }
void BM_FillMaskBudget(benchmark::State& state) { fill_mask(state, true); }
BENCHMARK(BM_FillMask)->DenseRange(0, std::size(kStates) - 1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FillMaskBudget)->DenseRange(0, std::size(kStates) - 1)->Unit(benchmark::kMicrosecond);

void apply_mask(benchmark::State& state, bool sparse) {
  const int32_t n = static_cast<int32_t>(state.range(0));
  std::mt19937 rng(1);
  stencil::TokenBitmask mask(n);
  if (sparse) {
    for (int32_t id = 0; id < n; ++id) {
      if (rng() % 100 == 0) mask.words[static_cast<size_t>(id >> 5)] |= 1u << (id & 31);
    }
  } else {
    for (uint32_t& w : mask.words) w = rng();
  }
  std::vector<float> logits(static_cast<size_t>(n)), fresh(static_cast<size_t>(n));
  for (float& f : fresh) f = static_cast<float>(rng() % 1000) / 100.0f;
  for (auto _ : state) {
    state.PauseTiming();
    logits = fresh;  // apply is destructive; restore outside the timed region
    state.ResumeTiming();
    stencil::apply_token_bitmask(logits, mask);
    benchmark::DoNotOptimize(logits.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(n) * static_cast<int64_t>(sizeof(float)));
}
void BM_ApplyTokenBitmask(benchmark::State& state) { apply_mask(state, false); }
void BM_ApplyTokenBitmaskSparse(benchmark::State& state) { apply_mask(state, true); }
BENCHMARK(BM_ApplyTokenBitmask)->Arg(32000)->Arg(128256)->Arg(256000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ApplyTokenBitmaskSparse)->Arg(32000)->Arg(128256)->Arg(256000)->Unit(benchmark::kMicrosecond);

// Without restoring: the cost when the logits are already masked (steady state of a repeated apply).
void BM_ApplyTokenBitmaskInPlace(benchmark::State& state) {
  const int32_t n = static_cast<int32_t>(state.range(0));
  std::mt19937 rng(1);
  stencil::TokenBitmask mask(n);
  for (uint32_t& w : mask.words) w = rng();
  std::vector<float> logits(static_cast<size_t>(n), 1.0f);
  for (auto _ : state) {
    stencil::apply_token_bitmask(logits, mask);
    benchmark::DoNotOptimize(logits.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(n) * static_cast<int64_t>(sizeof(float)));
}
BENCHMARK(BM_ApplyTokenBitmaskInPlace)->Arg(32000)->Arg(128256)->Arg(256000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
