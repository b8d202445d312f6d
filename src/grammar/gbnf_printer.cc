// print_gbnf: grammar IR -> GBNF text that parse_gbnf reads back to an equivalent grammar.
//
// Output: one line per rule, `name ::= body`, the root first and then the other rules in the
// order they are first referenced in the text printed so far (then any unreferenced rules), so
// the output reads top-down and printing is a fixed point: print(parse(print(g))) == print(g).
// It is llama.cpp-compatible except for byte classes, written `%[\x80-\xBF]` (the parser's
// extension; see gbnf_parser.cc), and for literal bytes that are not valid UTF-8, which are
// printed as one-byte byte classes. Rule names that are not valid GBNF names are mangled
// ([^a-zA-Z0-9_-] -> '-', made unique). A class prints in whichever of its plain or negated
// forms is shorter; inside it '-' (unless first or last) and a leading '^' print as \x2D and \x5E
// so llama.cpp reads them the same way. A rule declared but never defined prints as a comment
// (such a grammar does not parse back). Printing uses an explicit stack, no recursion.
//
// Expressions are a DAG (the IR shares equal subexpressions, and the JSON Schema compiler
// shares the tails of an object's optional members): printed as a tree, a chain of shared
// choices doubles at every link. A compound subexpression used in more than one place whose
// tree would exceed kMaxCopiedNodes nodes is printed once, as a rule of its own named
// `shared-N`, so the text stays linear in the size of the IR.
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/utf8.h"

