// Where the benchmark programs find their data: the Llama-3 tokenizer decompressed by
// scripts/prepare-data into <build>/data (STENCIL_DATA_DIR), or the file named by the
// STENCIL_TOKENIZER environment variable. Loaded once per process and shared.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "stencil/compiler.h"
#include "stencil/vocabulary.h"

namespace stencil::bench {

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
