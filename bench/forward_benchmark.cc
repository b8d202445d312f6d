// forward_benchmark: the runtime's forward-pass throughput, measured the way llama-bench does, so the
// figures compare with ../shared/models/reference/speed.md.
//
//   forward_benchmark MODEL [--threads N] [--pp 128] [--tg 128] [--reps 5] [--isa scalar|avx2|avx512]
//                     [--device cpu|cuda|cuda:N]
//
// pp N: N random tokens evaluated as one batch in a fresh session (prompt processing), tokens/s.
// tg N: N tokens evaluated one at a time after a 1-token start (decode), tokens/s; includes the logits
// computation but no sampling. Prints the median and [min-max] over --reps runs, after one warm-up run.
// Does not tokenize, sample or apply a grammar. --device picks the backend (ModelOptions::backend); with
// cuda each step includes copying the logits back to the host, as stencil generate does.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "stencil/errors.h"
#include "stencil/runtime/model.h"

namespace {

// Process CPU time (all threads): on a shared machine, tokens per CPU-second of a 1-thread run show
// the kernel speed even when other processes take the cores.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Stats {
  double median, min, max;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [--threads N] [--pp N] [--tg N] [--reps N] [--isa scalar|avx2|avx512] [--device cpu|cuda|cuda:N]\n", argv[0]);
    return 2;
  }
  std::string path = argv[1];
  std::string device = "cpu";
  int threads = 1, pp = 128, tg = 128, reps = 5;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--threads") threads = std::atoi(argv[i + 1]);
    else if (a == "--pp") pp = std::atoi(argv[i + 1]);
    else if (a == "--tg") tg = std::atoi(argv[i + 1]);
    else if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else if (a == "--isa") setenv("STENCIL_CPU_ISA", argv[i + 1], 1);
    else if (a == "--device") device = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  try {
    const auto t0 = std::chrono::steady_clock::now();
    const stencil::Model model = stencil::Model::load(path, stencil::ModelOptions{.threads = threads, .backend = device});
    const double load_s = seconds_since(t0);
    const stencil::ModelInfo& info = model.info();
    std::printf("model %s: %s %s, %d layers, n_embd %d, vocab %d, %.1f M params, %s weights, %.1f MB\n", path.c_str(),
                info.format.c_str(), info.architecture.c_str(), info.n_layers, info.n_embd, info.n_vocab,
                info.n_params / 1e6, info.weight_type.c_str(), info.file_bytes / 1e6);
    std::printf("backend %s, load %.3f s\n", info.backend.c_str(), load_s);

    std::vector<int32_t> tokens(std::max(pp, 1));
    uint32_t s = 1;
    for (int32_t& t : tokens) t = static_cast<int32_t>((s = s * 1664525u + 1013904223u) >> 8) % info.n_vocab;
    const int32_t ctx = std::max(pp, tg + 1) + 8;
    std::vector<double> pp_rate, tg_rate, pp_cpu, tg_cpu;
    for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up
      if (pp > 0) {
        stencil::Session session(model, stencil::SessionOptions{.context_length = ctx});
        const auto t = std::chrono::steady_clock::now();
        const double c = cpu_seconds();
        session.eval(tokens);
        if (rep) pp_rate.push_back(pp / seconds_since(t)), pp_cpu.push_back(pp / (cpu_seconds() - c));
      }
      if (tg > 0) {
        stencil::Session session(model, stencil::SessionOptions{.context_length = ctx});
        int32_t tok = tokens[0];
        session.eval({&tok, 1});
        const auto t = std::chrono::steady_clock::now();
        const double c = cpu_seconds();
        for (int i = 0; i < tg; ++i) {
          std::span<const float> logits = session.eval({&tok, 1});
          tok = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        }
        if (rep) tg_rate.push_back(tg / seconds_since(t)), tg_cpu.push_back(tg / (cpu_seconds() - c));
      }
    }
    if (pp > 0) {
      const Stats st = stats(pp_rate), sc = stats(pp_cpu);
      std::printf("pp%-4d %10.1f tok/s  [%.1f - %.1f]   per CPU-second %.1f\n", pp, st.median, st.min, st.max, sc.median);
    }
    if (tg > 0) {
      const Stats st = stats(tg_rate), sc = stats(tg_cpu);
      std::printf("tg%-4d %10.1f tok/s  [%.1f - %.1f]   per CPU-second %.1f\n", tg, st.median, st.min, st.max, sc.median);
    }
  } catch (const stencil::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
