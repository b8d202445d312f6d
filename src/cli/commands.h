// The subcommands of `stencil`: each is a name, a help text, the options it takes
// and a function from parsed arguments to an exit code. main.cc dispatches.
//
// Exit codes (docs/cli.md): 0 success, 1 `check` found no match, 2 usage or input
// error. A run function may throw UsageError or stencil::Error; main() reports them.
#pragma once

#include <span>

#include "cli/cli_args.h"

namespace stencil::cli {

struct Command {
  const char* name;
  const char* summary;  // one line for `stencil --help`
  const char* help;     // the full `stencil NAME --help` text
  CommandSpec spec;
  int (*run)(const ParsedArgs& args);
  // False while the command is a placeholder: `--help` then exits 2 too, so scripts can test for it.
  bool built = true;
};

const Command& compile_command();
const Command& sample_command();
const Command& check_command();
const Command& bench_command();
const Command& generate_command();

// Every command, in the order `stencil --help` lists them.
std::span<const Command* const> all_commands();

}  // namespace stencil::cli
