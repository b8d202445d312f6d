// What a CompiledGrammar holds: the automaton, the vocabulary sorted into trie
// order, the per-state mask cache, and what was compiled (for to_gbnf()).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/automaton.h"
#include "engine/mask_cache.h"
#include "engine/sorted_vocab.h"
#include "grammar/grammar.h"
#include "stencil/compiler.h"

namespace stencil {

struct CompiledGrammar::Impl {
  Vocabulary vocab;
  std::shared_ptr<const engine::SortedVocab> sorted;
  grammar::Grammar grammar;
  engine::Automaton automaton;
  std::unique_ptr<engine::MaskCache> masks;  // refers to automaton, sorted and vocab above
  CompileStats stats;
  std::vector<std::string> warnings;
};

struct Compiler::State {
  Vocabulary vocab;
  CompileOptions options;
  std::shared_ptr<const engine::SortedVocab> sorted;
};

namespace engine {
// Compiles an IR grammar against a vocabulary (the last stage of every Compiler entry point).
CompiledGrammar compile_ir(grammar::Grammar grammar, const Vocabulary& vocab,
                           std::shared_ptr<const SortedVocab> sorted, const CompileOptions& options,
                           std::vector<std::string> warnings, std::chrono::steady_clock::time_point started);
}  // namespace engine

}  // namespace stencil
