// `stencil sample`: random valid outputs of a constraint with a real vocabulary and
// no model (cli/random_output.h: budget-aware masks, EOS with probability 1/5 when
// allowed, else a uniformly random allowed token; deterministic for a seed). Prints one
// line per sample: the output as a JSON string literal (invalid UTF-8 shown as U+FFFD).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/constraint.h"
#include "cli/random_output.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"

namespace stencil::cli {
namespace {

constexpr const char* kHelp =
    "usage: stencil sample CONSTRAINT --tokenizer T [--count N] [--seed S] [--max-tokens M]\n"
    "\n"
    "Prints N random outputs that match the constraint, built token by token from the\n"
    "tokenizer's vocabulary with exact masks (no model). Each line is one output as a JSON\n"
    "string literal. The same seed gives the same outputs.\n"
    "\n"
    "constraint: --schema FILE | --grammar FILE | --regex PATTERN | --json\n"
    "            [--no-strict] [--lenient] [--whitespace compact|pretty|flexible]\n"
    "options:\n"
    "  --tokenizer T      tokenizer.json or GGUF file (required)\n"
    "  --count N          number of outputs (default 1)\n"
    "  --seed S           random seed (default 0)\n"
    "  --max-tokens M     token budget per output, EOS not counted (default 256); every output\n"
    "                     is complete within it (budget-aware masks)\n";

constexpr int64_t kDefaultMaxTokens = 256;
int run(const ParsedArgs& a) {
  require_constraint(a);
  auto tokenizer = a.value("--tokenizer");
  if (!tokenizer) throw UsageError("--tokenizer is required");
  const int64_t count = a.int_value("--count", 1, 0, 1000000);
  const int64_t seed = a.int_value("--seed", 0, 0, INT64_MAX);
  const int64_t max_tokens = a.int_value("--max-tokens", kDefaultMaxTokens, 1, 1 << 24);
  Vocabulary vocab = load_vocabulary(*tokenizer);
  Compiler compiler = make_compiler(vocab, a.constraint);
  CompiledGrammar g = compile_constraint(compiler, a.constraint);
  SplitMix64 rng{static_cast<uint64_t>(seed)};
  for (int64_t i = 0; i < count; ++i) {
    std::string text;
    try {
      text = sample_one(g, rng, max_tokens);
    } catch (const SampleStuck& stuck) {
      throw Error(stuck.why.rfind("no token", 0) == 0 ? stuck.why + "; raise --max-tokens" : stuck.why);
    }
    std::cout << nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  std::cout.flush();
  return 0;
}

}  // namespace

const Command& sample_command() {
  static const Command c{"sample", "random valid outputs of a constraint (no model needed)", kHelp,
                         CommandSpec{{"--tokenizer", "--count", "--seed", "--max-tokens"}, {}, 0, true}, run};
  return c;
}

}  // namespace stencil::cli
