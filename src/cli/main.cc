// The `stencil` command: dispatches to a subcommand (commands.h) and turns what it
// throws into the exit codes of docs/cli.md — UsageError: usage on stderr, exit 2;
// stencil::Error: "location: message" on stderr, exit 2. It does no work itself.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "stencil/errors.h"

namespace {

using stencil::cli::Command;

void print_main_usage(std::FILE* out) {
  std::fputs(
      "usage: stencil COMMAND [options]\n"
      "\n"
      "Constrained decoding from the command line: JSON Schema, GBNF grammars and regexes\n"
      "compiled into exact token masks for a real tokenizer.\n"
      "\n"
      "commands:\n",
      out);
  for (const Command* c : stencil::cli::all_commands()) std::fprintf(out, "  %-10s %s\n", c->name, c->summary);
  std::fputs(
      "\n"
      "A constraint is one of --schema FILE, --grammar FILE (GBNF), --regex PATTERN, --json.\n"
      "Run `stencil COMMAND --help` for a command's options. Exit codes: 0 ok, 1 no match (check),\n"
      "2 usage or input error.\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_main_usage(stderr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_main_usage(stdout);
    return 0;
  }
  const Command* command = nullptr;
  for (const Command* c : stencil::cli::all_commands()) {
    if (name == c->name) command = c;
  }
  if (command == nullptr) {
    std::fprintf(stderr, "stencil: unknown command '%s'\n\n", name.c_str());
    print_main_usage(stderr);
    return 2;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    stencil::cli::ParsedArgs parsed = stencil::cli::parse_args(args, command->spec);
    if (parsed.help) {
      std::fputs(command->help, stdout);
      return command->built ? 0 : 2;
    }
    return command->run(parsed);
  } catch (const stencil::cli::UsageError& e) {
    std::fprintf(stderr, "stencil %s: %s\n\n%s", command->name, e.what(), command->help);
    return 2;
  } catch (const stencil::Error& e) {
    std::fprintf(stderr, "stencil %s: error: %s\n", command->name, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stencil %s: error: %s\n", command->name, e.what());
    return 2;
  }
}
