// schema_mask_bench: next-token mask latency while walking the valid instances that come with the
// JSONSchemaBench schemas (MaskBench), Llama-3 vocabulary and tokenizer.
//
//   build/bench/schema_mask_bench [--every K] [--subset NAME] [--slowest K] [FILE.jsonl]
//
// FILE defaults to <build>/data/datasets/jsonschemabench/jsb_dev.jsonl (scripts/prepare-data).
// Per schema: compile with the default options (strict, flexible whitespace), then walk each
// valid instance on a fresh Matcher of that one compiled grammar: compact, or with its keys in
// schema order when the grammar rejects the compact text (strict mode writes properties in
// schema order), tokenized by the real tokenizer, one fill per token plus the one that must allow
// EOS. Every fill is timed in thread CPU time (a busy machine does not inflate it) and wall time;
// first visits of lazily computed states are included, so the maximum is a first-visit cost.
// Prints per subset: instances walked / not accepted, masks, CPU µs p50 / p99 / max, and the
// slowest fills with their schema. Targets (issue 3): p50 ≤ 5 µs, p99 ≤ 50 µs, max ≤ 1 ms.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <optional>

#include "bench_data.h"
#include "instance_key_order.h"
#include "stencil/runtime/tokenizer.h"
#include "stencil/stencil.h"

namespace {

using stencil::bench::percentile;

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) * 1e-3;
}

struct Subset {
  long walked = 0, not_accepted = 0;
  std::vector<double> cpu_us;
};

struct SlowFill {
  double cpu_us;
  std::string id;
};

// Walks `ids` on a fresh matcher, appending each fill's CPU time. False if the grammar rejects them.
bool walk(const stencil::CompiledGrammar& g, const std::vector<int32_t>& ids, std::vector<double>& cpu_us,
          std::vector<double>& wall_us) {
  stencil::Matcher m(g);
  stencil::TokenBitmask mask(g.vocabulary().size());
  for (size_t k = 0; k <= ids.size(); ++k) {
    const double c0 = thread_cpu_us();
    const auto w0 = std::chrono::steady_clock::now();
    m.fill_next_token_bitmask(mask);
    wall_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - w0).count());
    cpu_us.push_back(thread_cpu_us() - c0);
    if (k == ids.size()) {
      for (int32_t e : g.vocabulary().eos_ids()) {
        if (mask.allowed(e)) return true;
      }
      return false;
    }
    if (!mask.allowed(ids[k]) || !m.accept_token(ids[k])) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string file = std::string(STENCIL_DATA_DIR) + "/datasets/jsonschemabench/jsb_dev.jsonl";
  long every = 1, slowest = 10;
  std::string only_subset;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--every" && i + 1 < argc) {
      every = std::max(1L, std::atol(argv[++i]));
    } else if (arg == "--subset" && i + 1 < argc) {
      only_subset = argv[++i];
    } else if (arg == "--slowest" && i + 1 < argc) {
      slowest = std::atol(argv[++i]);
    } else if (!arg.empty() && arg[0] != '-') {
      file = arg;
    } else {
      std::fprintf(stderr, "usage: %s [--every K] [--subset NAME] [--slowest K] [FILE.jsonl]\n", argv[0]);
      return 2;
    }
  }
  const stencil::Compiler* compiler = stencil::bench::llama3_compiler();
  if (compiler == nullptr) {
    std::fprintf(stderr, "%s\n", stencil::bench::missing_data_message().c_str());
    return 1;
  }
  const stencil::Tokenizer tokenizer = stencil::Tokenizer::from_file(stencil::bench::tokenizer_path());
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "cannot read %s (run scripts/prepare-data BUILD)\n", file.c_str());
    return 1;
  }
  std::map<std::string, Subset> subsets;
  std::vector<double> all_cpu, all_wall;
  std::vector<SlowFill> slow;
  long schemas = 0, index = -1;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || ++index % every != 0) continue;
    const nlohmann::ordered_json j = nlohmann::ordered_json::parse(line);
    const std::string subset = j.value("subset", std::string("?")), id = j.value("id", std::string("?"));
    if (!only_subset.empty() && subset != only_subset) continue;
    if (!j.contains("tests")) continue;
    std::vector<nlohmann::ordered_json> valid;
    for (const auto& t : j["tests"]) {
      if (t.value("valid", false)) valid.push_back(t["data"]);
    }
    if (valid.empty()) continue;
    std::optional<stencil::CompiledGrammar> g;
    try {
      g.emplace(compiler->compile_json_schema(j.at("schema").dump()));
    } catch (const stencil::Error&) {
      continue;  // schema_compile_bench reports what does not compile
    }
    ++schemas;
    std::map<std::string, size_t> order;
    stencil::testing::schema_key_order(j.at("schema"), order);
    Subset& s = subsets[subset];
    for (const auto& data : valid) {
      std::vector<double> cpu, wall;
      bool ok = walk(*g, tokenizer.encode(data.dump()), cpu, wall);
      if (!ok) {
        cpu.clear();
        wall.clear();
        ok = walk(*g, tokenizer.encode(stencil::testing::in_schema_order(data, order).dump()), cpu, wall);
      }
      if (!ok) {
        ++s.not_accepted;
        continue;  // strict mode: extra properties, or a format the grammar writes more narrowly
      }
      ++s.walked;
      for (double us : cpu) {
        if (us > 50) slow.push_back({us, id});
      }
      s.cpu_us.insert(s.cpu_us.end(), cpu.begin(), cpu.end());
      all_cpu.insert(all_cpu.end(), cpu.begin(), cpu.end());
      all_wall.insert(all_wall.end(), wall.begin(), wall.end());
    }
  }
  auto row = [](const char* name, long walked, long not_accepted, const std::vector<double>& us) {
    const auto over = [&](double limit) { return std::count_if(us.begin(), us.end(), [&](double x) { return x > limit; }); };
    std::printf("%-18s %8ld %8ld %9zu %8.2f %8.2f %9.1f %8ld %6ld\n", name, walked, not_accepted, us.size(), percentile(us, 0.5),
                percentile(us, 0.99), us.empty() ? 0.0 : *std::max_element(us.begin(), us.end()),
                static_cast<long>(over(50)), static_cast<long>(over(1000)));
  };
  std::printf("mask CPU us while walking valid instances (%s, %ld schemas)\n", file.c_str(), schemas);
  std::printf("%-18s %8s %8s %9s %8s %8s %9s %8s %6s\n", "subset", "walked", "rejected", "masks", "p50", "p99", "max",
              ">50us", ">1ms");
  long walked = 0, not_accepted = 0;
  for (const auto& [name, s] : subsets) {
    row(name.c_str(), s.walked, s.not_accepted, s.cpu_us);
    walked += s.walked;
    not_accepted += s.not_accepted;
  }
  row("all (CPU)", walked, not_accepted, all_cpu);
  row("all (wall)", walked, not_accepted, all_wall);
  std::sort(slow.begin(), slow.end(), [](const SlowFill& a, const SlowFill& b) { return a.cpu_us > b.cpu_us; });
  std::printf("\nslowest fills (CPU us, schema)\n");
  for (long i = 0; i < slowest && i < static_cast<long>(slow.size()); ++i) {
    std::printf("  %9.1f  %s\n", slow[static_cast<size_t>(i)].cpu_us, slow[static_cast<size_t>(i)].id.c_str());
  }
  return 0;
}
