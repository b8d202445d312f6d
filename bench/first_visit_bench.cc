// first_visit_bench: compile time, and mask latency including first visits of new states, for
// one constraint with the Llama-3 vocabulary.
//
//   build/bench/first_visit_bench [--walks W] [--tokens T] [--seed S] (SCHEMA.json | --max-length N)
//
// Compiles the schema (or {"type":"string","maxLength":N}), then runs W random walks of at most
// T tokens on fresh Matchers of the one CompiledGrammar: each step fills the mask (timed, process
// CPU time and wall), picks a uniformly random allowed token and accepts it. Lazily computed
// mask entries are paid by the first fill that reaches their state, so the maximum is the
// first-visit cost. Prints compile CPU ms, automaton sizes, mask p50 / p99 / max (µs).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench_data.h"
#include "stencil/stencil.h"

namespace {

using stencil::bench::percentile;
using stencil::bench::process_cpu_us;

}  // namespace

int main(int argc, char** argv) {
  int walks = 20, tokens = 200;
  uint64_t seed = 1;
  std::string schema;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--walks" && i + 1 < argc) {
      walks = std::atoi(argv[++i]);
    } else if (arg == "--tokens" && i + 1 < argc) {
      tokens = std::atoi(argv[++i]);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--max-length" && i + 1 < argc) {
      schema = std::string(R"({"type":"string","maxLength":)") + argv[++i] + "}";
    } else if (!arg.empty() && arg[0] != '-') {
      std::ifstream in(arg, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      schema = ss.str();
    } else {
      std::fprintf(stderr, "usage: %s [--walks W] [--tokens T] [--seed S] (SCHEMA.json | --max-length N)\n", argv[0]);
      return 2;
    }
  }
  if (schema.empty()) schema = R"({"type":"string","maxLength":200})";
  const stencil::Compiler* compiler = stencil::bench::llama3_compiler();
  if (compiler == nullptr) {
    std::fprintf(stderr, "%s\n", stencil::bench::missing_data_message().c_str());
    return 1;
  }
  const double c0 = process_cpu_us();
  stencil::CompiledGrammar g = compiler->compile_json_schema(schema);
  const double compile_cpu_ms = (process_cpu_us() - c0) / 1e3;
  const stencil::CompileStats& st = g.stats();
  std::printf("compile: %.2f ms CPU (%.2f ms wall), %d automaton states, %d scanning, %d eager\n", compile_cpu_ms,
              st.compile_ms, st.automaton_states, st.scanning_states, st.cached_positions);
  std::mt19937_64 rng(seed);
  stencil::TokenBitmask mask(g.vocabulary().size());
  std::vector<double> cpu_us, wall_us;
  for (int w = 0; w < walks; ++w) {
    stencil::Matcher m(g);
    for (int t = 0; t < tokens && !m.is_terminated(); ++t) {
      const double u0 = process_cpu_us();
      const auto w0 = std::chrono::steady_clock::now();
      m.fill_next_token_bitmask(mask);
      wall_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - w0).count());
      cpu_us.push_back(process_cpu_us() - u0);
      const std::vector<int32_t> allowed = mask.allowed_ids();
      if (allowed.empty()) break;
      const int32_t pick = allowed[static_cast<size_t>(rng() % allowed.size())];
      if (!m.accept_token(pick)) {
        std::fprintf(stderr, "token %d allowed but not accepted\n", pick);
        return 1;
      }
    }
  }
  const auto over = [&](double limit) { return std::count_if(cpu_us.begin(), cpu_us.end(), [&](double x) { return x > limit; }); };
  std::printf("masks: %zu, CPU us p50 %.2f p99 %.2f max %.2f (wall p50 %.2f p99 %.2f max %.2f); over 50 us: %ld, over 1 ms: %ld\n",
              cpu_us.size(), percentile(cpu_us, 0.5), percentile(cpu_us, 0.99),
              cpu_us.empty() ? 0.0 : *std::max_element(cpu_us.begin(), cpu_us.end()), percentile(wall_us, 0.5),
              percentile(wall_us, 0.99), wall_us.empty() ? 0.0 : *std::max_element(wall_us.begin(), wall_us.end()),
              static_cast<long>(over(50)), static_cast<long>(over(1000)));
  std::printf("memory: %.1f MB after the walks\n", static_cast<double>(g.memory_bytes()) / 1e6);
  return 0;
}
