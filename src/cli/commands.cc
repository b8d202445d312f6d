// The command table.
#include "cli/commands.h"

namespace stencil::cli {

// generate_command() lives in generate_command.cc.

std::span<const Command* const> all_commands() {
  static const Command* const commands[] = {&compile_command(), &sample_command(), &check_command(), &bench_command(),
                                            &generate_command()};
  return commands;
}

}  // namespace stencil::cli
