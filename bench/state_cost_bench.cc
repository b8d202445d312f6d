// state_cost_bench: the first-visit cost of every scanning state of one schema's grammar, slowest
// first — where a schema's slow first masks come from. Each state's mask entry is computed once on
// a fresh compile, in state order (so entries shared or derived from an earlier state are cheap).
//
//   build/bench/state_cost_bench TOKENIZER SCHEMA.json [SHOW]
//
// Prints the compile time, the sum over states, and the SHOW (default 10) slowest states with the
// automaton's description of each. Wall-clock microseconds; for numbers that do not depend on the
// machine's load, count instructions instead:
//   valgrind --tool=callgrind --toggle-collect='stencil::engine::MaskCache::compute*'
//       build/bench/state_cost_bench TOKENIZER SCHEMA.json 0      (one command line)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/compiled_grammar_impl.h"
#include "stencil/stencil.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: state_cost_bench TOKENIZER SCHEMA.json [SHOW]\n");
    return 2;
  }
  using clock = std::chrono::steady_clock;
  stencil::Vocabulary vocab = stencil::Vocabulary::from_file(argv[1]);
  std::ifstream in(argv[2], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "state_cost_bench: cannot read %s\n", argv[2]);
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  const int show = argc > 3 ? std::atoi(argv[3]) : 10;
  stencil::Compiler compiler(vocab);
  const auto t0 = clock::now();
  stencil::CompiledGrammar g = compiler.compile_json_schema(text.str());
  const auto t1 = clock::now();
  const stencil::engine::Automaton& a = g.impl().automaton;
  std::vector<std::pair<double, int32_t>> cost;
  for (int32_t s = 0; s < static_cast<int32_t>(a.states.size()); ++s) {
    if (!a.has_bytes(s)) continue;
    const auto c0 = clock::now();
    (void)g.impl().masks->entry(s);
    cost.emplace_back(std::chrono::duration<double, std::micro>(clock::now() - c0).count(), s);
  }
  double total = 0;
  for (const auto& c : cost) total += c.first;
  std::sort(cost.rbegin(), cost.rend());
  std::printf("compile %.2f ms, %zu states, first visits of %zu scanning states %.1f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(), a.states.size(), cost.size(), total / 1000);
  std::vector<std::string> lines;
  std::stringstream described(stencil::engine::describe(a));
  for (std::string line; std::getline(described, line);) lines.push_back(line);
  for (int i = 0; i < show && i < static_cast<int>(cost.size()); ++i) {
    std::printf("%10.1f us  %.200s\n", cost[static_cast<size_t>(i)].first, lines[static_cast<size_t>(cost[static_cast<size_t>(i)].second)].c_str());
  }
  return 0;
}
