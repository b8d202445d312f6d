// `stencil compile`: compiles a constraint and prints a summary (rules, automaton
// states, cached states, mask cache bytes, compile ms, warnings), or with
// --output json exactly one object {"ok", "compile_ms", "warnings", "error", "pointer"}.
// Without --tokenizer it compiles against the 256 single bytes, so grammar and
// schema errors are still found. Exit 0 ok, 2 error.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/constraint.h"
#include "stencil/errors.h"

namespace stencil::cli {
namespace {

constexpr const char* kHelp =
    "usage: stencil compile CONSTRAINT [--tokenizer T] [--output json] [--dump]\n"
    "\n"
    "Compiles the constraint and prints a summary: rules, automaton states, cached states,\n"
    "mask cache bytes, compile time and warnings. Exit 0 when it compiles, 2 on an error\n"
    "(printed with its location: a JSON pointer into the schema, line:column in a grammar).\n"
    "\n"
    "constraint (exactly one):\n"
    "  --schema FILE        a JSON Schema\n"
    "  --grammar FILE       a GBNF grammar (start rule `root`)\n"
    "  --regex PATTERN      an ECMAScript-style regex matched against the whole output\n"
    "  --json               any JSON value\n"
    "  --no-strict          (schema) extra properties allowed where additionalProperties is absent\n"
    "  --lenient            (schema) unsupported keywords ignored with a warning\n"
    "  --whitespace compact|pretty|flexible   (schema, json) whitespace between JSON tokens\n"
    "options:\n"
    "  --tokenizer T        tokenizer.json or GGUF file (default: a vocabulary of the 256 bytes)\n"
    "  --output json        print one JSON object {ok, compile_ms, warnings, error, pointer}\n"
    "  --dump               also print the compiled grammar as GBNF\n";

std::string output_format(const ParsedArgs& a) {
  std::string f = a.value("--output").value_or("text");
  if (f != "text" && f != "json") throw UsageError("--output expects json or text, got '" + f + "'");
  return f;
}

int run(const ParsedArgs& a) {
  require_constraint(a);
  const bool json = output_format(a) == "json";
  if (json && a.flags.count("--dump")) throw UsageError("--dump cannot be combined with --output json");
  const std::string tokenizer = a.value("--tokenizer").value_or("");
  auto started = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  };
  try {
    Vocabulary vocab = load_vocabulary(tokenizer);
    Compiler compiler = make_compiler(vocab, a.constraint);
    started = std::chrono::steady_clock::now();  // compile time excludes loading the vocabulary
    CompiledGrammar g = compile_constraint(compiler, a.constraint);
    const CompileStats& st = g.stats();
    if (json) {
      nlohmann::json out = {{"ok", true},
                            {"compile_ms", st.compile_ms},
                            {"warnings", g.warnings()},
                            {"error", nullptr},
                            {"pointer", nullptr}};
      std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::printf("ok\n");
      std::printf("vocabulary:        %s (%d ids)\n", tokenizer.empty() ? "256 single bytes" : tokenizer.c_str(),
                  vocab.size());
      std::printf("rules:             %d\n", st.rules);
      std::printf("automaton states:  %d\n", st.automaton_states);
      std::printf("cached states:     %d\n", st.cached_positions);
      std::printf("mask cache bytes:  %lld\n", static_cast<long long>(st.mask_cache_bytes));
      std::printf("compile ms:        %.3f\n", st.compile_ms);
      std::printf("warnings:          %zu\n", g.warnings().size());
      for (const std::string& w : g.warnings()) std::printf("  warning: %s\n", w.c_str());
    }
    if (a.flags.count("--dump")) std::cout << "\n" << g.to_gbnf();
    return 0;
  } catch (const Error& e) {
    if (!json) throw;
    nlohmann::json out = {{"ok", false},
                          {"compile_ms", elapsed_ms()},
                          {"warnings", nlohmann::json::array()},
                          {"error", e.message()},
                          {"pointer", e.location().empty() ? nlohmann::json(nullptr) : nlohmann::json(e.location())}};
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    std::fprintf(stderr, "stencil compile: error: %s\n", e.what());
    return 2;
  }
}

}  // namespace

const Command& compile_command() {
  static const Command c{"compile", "compile a constraint; print a summary or the error", kHelp,
                         CommandSpec{{"--tokenizer", "--output"}, {"--dump"}, 0, true}, run};
  return c;
}

}  // namespace stencil::cli