namespace stencil::grammar {
namespace {

// Where an expression is printed, which decides when it needs parentheses.
enum class Context : uint8_t {
  kTop,      // a rule body or inside parentheses: choices print bare
  kItem,     // an item of a sequence: choices need parentheses
  kOperand,  // the operand of a postfix operator: only atoms print bare
};

std::string hex_escape(uint32_t cp) {
  char buf[16];
  if (cp < 0x100) {
    std::snprintf(buf, sizeof buf, "\\x%02X", cp);
  } else if (cp < 0x10000) {
    std::snprintf(buf, sizeof buf, "\\u%04X", cp);
  } else {
    std::snprintf(buf, sizeof buf, "\\U%08X", cp);
  }
  return buf;
}

// Code points printed as themselves (UTF-8) rather than escaped: visible ones. Controls, C1
// controls, the soft hyphen, invisible spaces and marks of General Punctuation, surrogates,
// private use and specials are escaped so the output is unambiguous to read.
bool prints_raw(uint32_t cp) {
  if (cp < 0x20 || cp == 0x7F) return false;
  if (cp < 0x7F) return true;
  if (cp < 0xA1 || cp == 0xAD) return false;
  if (cp >= 0x2000 && cp <= 0x206F) return false;
  if (cp >= 0xD800 && cp <= 0xF8FF) return false;
  if (cp >= 0xFFF0 && cp <= 0xFFFF) return false;
  if (cp == 0xFEFF || cp == 0x3000) return false;
  return cp < 0xE0000;
}

// One code point inside "..." or [...]. `in_class` also escapes the class metacharacters;
// '-' and '^' are handled by the class printer, which knows the position.
std::string print_char(uint32_t cp, bool in_class) {
  switch (cp) {
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    case '\\':
      return "\\\\";
    case '"':
      return in_class ? "\"" : "\\\"";
    case ']':
      return in_class ? "\\]" : "]";
    case '[':
      return in_class ? "\\[" : "[";
    default:
      break;
  }
  if (!prints_raw(cp)) return hex_escape(cp);
  std::string out;
  append_utf8(out, cp);
  return out;
}

// Items of a class as GBNF (without brackets). Bytes >= 0x80 in a byte class are always \xNN.
std::string print_class_items(const std::vector<Range>& ranges, bool bytes) {
  std::string out;
  auto one = [&](uint32_t v, bool first, bool last) -> std::string {
    // '-' is literal first or last (llama.cpp reads "[-a]" and "[a-]" that way); elsewhere escape it.
    if (v == '-') return first || last ? "-" : "\\x2D";
    if (v == '^' && first) return "\\x5E";
    if (bytes && v >= 0x80) return hex_escape(v);
    return print_char(v, /*in_class=*/true);
  };
  for (size_t i = 0; i < ranges.size(); ++i) {
    const Range& r = ranges[i];
    const bool first = i == 0;
    const bool last = i + 1 == ranges.size();
    if (r.lo == r.hi) {
      out += one(r.lo, first, last);
    } else if (r.hi == r.lo + 1) {
      out += one(r.lo, first, false);
      out += one(r.hi, false, last);
    } else {
      out += one(r.lo, first, false);
      out += "-";
      out += one(r.hi, false, false);
    }
  }
  return out;
}

std::string print_class(const std::vector<Range>& ranges, bool bytes) {
  const uint32_t max_value = bytes ? 0xFF : kMaxCodepoint;
  if (!bytes && ranges.size() == 1 && ranges[0].lo == 0 && ranges[0].hi == kMaxCodepoint) return ".";
  const std::vector<Range> inverse = complement_ranges(ranges, max_value);
  const std::string prefix = bytes ? "%[" : "[";
  // The form with fewer ranges; on a tie, the one listing fewer values (`[^"\\]`, `%[\xFF]`).
  auto values = [](const std::vector<Range>& rs) {
    uint64_t n = 0;
    for (const Range& r : rs) n += r.hi - r.lo + 1;
    return n;
  };
  if (inverse.size() < ranges.size() || (inverse.size() == ranges.size() && values(inverse) < values(ranges))) {
    return prefix + "^" + print_class_items(inverse, bytes) + "]";
  }
  return prefix + print_class_items(ranges, bytes) + "]";
}

// A literal as one or more items: "..." runs of valid UTF-8, and %[\xNN] for stray bytes.
std::vector<std::string> print_literal(std::string_view bytes) {
  std::vector<std::string> items;
  std::string run;
  bool open = false;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const int32_t cp = decode_utf8(bytes, pos);
    if (cp < 0) {
      if (open) items.push_back(run + "\"");
      open = false;
      items.push_back("%[" + hex_escape(static_cast<unsigned char>(bytes[pos])) + "]");
      ++pos;
      continue;
    }
    if (!open) run.assign(1, '"');
    open = true;
    run += print_char(static_cast<uint32_t>(cp), /*in_class=*/false);
  }
  if (open) items.push_back(run + "\"");
  return items;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

// GBNF names for all rules: the rule's own name when valid, else a mangled unique one.
std::vector<std::string> rule_names(const Grammar& g) {
  std::vector<std::string> names(static_cast<size_t>(g.rule_count()));
  std::unordered_set<std::string> taken;
  for (RuleId r = 0; r < g.rule_count(); ++r) {
    if (valid_name(g.rule(r).name)) taken.insert(g.rule(r).name);
  }
  for (RuleId r = 0; r < g.rule_count(); ++r) {
    const std::string& name = g.rule(r).name;
    if (valid_name(name)) {
      names[static_cast<size_t>(r)] = name;
      continue;
    }
    std::string base;
    for (char c : name) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      base += ok ? c : '-';
    }
    if (base.empty()) base = "rule";
    std::string candidate = base;
    for (int i = 2; taken.count(candidate) > 0; ++i) candidate = base + "-" + std::to_string(i);
    taken.insert(candidate);
    names[static_cast<size_t>(r)] = candidate;
  }
  return names;
}

// Shared subexpressions copied into the text at most this many expression nodes at a time.
constexpr int64_t kMaxCopiedNodes = 64;

class Printer {
 public:
  explicit Printer(const Grammar& g) : g_(g), names_(rule_names(g)) { find_shared(); }

