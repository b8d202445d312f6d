// The command table, and `stencil generate`, which needs the bundled runtime's
// generator (issue 4) and says so until it is built.
#include "cli/commands.h"

#include <cstdio>

namespace stencil::cli {
namespace {

constexpr const char* kGenerateHelp =
    "usage: stencil generate --model M CONSTRAINT --prompt P [--max-tokens N] [--temperature T]\n"
    "                        [--seed S] [--output json]\n"
    "\n"
    "Not built yet: generation needs the bundled runtime's generator. Exits 2.\n";

int run_generate(const ParsedArgs&) {
  std::fprintf(stderr, "stencil generate: not built yet (the bundled runtime's generator is not part of this build)\n");
  return 2;
}

}  // namespace

const Command& generate_command() {
  // Fails the same way whatever it is given, --help included (scripts/demo tests `generate --help`).
  static const Command c{
      "generate",
      "model + constraint -> text (not built yet)",
      kGenerateHelp,
      CommandSpec{{"--model", "--prompt", "--max-tokens", "--temperature", "--seed", "--output"}, {}, 0, true},
      run_generate,
      /*built=*/false};
  return c;
}

std::span<const Command* const> all_commands() {
  static const Command* const commands[] = {&compile_command(), &sample_command(), &check_command(), &bench_command(),
                                            &generate_command()};
  return commands;
}

}  // namespace stencil::cli
