// Parsing of the `stencil` command line (see cli_args.h). Every misuse is a UsageError
// whose message names the option, so scripts see what was wrong.
#include "cli/cli_args.h"

#include <charconv>

namespace stencil::cli {

std::optional<std::string> ParsedArgs::value(const std::string& option) const {
  auto it = values.find(option);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

int64_t ParsedArgs::int_value(const std::string& option, int64_t fallback, int64_t min, int64_t max) const {
  auto v = value(option);
  if (!v) return fallback;
  int64_t out = 0;
  const char* end = v->data() + v->size();
  auto [ptr, ec] = std::from_chars(v->data(), end, out);
  if (ec != std::errc() || ptr != end || v->empty()) {
    throw UsageError(option + " expects an integer, got '" + *v + "'");
  }
  if (out < min || out > max) {
    throw UsageError(option + " must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                     *v);
  }
  return out;
}

namespace {

// Options that take a value / are flags, common to every command with a constraint.
const std::set<std::string>& constraint_value_options() {
  static const std::set<std::string> s = {"--schema", "--grammar", "--regex", "--whitespace"};
  return s;
}
const std::set<std::string>& constraint_flag_options() {
  static const std::set<std::string> s = {"--json", "--no-strict", "--lenient"};
  return s;
}

void set_constraint(ConstraintSpec& c, ConstraintKind kind, const std::string& option, std::string value) {
  if (c.kind != ConstraintKind::kNone) {
    throw UsageError("only one constraint may be given (--schema, --grammar, --regex or --json); " + option +
                     " is a second one");
  }
  c.kind = kind;
  c.value = std::move(value);
}

WhitespacePolicy parse_whitespace(const std::string& v) {
  if (v == "compact") return WhitespacePolicy::kCompact;
  if (v == "pretty") return WhitespacePolicy::kPretty;
  if (v == "flexible") return WhitespacePolicy::kFlexible;
  throw UsageError("--whitespace expects compact, pretty or flexible, got '" + v + "'");
}

}  // namespace

ParsedArgs parse_args(const std::vector<std::string>& args, const CommandSpec& spec) {
  ParsedArgs out;
  bool json_options_given = false;
  std::string json_option_name;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    if (a.size() < 2 || a[0] != '-' || (a.size() >= 2 && a[1] != '-')) {
      if (a.size() >= 2 && a[0] == '-') throw UsageError("unknown option '" + a + "'");
      if (static_cast<int32_t>(out.positional.size()) >= spec.max_positional) {
        throw UsageError("unexpected argument '" + a + "'");
      }
      out.positional.push_back(a);
      continue;
    }
    std::string name = a;
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      inline_value = a.substr(eq + 1);
    }
    const bool is_constraint_value = spec.takes_constraint && constraint_value_options().count(name);
    const bool is_constraint_flag = spec.takes_constraint && constraint_flag_options().count(name);
    const bool is_value = is_constraint_value || spec.value_options.count(name);
    const bool is_flag = is_constraint_flag || spec.flag_options.count(name);
    if (!is_value && !is_flag) throw UsageError("unknown option '" + name + "'");
    if (is_flag) {
      if (inline_value) throw UsageError(name + " takes no value");
      if (name == "--json") {
        set_constraint(out.constraint, ConstraintKind::kJson, name, {});
      } else if (name == "--no-strict") {
        out.constraint.json.strict = false;
        json_options_given = true;
        json_option_name = name;
      } else if (name == "--lenient") {
        out.constraint.json.lenient = true;
        json_options_given = true;
        json_option_name = name;
      } else {
        out.flags.insert(name);
      }
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
      value = args[++i];
    }
    if (name == "--schema") {
      set_constraint(out.constraint, ConstraintKind::kSchema, name, value);
    } else if (name == "--grammar") {
      set_constraint(out.constraint, ConstraintKind::kGrammar, name, value);
    } else if (name == "--regex") {
      set_constraint(out.constraint, ConstraintKind::kRegex, name, value);
    } else if (name == "--whitespace") {
      out.constraint.json.whitespace = parse_whitespace(value);
      json_options_given = true;
      json_option_name = name;
    } else {
      out.values[name] = value;
    }
  }
  if (json_options_given &&
      (out.constraint.kind == ConstraintKind::kGrammar || out.constraint.kind == ConstraintKind::kRegex)) {
    throw UsageError(json_option_name + " applies to --schema and --json only");
  }
  return out;
}

void require_constraint(const ParsedArgs& args) {
  if (args.constraint.kind == ConstraintKind::kNone) {
    throw UsageError("a constraint is required: --schema FILE, --grammar FILE, --regex PATTERN or --json");
  }
}

}  // namespace stencil::cli