  std::string print() {
    // An item is a rule (>= 0) or shared subexpression k (-1 - k).
    std::vector<bool> queued(static_cast<size_t>(g_.rule_count()), false);
    std::vector<bool> shared_queued(shared_.size(), false);
    std::vector<int64_t> order;
    auto enqueue = [&](int64_t item) {
      if (item < 0) {
        const size_t k = static_cast<size_t>(-1 - item);
        if (shared_queued[k]) return;
        shared_queued[k] = true;
      } else {
        if (item >= g_.rule_count() || queued[static_cast<size_t>(item)]) return;
        queued[static_cast<size_t>(item)] = true;
      }
      order.push_back(item);
    };
    if (g_.root() >= 0) enqueue(g_.root());
    std::string out;
    size_t printed = 0;
    RuleId unreferenced = 0;
    while (true) {
      // Printing a rule enqueues the rules it references, so this walks them in first-reference order.
      while (printed < order.size()) {
        const int64_t item = order[printed++];
        if (item >= 0) {
          out += print_rule(static_cast<RuleId>(item), enqueue);
        } else {
          const size_t k = static_cast<size_t>(-1 - item);
          out += shared_names_[k] + " ::= " + print_expr(shared_[k], enqueue) + "\n";
        }
      }
      while (unreferenced < g_.rule_count() && queued[static_cast<size_t>(unreferenced)]) ++unreferenced;
      if (unreferenced >= g_.rule_count()) break;
      enqueue(unreferenced);
    }
    return out;
  }

 private:
  // Marks the shared subexpressions printed as rules of their own (see the file comment).
  void find_shared() {
    const size_t n = static_cast<size_t>(g_.expr_count());
    std::vector<int32_t> uses(n, 0);
    std::vector<int64_t> nodes(n, -1);  // tree size, capped
    std::vector<bool> seen(n, false);
    std::vector<std::pair<ExprId, bool>> stack;  // (expr, children done)
    for (RuleId r = 0; r < g_.rule_count(); ++r) {
      const ExprId body = g_.rule(r).body;
      if (body < 0) continue;
      ++uses[static_cast<size_t>(body)];
      stack.push_back({body, false});
      while (!stack.empty()) {
        auto [e, done] = stack.back();
        stack.pop_back();
        const Expr& x = g_.expr(e);
        if (done) {
          int64_t total = 1;
          for (ExprId c : x.children) total = std::min<int64_t>(total + nodes[static_cast<size_t>(c)], int64_t{1} << 40);
          nodes[static_cast<size_t>(e)] = total;
          continue;
        }
        if (seen[static_cast<size_t>(e)]) continue;
        seen[static_cast<size_t>(e)] = true;
        stack.push_back({e, true});
        for (ExprId c : x.children) {
          ++uses[static_cast<size_t>(c)];
          if (!seen[static_cast<size_t>(c)]) stack.push_back({c, false});
        }
      }
    }
    std::unordered_set<std::string> taken(names_.begin(), names_.end());
    for (size_t e = 0; e < n; ++e) {
      const ExprKind kind = g_.expr(static_cast<ExprId>(e)).kind;
      const bool compound = kind == ExprKind::kSequence || kind == ExprKind::kChoice || kind == ExprKind::kRepeat;
      if (!compound || uses[e] < 2 || nodes[e] <= kMaxCopiedNodes) continue;
      std::string name;
      do {
        name = "shared-" + std::to_string(++shared_counter_);
      } while (taken.count(name) > 0);
      taken.insert(name);
      shared_index_.emplace(static_cast<ExprId>(e), static_cast<int64_t>(shared_.size()));
      shared_.push_back(static_cast<ExprId>(e));
      shared_names_.push_back(name);
    }
  }

  // One rule's line; calls `on_ref` for each rule referenced, in text order.
  template <typename OnRef>
  std::string print_rule(RuleId r, OnRef&& on_ref) {
    const Rule& rule = g_.rule(r);
    if (rule.body < 0) return "# rule '" + names_[static_cast<size_t>(r)] + "' is declared but not defined\n";
    return names_[static_cast<size_t>(r)] + " ::= " + print_expr(rule.body, on_ref) + "\n";
  }

