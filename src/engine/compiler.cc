// The Compiler: front ends (GBNF, regex, JSON Schema) -> grammar IR ->
// automaton -> mask cache, bundled as an immutable CompiledGrammar.
#include <chrono>
#include <thread>

#include "engine/compiled_grammar_impl.h"
#include "grammar/grammar.h"
#include "stencil/errors.h"

namespace stencil {

namespace engine {

CompiledGrammar compile_ir(grammar::Grammar grammar, const Vocabulary& vocab, std::shared_ptr<const SortedVocab> sorted,
                           const CompileOptions& options, std::vector<std::string> warnings,
                           std::chrono::steady_clock::time_point started) {
  const auto t0 = started;
  auto impl = std::make_shared<CompiledGrammar::Impl>(CompiledGrammar::Impl{vocab, std::move(sorted), std::move(grammar)});
  // Repetitions longer than about twice the longest token are counted, not unrolled (automaton.h).
  impl->automaton = build_automaton(impl->grammar, options.limits, impl->sorted->max_token_bytes);
  const int32_t threads = options.threads > 0 ? options.threads
                                              : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  impl->masks = std::make_unique<MaskCache>(impl->automaton, *impl->sorted, impl->vocab);
  if (impl->masks->scanning_states() <= options.limits.eager_mask_states) impl->masks->precompute_all(threads);
  impl->warnings = std::move(warnings);
  CompileStats& st = impl->stats;
  st.rules = impl->grammar.rule_count();
  st.automaton_states = static_cast<int32_t>(impl->automaton.states.size());
  st.scanning_states = impl->masks->scanning_states();
  st.cached_positions = impl->masks->computed_states();
  st.mask_cache_bytes = impl->masks->memory_bytes();
  st.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return CompiledGrammar(std::move(impl));
}

}  // namespace engine

const Vocabulary& CompiledGrammar::vocabulary() const noexcept { return impl_->vocab; }
const CompileStats& CompiledGrammar::stats() const noexcept { return impl_->stats; }
const std::vector<std::string>& CompiledGrammar::warnings() const noexcept { return impl_->warnings; }
std::string CompiledGrammar::to_gbnf() const { return grammar::print_gbnf(impl_->grammar); }
int64_t CompiledGrammar::memory_bytes() const noexcept {
  return impl_->masks->memory_bytes() +
         static_cast<int64_t>(impl_->automaton.states.size() * sizeof(engine::AutomatonState) +
                              impl_->automaton.byte_edges.size() * sizeof(engine::ByteEdge) +
                              impl_->automaton.call_edges.size() * sizeof(engine::CallEdge));
}

Compiler::Compiler(Vocabulary vocab, CompileOptions options)
    : state_(std::make_shared<State>(State{vocab, std::move(options), nullptr})) {
  state_->sorted = std::make_shared<const engine::SortedVocab>(engine::SortedVocab::build(state_->vocab));
}

const Vocabulary& Compiler::vocabulary() const noexcept { return state_->vocab; }
const CompileOptions& Compiler::options() const noexcept { return state_->options; }

CompiledGrammar Compiler::compile_grammar(std::string_view gbnf) const {
  const auto t0 = std::chrono::steady_clock::now();
  grammar::Grammar g = grammar::parse_gbnf(gbnf);
  return engine::compile_ir(std::move(g), state_->vocab, state_->sorted, state_->options, {}, t0);
}

CompiledGrammar Compiler::compile_regex(std::string_view pattern) const {
  const auto t0 = std::chrono::steady_clock::now();
  grammar::Grammar g = grammar::parse_regex(pattern);
  return engine::compile_ir(std::move(g), state_->vocab, state_->sorted, state_->options, {}, t0);
}

}  // namespace stencil
