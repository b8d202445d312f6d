// Where the benchmark programs find their data: the Llama-3 tokenizer decompressed by
// scripts/prepare-data into <build>/data (STENCIL_DATA_DIR), or the file named by the
// STENCIL_TOKENIZER environment variable. Loaded once per process and shared. Also the
// small measuring helpers the plain bench programs share.
#pragma once

#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "stencil/compiler.h"
#include "stencil/vocabulary.h"

namespace stencil::bench {

// This process's CPU time (all threads), in microseconds: waiting for a core does not count, so
// figures taken on a loaded machine stay comparable.
inline double process_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) * 1e-3;
}

// The p-quantile (0..1) of v by nearest rank; 0 for an empty v.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

inline std::string tokenizer_path() {
  if (const char* env = std::getenv("STENCIL_TOKENIZER"); env != nullptr && *env != '\0') return env;
  return std::string(STENCIL_DATA_DIR) + "/tokenizers/llama3/tokenizer.json";
}

// The Llama-3 vocabulary, or nullptr when the file is absent (benchmarks then SkipWithError).
inline const Vocabulary* llama3_vocab() {
  static const std::unique_ptr<Vocabulary> vocab = []() -> std::unique_ptr<Vocabulary> {
    const std::string path = tokenizer_path();
    if (!std::filesystem::exists(path)) return nullptr;
    return std::make_unique<Vocabulary>(Vocabulary::from_file(path));
  }();
  return vocab.get();
}

inline const Compiler* llama3_compiler() {
  static const std::unique_ptr<Compiler> compiler = []() -> std::unique_ptr<Compiler> {
    const Vocabulary* v = llama3_vocab();
    return v == nullptr ? nullptr : std::make_unique<Compiler>(*v);
  }();
  return compiler.get();
}

inline std::string missing_data_message() {
  return tokenizer_path() + " is missing: run scripts/prepare-data BUILD or set STENCIL_TOKENIZER";
}

}  // namespace stencil::bench
