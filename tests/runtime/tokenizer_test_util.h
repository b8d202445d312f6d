// Helpers for the runtime tokenizer tests: where the data lives, and loading a tokenizer once per
// test binary (the big tokenizer.json files take a second or more to parse).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "stencil/runtime/tokenizer.h"

namespace stencil::testing {

inline std::string data_dir() { return STENCIL_DATA_DIR; }
inline std::string shared_dir() { return STENCIL_SHARED_DIR; }

// Path of a named tokenizer source, or "" if its file is absent:
//   "<name>" -> data/tokenizers/<name>/tokenizer.json
//   "<name>.gguf" for the GGUF vocab files of llama2 / gpt2, "stories260k" for the shared model.
inline std::string tokenizer_path(const std::string& source) {
  std::string path;
  if (source == "stories260k") {
    path = shared_dir() + "/models/stories260K/stories260K-f32.gguf";
  } else if (source == "llama2.gguf") {
    path = data_dir() + "/tokenizers/llama2/ggml-vocab-llama-spm.gguf";
  } else if (source == "gpt2.gguf") {
    path = data_dir() + "/tokenizers/gpt2/ggml-vocab-gpt-2.gguf";
  } else {
    path = data_dir() + "/tokenizers/" + source + "/tokenizer.json";
  }
  return std::filesystem::exists(path) ? path : std::string();
}

// Loads (once per process) the tokenizer for `source`; nullptr if its file is absent.
inline const Tokenizer* load_tokenizer(const std::string& source) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(source);
  if (it != cache.end()) return it->second.get();
  const std::string path = tokenizer_path(source);
  std::unique_ptr<Tokenizer> t;
  if (!path.empty()) t = std::make_unique<Tokenizer>(Tokenizer::from_file(path));
  return cache.emplace(source, std::move(t)).first->second.get();
}

#define STENCIL_LOAD_TOKENIZER_OR_SKIP(var, source)                                                      \
  const ::stencil::Tokenizer* var = ::stencil::testing::load_tokenizer(source);                          \
  if (var == nullptr) {                                                                                  \
    GTEST_SKIP() << "tokenizer data for " << (source) << " is absent (run scripts/prepare-data BUILD_DIR)"; \
  }

}  // namespace stencil::testing
