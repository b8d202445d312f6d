// Helpers shared by the engine tests: the brute-force reference mask (every
// token's bytes tried on a fork of the matcher: the oracle for the fast,
// cache-based fill) and random walks over allowed tokens.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stencil/stencil.h"

namespace stencil::testing {

// A test case's grammar: its JSON Schema when it has one, else its GBNF.
inline CompiledGrammar compile_schema_or_grammar(const Compiler& compiler, const char* schema, const char* grammar) {
  return schema != nullptr ? compiler.compile_json_schema(schema) : compiler.compile_grammar(grammar);
}

// Names the instances of a test parametrised by a tokenizer path under ../shared/tokenizers
// ("llama3/tokenizer.json" -> "llama3").
inline std::string tokenizer_name(const ::testing::TestParamInfo<const char*>& info) {
  const std::string path = info.param;
  return path.substr(0, path.find('/'));
}

inline TokenBitmask reference_mask(const Matcher& m) {
  const Vocabulary& vocab = m.grammar().vocabulary();
  TokenBitmask mask(vocab.size());
  Matcher f = m.fork();
  for (int32_t id = 0; id < vocab.size(); ++id) {
    if (f.accept_token(id)) {
      mask.words[static_cast<size_t>(id >> 5)] |= 1u << (id & 31);
      f.rollback(1);
    }
  }
  return mask;
}

inline std::string describe_difference(const Vocabulary& vocab, const TokenBitmask& fast, const TokenBitmask& ref) {
  std::string out;
  int shown = 0;
  for (int32_t id = 0; id < vocab.size() && shown < 10; ++id) {
    if (fast.allowed(id) != ref.allowed(id)) {
      out += "token " + std::to_string(id) + " '" + std::string(vocab.token_bytes(id)) + "' fast=" +
             (fast.allowed(id) ? "1" : "0") + " ref=" + (ref.allowed(id) ? "1" : "0") + "\n";
      ++shown;
    }
  }
  return out;
}

// Picks a random allowed token (EOS with probability `eos_bias` when allowed). -1 if none.
inline int32_t pick_allowed(const TokenBitmask& mask, const Vocabulary& vocab, std::mt19937_64& rng, double eos_bias) {
  std::vector<int32_t> allowed = mask.allowed_ids();
  if (allowed.empty()) return -1;
  std::vector<int32_t> eos, other;
  for (int32_t id : allowed) (vocab.is_eos(id) ? eos : other).push_back(id);
  if (!eos.empty() && (other.empty() || std::uniform_real_distribution<double>(0, 1)(rng) < eos_bias)) return eos[0];
  return other[std::uniform_int_distribution<size_t>(0, other.size() - 1)(rng)];
}

}  // namespace stencil::testing
