// Command-line parsing for the `stencil` command: the constraint options shared by
// every command (--schema/--grammar/--regex/--json and the schema options) and a
// small table-driven parser for each command's own options.
//
// It does not load or compile anything (see constraint.h); it only turns argv into
// values and reports misuse as UsageError, which main() turns into exit code 2.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "stencil/compiler.h"

namespace stencil::cli {

// Misuse of the command line: unknown flag, missing value, bad number ... (exit 2 with usage).
class UsageError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class ConstraintKind { kNone, kSchema, kGrammar, kRegex, kJson };

struct ConstraintSpec {
  ConstraintKind kind = ConstraintKind::kNone;
  std::string value;  // the file (--schema, --grammar) or the pattern (--regex); empty for --json
  JsonOptions json;   // --no-strict, --lenient, --whitespace
};

// What one command accepts besides the constraint options.
struct CommandSpec {
  std::set<std::string> value_options;  // "--tokenizer", "--count" ... each takes one value
  std::set<std::string> flag_options;   // options without a value
  int32_t max_positional = 0;           // e.g. check's [FILE|-]
  bool takes_constraint = true;
};

struct ParsedArgs {
  ConstraintSpec constraint;
  std::map<std::string, std::string> values;  // option -> value (the last one wins)
  std::set<std::string> flags;
  std::vector<std::string> positional;
  bool help = false;

  bool has(const std::string& option) const { return values.count(option) != 0 || flags.count(option) != 0; }
  std::optional<std::string> value(const std::string& option) const;
  // The option's value as an integer in [min, max]; `fallback` when absent. UsageError when malformed.
  int64_t int_value(const std::string& option, int64_t fallback, int64_t min, int64_t max) const;
};

// Parses argv after the command name. Accepts "--opt value" and "--opt=value". "-" alone is a
// positional (stdin). Throws UsageError. A constraint is not required here (see require_constraint).
ParsedArgs parse_args(const std::vector<std::string>& args, const CommandSpec& spec);

// Throws UsageError unless exactly one constraint was given.
void require_constraint(const ParsedArgs& args);

}  // namespace stencil::cli