  template <typename OnRef>
  std::string print_expr(ExprId root, OnRef&& on_ref) {
    // A task prints an expression in a context, or emits fixed text.
    struct Task {
      ExprId expr;  // -1: emit `text`
      Context context;
      std::string text;
    };
    std::string out;
    std::vector<Task> stack;
    stack.push_back({root, Context::kTop, {}});
    while (!stack.empty()) {
      Task task = std::move(stack.back());
      stack.pop_back();
      if (task.expr < 0) {
        out += task.text;
        continue;
      }
      if (task.expr != root && !shared_index_.empty()) {
        const auto it = shared_index_.find(task.expr);
        if (it != shared_index_.end()) {
          on_ref(-1 - it->second);
          out += shared_names_[static_cast<size_t>(it->second)];
          continue;
        }
      }
      const Expr& x = g_.expr(task.expr);
      switch (x.kind) {
        case ExprKind::kEmpty:
          out += "\"\"";
          break;
        case ExprKind::kLiteral: {
          const std::vector<std::string> items = print_literal(x.bytes);
          const bool parens = items.size() > 1 && task.context == Context::kOperand;
          if (parens) out += "(";
          for (size_t i = 0; i < items.size(); ++i) out += (i > 0 ? " " : "") + items[i];
          if (parens) out += ")";
          break;
        }
        case ExprKind::kCharClass:
        case ExprKind::kByteClass:
          out += print_class(x.ranges, x.kind == ExprKind::kByteClass);
          break;
        case ExprKind::kRuleRef:
          if (x.rule >= 0 && x.rule < g_.rule_count()) {
            on_ref(x.rule);
            out += names_[static_cast<size_t>(x.rule)];
          } else {
            out += "undefined-rule-id-" + std::to_string(x.rule);
          }
          break;
        case ExprKind::kSequence:
        case ExprKind::kChoice: {
          const bool is_choice = x.kind == ExprKind::kChoice;
          const bool parens = task.context == Context::kOperand || (is_choice && task.context == Context::kItem);
          // Pushed in reverse so they pop in order: "(" child_1 sep ... child_n ")".
          if (parens) stack.push_back({-1, Context::kTop, ")"});
          for (size_t i = x.children.size(); i-- > 0;) {
            stack.push_back({x.children[i], Context::kItem, {}});
            if (i > 0) stack.push_back({-1, Context::kTop, is_choice ? " | " : " "});
          }
          if (parens) stack.push_back({-1, Context::kTop, "("});
          break;
        }
        case ExprKind::kRepeat: {
          const bool parens = task.context == Context::kOperand;  // (a*)? : a repeat of a repeat
          stack.push_back({-1, Context::kTop, repeat_suffix(x.min, x.max) + (parens ? ")" : "")});
          stack.push_back({x.children[0], Context::kOperand, {}});
          if (parens) stack.push_back({-1, Context::kTop, "("});
          break;
        }
      }
    }
    return out;
  }

  static std::string repeat_suffix(int32_t min, int32_t max) {
    if (min == 0 && max == 1) return "?";
    if (min == 0 && max == kUnbounded) return "*";
    if (min == 1 && max == kUnbounded) return "+";
    if (max == kUnbounded) return fmt::format("{{{},}}", min);
    if (min == max) return fmt::format("{{{}}}", min);
    return fmt::format("{{{},{}}}", min, max);
  }

  const Grammar& g_;
  std::vector<std::string> names_;
  std::vector<ExprId> shared_;  // subexpressions printed as rules of their own
  std::vector<std::string> shared_names_;
  std::unordered_map<ExprId, int64_t> shared_index_;
  int64_t shared_counter_ = 0;
};

}  // namespace

std::string print_gbnf(const Grammar& grammar) {
  Printer printer(grammar);
  return printer.print();
}

}  // namespace stencil::grammar
