// compile_benchmark: the one-time costs with the Llama-3 vocabulary (128,256 ids).
//   BM_VocabularyLoad       tokenizer.json -> Vocabulary
//   BM_CompilerSetup        Compiler construction (the vocabulary sorted into a trie)
//   BM_CompileBuiltinJson/<whitespace>   compile_builtin_json() under each whitespace policy
//   BM_CompileSchema        examples/schemas/weather.json
//   BM_CompileGrammar/<file>  each grammars/*.gbnf
// Run: build/bench/compile_benchmark. "Time" is wall clock; "CPU" is the process's CPU time
// (all threads: the mask cache is built on a pool of hardware_concurrency threads), which a
// busy machine does not inflate.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

#include "bench_data.h"
#include "stencil/stencil.h"

namespace {

using stencil::bench::llama3_compiler;
using stencil::bench::llama3_vocab;
using stencil::bench::missing_data_message;
using stencil::bench::tokenizer_path;

std::string read_source_file(const std::string& rel) {
  std::ifstream in(std::string(STENCIL_SOURCE_DIR) + "/" + rel, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void BM_VocabularyLoad(benchmark::State& state) {
  if (llama3_vocab() == nullptr) {
    state.SkipWithError(missing_data_message().c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(stencil::Vocabulary::from_file(tokenizer_path()).size());
}
BENCHMARK(BM_VocabularyLoad)->Unit(benchmark::kMillisecond)->Iterations(5)->MeasureProcessCPUTime()->UseRealTime();

void BM_CompilerSetup(benchmark::State& state) {
  const stencil::Vocabulary* v = llama3_vocab();
  if (v == nullptr) {
    state.SkipWithError(missing_data_message().c_str());
    return;
  }
  for (auto _ : state) {
    stencil::Compiler c(*v);
    benchmark::DoNotOptimize(&c);
  }
}
BENCHMARK(BM_CompilerSetup)->Unit(benchmark::kMillisecond)->Iterations(5)->MeasureProcessCPUTime()->UseRealTime();

void BM_CompileBuiltinJson(benchmark::State& state) {
  const stencil::Vocabulary* v = llama3_vocab();
  if (v == nullptr) {
    state.SkipWithError(missing_data_message().c_str());
    return;
  }
  static const char* const kNames[] = {"compact", "pretty", "flexible"};
  stencil::CompileOptions options;
  options.json.whitespace = static_cast<stencil::WhitespacePolicy>(state.range(0));
  state.SetLabel(kNames[state.range(0)]);
  stencil::Compiler compiler(*v, options);
  for (auto _ : state) benchmark::DoNotOptimize(compiler.compile_builtin_json().stats().rules);
}
BENCHMARK(BM_CompileBuiltinJson)
    ->DenseRange(0, 2)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

void BM_CompileSchema(benchmark::State& state) {
  const stencil::Compiler* c = llama3_compiler();
  if (c == nullptr) {
    state.SkipWithError(missing_data_message().c_str());
    return;
  }
  const std::string schema = read_source_file("examples/schemas/weather.json");
  for (auto _ : state) benchmark::DoNotOptimize(c->compile_json_schema(schema).stats().rules);
}
BENCHMARK(BM_CompileSchema)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

const char* const kGrammars[] = {"json", "arithmetic", "csv_row", "function_call", "list", "yes_no", "chess"};

void BM_CompileGrammar(benchmark::State& state) {
  const stencil::Compiler* c = llama3_compiler();
  if (c == nullptr) {
    state.SkipWithError(missing_data_message().c_str());
    return;
  }
  const std::string name = kGrammars[state.range(0)];
  state.SetLabel(name);
  const std::string text = read_source_file("grammars/" + name + ".gbnf");
  for (auto _ : state) benchmark::DoNotOptimize(c->compile_grammar(text).stats().rules);
}
BENCHMARK(BM_CompileGrammar)
    ->DenseRange(0, std::size(kGrammars) - 1)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
