// `stencil bench`: the dataset benchmark. Loads the vocabulary (timed), compiles the
// constraint (timed, --compile-runs times), then walks every instance of a JSON-lines
// file token by token with the real tokenization: each fill_next_token_bitmask is timed
// with steady_clock, then the token is accepted; after the last token one more fill
// (the step where EOS must be allowed) is timed too. Prints mask µs mean/p50/p99/max,
// compile ms and token counts; --output json prints one object.
//
// Instances: for --schema and --json each line is a JSON document, walked exactly as
// written on the line; for --grammar and --regex each line is a JSON string literal
// holding the text (what `stencil sample` prints). Instances that do not match are
// counted as rejected; their timings up to the rejection are kept.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/constraint.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"

namespace stencil::cli {
namespace {

constexpr const char* kHelp =
    "usage: stencil bench CONSTRAINT --tokenizer T --instances FILE.jsonl [--output json]\n"
    "                     [--compile-runs N] [--max-instances N]\n"
    "\n"
    "Walks each instance token by token (the tokenizer's own tokenization), timing every\n"
    "next-token mask, and prints mask microseconds (mean, p50, p99, max), compile\n"
    "milliseconds, vocabulary load milliseconds and the number of tokens.\n"
    "Instances are JSON lines: for --schema/--json one document per line (walked as\n"
    "written); for --grammar/--regex one JSON string literal per line (as `stencil sample`\n"
    "prints them).\n"
    "\n"
    "constraint: --schema FILE | --grammar FILE | --regex PATTERN | --json\n"
    "            [--no-strict] [--lenient] [--whitespace compact|pretty|flexible]\n"
    "options:\n"
    "  --tokenizer T        tokenizer.json or GGUF file (required)\n"
    "  --instances FILE     JSON lines (required)\n"
    "  --output json        print one object {mask_us, accept_us, compile_ms, tokens, ...}\n"
    "  --compile-runs N     compile the constraint N times for the compile figures (default 3)\n"
    "  --max-instances N    stop after N instances (default: all)\n"
    "  --repeat K           time each mask K times and keep the fastest (default 1); filling does\n"
    "                       not change the matcher, so K > 1 filters out preemption on a busy machine\n";

struct Summary {
  double mean = 0, p50 = 0, p99 = 0, max = 0;
  nlohmann::json to_json() const { return {{"mean", mean}, {"p50", p50}, {"p99", p99}, {"max", max}}; }
};

// Nearest-rank percentiles over a copy of the samples.
Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
  };
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = v.back();
  return s;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int run(const ParsedArgs& a) {
  require_constraint(a);
  auto tokenizer_path = a.value("--tokenizer");
  if (!tokenizer_path) throw UsageError("--tokenizer is required");
  auto instances_path = a.value("--instances");
  if (!instances_path) throw UsageError("--instances is required");
  const std::string format = a.value("--output").value_or("text");
  if (format != "text" && format != "json") throw UsageError("--output expects json or text, got '" + format + "'");
  const int64_t compile_runs = a.int_value("--compile-runs", 3, 1, 1000);
  const int64_t max_instances = a.int_value("--max-instances", INT64_MAX, 1, INT64_MAX);
  const int64_t repeat = a.int_value("--repeat", 1, 1, 1000);
  const bool documents = a.constraint.kind == ConstraintKind::kSchema || a.constraint.kind == ConstraintKind::kJson;

  // Read the instances first: a bad file is an input error before any timing.
  std::vector<std::string> texts;
  {
    std::istringstream in(read_file(*instances_path));
    std::string line;
    int64_t line_no = 0;
    while (std::getline(in, line) && static_cast<int64_t>(texts.size()) < max_instances) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      if (documents) {
        texts.push_back(line);
        continue;
      }
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_string()) {
        throw Error("expected a JSON string literal per line (the text to walk)",
                    *instances_path + ":" + std::to_string(line_no));
      }
      texts.push_back(j.get<std::string>());
    }
  }

  auto t0 = std::chrono::steady_clock::now();
  Vocabulary vocab = load_vocabulary(*tokenizer_path);
  const double vocab_load_ms = ms_since(t0);
  t0 = std::chrono::steady_clock::now();
  auto tokenizer = make_text_tokenizer(*tokenizer_path, vocab);
  const double tokenizer_load_ms = ms_since(t0);
  if (!tokenizer->is_real()) {
    std::fprintf(stderr,
                 "stencil bench: note: this build has no tokenizer; instances are tokenized by greedy "
                 "longest match over the vocabulary, not as the model would\n");
  }
  t0 = std::chrono::steady_clock::now();
  Compiler compiler = make_compiler(vocab, a.constraint);
  const double compiler_setup_ms = ms_since(t0);
  // Wall time from the compiler's stats, and the process CPU time of all runs (all threads: the
  // mask cache is built on a pool), which a busy machine does not inflate.
  std::vector<double> compile_ms;
  const std::clock_t cpu0 = std::clock();
  CompiledGrammar g = compile_constraint(compiler, a.constraint);
  compile_ms.push_back(g.stats().compile_ms);
  for (int64_t i = 1; i < compile_runs; ++i)
    compile_ms.push_back(compile_constraint(compiler, a.constraint).stats().compile_ms);
  const double compile_cpu_ms =
      1000.0 * static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC / static_cast<double>(compile_runs);

  std::vector<double> mask_us, accept_us;
  TokenBitmask mask(vocab.size());
  int64_t tokens = 0, rejected = 0;
  Matcher m(g);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<int32_t> ids = tokenizer->encode(texts[i]);
    m.reset();
    bool ok = true;
    for (size_t k = 0; k <= ids.size(); ++k) {
      double best = 0;
      for (int64_t r = 0; r < repeat; ++r) {
        const auto f0 = std::chrono::steady_clock::now();
        m.fill_next_token_bitmask(mask);
        const auto f1 = std::chrono::steady_clock::now();
        const double us = std::chrono::duration<double, std::micro>(f1 - f0).count();
        best = r == 0 ? us : std::min(best, us);
      }
      mask_us.push_back(best);
      if (k == ids.size()) {
        bool eos = false;
        for (int32_t e : vocab.eos_ids()) eos = eos || mask.allowed(e);
        ok = eos || vocab.eos_ids().empty();
        if (!ok) std::fprintf(stderr, "stencil bench: instance %zu: EOS not allowed at the end\n", i + 1);
        break;
      }
      const int32_t id = ids[k];
      if (id < 0 || id >= vocab.size() || !mask.allowed(id)) {
        std::fprintf(stderr, "stencil bench: instance %zu: token %zu (id %d) not allowed; skipping the rest\n", i + 1,
                     k + 1, id);
        ok = false;
        break;
      }
      const auto a0 = std::chrono::steady_clock::now();
      const bool accepted = m.accept_token(id);
      accept_us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a0).count());
      if (!accepted) {
        std::fprintf(stderr, "stencil bench: instance %zu: token %zu (id %d) in the mask but not accepted\n", i + 1,
                     k + 1, id);
        ok = false;
        break;
      }
      ++tokens;
    }
    if (!ok) ++rejected;
  }

  int64_t over_50us = 0, over_1ms = 0;
  for (double us : mask_us) {
    over_50us += us > 50.0;
    over_1ms += us > 1000.0;
  }
  const Summary mask_s = summarize(mask_us), accept_s = summarize(accept_us), compile_s = summarize(compile_ms);
  if (format == "json") {
    nlohmann::json out = {{"mask_us", mask_s.to_json()},
                          {"accept_us", accept_s.to_json()},
                          {"compile_ms", compile_s.to_json()},
                          {"compile_cpu_ms", compile_cpu_ms},
                          {"tokens", tokens},
                          {"masks_over_50us", over_50us},
                          {"masks_over_1ms", over_1ms},
                          {"repeat", repeat},
                          {"masks", mask_us.size()},
                          {"instances", texts.size()},
                          {"rejected", rejected},
                          {"vocab_load_ms", vocab_load_ms},
                          {"tokenizer_load_ms", tokenizer_load_ms},
                          {"compiler_setup_ms", compiler_setup_ms},
                          {"vocab_size", vocab.size()},
                          {"real_tokenizer", tokenizer->is_real()}};
    std::cout << out.dump() << "\n";
  } else {
    std::printf("instances:          %zu (%lld rejected)\n", texts.size(), static_cast<long long>(rejected));
    std::printf("tokens:             %lld (%zu masks, one more per instance for EOS)\n", static_cast<long long>(tokens),
                mask_us.size());
    std::printf("mask us:            mean %.2f  p50 %.2f  p99 %.2f  max %.2f\n", mask_s.mean, mask_s.p50, mask_s.p99,
                mask_s.max);
    std::printf("masks over 50 us:   %lld; over 1 ms: %lld%s\n", static_cast<long long>(over_50us),
                static_cast<long long>(over_1ms), repeat > 1 ? " (fastest of --repeat runs each)" : "");
    std::printf("accept us:          mean %.2f  p50 %.2f  p99 %.2f  max %.2f\n", accept_s.mean, accept_s.p50,
                accept_s.p99, accept_s.max);
    std::printf("compile ms:         mean %.2f  p50 %.2f  max %.2f  (%lld runs; CPU time %.2f ms per run)\n",
                compile_s.mean, compile_s.p50, compile_s.max, static_cast<long long>(compile_runs), compile_cpu_ms);
    std::printf("vocabulary load ms: %.1f (%d ids)\n", vocab_load_ms, vocab.size());
    std::printf("tokenizer load ms:  %.1f\n", tokenizer_load_ms);
    std::printf("compiler setup ms:  %.1f (vocabulary sorted into a trie)\n", compiler_setup_ms);
  }
  return rejected == 0 ? 0 : 1;
}

}  // namespace

const Command& bench_command() {
  static const Command c{
      "bench", "time next-token masks over a JSON-lines file of instances", kHelp,
      CommandSpec{
          {"--tokenizer", "--instances", "--output", "--compile-runs", "--max-instances", "--repeat"}, {}, 0, true},
      run};
  return c;
}

}  // namespace stencil::cli
