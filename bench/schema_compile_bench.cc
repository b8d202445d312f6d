// schema_compile_bench: compile time of every JSONSchemaBench schema with the Llama-3 vocabulary.
//
//   build/bench/schema_compile_bench [--limit N] [--every K] [--subset NAME] [--slowest K] [--trace] [--errors] [FILE.jsonl]
//
// FILE defaults to <build>/data/datasets/jsonschemabench/jsb_dev.jsonl (scripts/prepare-data).
// Each line's "schema" is compiled once with Compiler::compile_json_schema (default options);
// vocabulary load and Compiler set-up are done once and not counted. Times are the process's
// CPU time per compile (all threads: eager mask states are computed on a pool), which a loaded
// machine does not inflate, and wall time beside it. Prints per subset: compiled / rejected,
// CPU p50 / p90 / p99 / max, and the slowest schemas overall with their automaton sizes.
// --trace prints each schema's id to stderr before compiling it (to find one that hangs or crashes);
// --errors prints each rejected schema's id and error message to stderr.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_data.h"
#include "stencil/stencil.h"

namespace {

using stencil::bench::percentile;
using stencil::bench::process_cpu_us;

struct Row {
  std::string id, subset;
  double cpu_ms = 0, wall_ms = 0;
  int32_t states = 0, scanning = 0;
};

void print_line(const char* name, int compiled, int rejected, const std::vector<double>& ms) {
  std::printf("%-28s %6d %6d %9.2f %9.2f %9.2f %9.2f\n", name, compiled, rejected, percentile(ms, 0.5),
              percentile(ms, 0.9), percentile(ms, 0.99), ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()));
}

}  // namespace

int main(int argc, char** argv) {
  std::string file = std::string(STENCIL_DATA_DIR) + "/datasets/jsonschemabench/jsb_dev.jsonl";
  long limit = -1, every = 1, slowest = 15;
  bool trace = false, errors = false;
  std::string only_subset;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--limit" && i + 1 < argc) {
      limit = std::atol(argv[++i]);
    } else if (arg == "--every" && i + 1 < argc) {
      every = std::max(1L, std::atol(argv[++i]));
    } else if (arg == "--subset" && i + 1 < argc) {
      only_subset = argv[++i];
    } else if (arg == "--slowest" && i + 1 < argc) {
      slowest = std::atol(argv[++i]);
    } else if (arg == "--trace") {
      trace = true;
    } else if (arg == "--errors") {
      errors = true;
    } else if (!arg.empty() && arg[0] != '-') {
      file = arg;
    } else {
      std::fprintf(stderr, "usage: %s [--limit N] [--every K] [--subset NAME] [--slowest K] [--trace] [--errors] [FILE.jsonl]\n",
                   argv[0]);
      return 2;
    }
  }
  const stencil::Compiler* compiler = stencil::bench::llama3_compiler();
  if (compiler == nullptr) {
    std::fprintf(stderr, "%s\n", stencil::bench::missing_data_message().c_str());
    return 1;
  }
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "cannot read %s (run scripts/prepare-data BUILD)\n", file.c_str());
    return 1;
  }
  std::vector<Row> rows;
  std::map<std::string, std::pair<int, int>> counts;  // subset -> (compiled, rejected)
  std::string line;
  long index = -1, taken = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++index;
    if (index % every != 0) continue;
    if (limit >= 0 && taken >= limit) break;
    const nlohmann::json j = nlohmann::json::parse(line);
    const std::string subset = j.value("subset", std::string("?"));
    if (!only_subset.empty() && subset != only_subset) continue;
    ++taken;
    const std::string schema = j.at("schema").dump();
    if (trace) std::fprintf(stderr, "%s %s\n", subset.c_str(), j.value("id", std::string("?")).c_str());
    const double c0 = process_cpu_us() / 1e3;
    const auto w0 = std::chrono::steady_clock::now();
    try {
      stencil::CompiledGrammar g = compiler->compile_json_schema(schema);
      const double cpu = process_cpu_us() / 1e3 - c0;
      const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count();
      rows.push_back({j.value("id", std::string("?")), subset, cpu, wall, g.stats().automaton_states,
                      g.stats().scanning_states});
      ++counts[subset].first;
    } catch (const stencil::Error& e) {
      ++counts[subset].second;
      if (errors) std::fprintf(stderr, "%s %s: %s\n", subset.c_str(), j.value("id", std::string("?")).c_str(), e.what());
    }
  }
  std::map<std::string, std::vector<double>> by_subset;
  std::vector<double> all, all_wall;
  for (const Row& r : rows) {
    by_subset[r.subset].push_back(r.cpu_ms);
    all.push_back(r.cpu_ms);
    all_wall.push_back(r.wall_ms);
  }
  std::printf("compile CPU ms per schema (%s)\n", file.c_str());
  std::printf("%-28s %6s %6s %9s %9s %9s %9s\n", "subset", "ok", "reject", "p50", "p90", "p99", "max");
  int total_ok = 0, total_rej = 0;
  for (const auto& [name, c] : counts) {
    print_line(name.c_str(), c.first, c.second, by_subset[name]);
    total_ok += c.first;
    total_rej += c.second;
  }
  print_line("all (CPU)", total_ok, total_rej, all);
  print_line("all (wall)", total_ok, total_rej, all_wall);
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.cpu_ms > b.cpu_ms; });
  std::printf("\nslowest (CPU ms, wall ms, automaton states, scanning states)\n");
  for (long i = 0; i < slowest && i < static_cast<long>(rows.size()); ++i) {
    const Row& r = rows[static_cast<size_t>(i)];
    std::printf("  %-40s %9.2f %9.2f %8d %8d\n", r.id.c_str(), r.cpu_ms, r.wall_ms, r.states, r.scanning);
  }
  return 0;
}
