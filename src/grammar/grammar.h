// The grammar IR: context-free grammars over bytes, the one typed form that every
// front end (GBNF, regex, JSON Schema) produces and the engine consumes.
//
// Flat and index-based: a Grammar owns a vector of Expr nodes and a vector of
// Rules; nodes refer to each other by index, so the IR is cheap to copy, hash and
// print, and no front end needs recursion over pointers.
//
// Character classes are over Unicode code points and match one UTF-8 encoded
// code point; byte classes match one raw byte. Literals are raw bytes (front ends
// UTF-8 encode text). print_gbnf() writes the IR back as GBNF that parse_gbnf()
// reads to an equivalent grammar.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stencil::grammar {

using ExprId = int32_t;
using RuleId = int32_t;
inline constexpr int32_t kUnbounded = -1;
inline constexpr uint32_t kMaxCodepoint = 0x10FFFF;

// An inclusive range [lo, hi] of code points or bytes.
struct Range {
  uint32_t lo;
  uint32_t hi;
  friend bool operator==(const Range&, const Range&) = default;
};

enum class ExprKind : uint8_t {
  kEmpty,      // the empty string. Data: none.
  kLiteral,    // exactly the bytes in `bytes` (non-empty).
  kCharClass,  // one UTF-8 encoded code point in `ranges` (sorted, disjoint, non-adjacent; surrogates never match).
  kByteClass,  // one raw byte in `ranges` (sorted, disjoint, within 0..255).
  kRuleRef,    // the rule `rule`.
  kSequence,   // `children` one after another (at least two).
  kChoice,     // any one of `children` (at least two).
  kRepeat,     // children[0] repeated between `min` and `max` times (max may be kUnbounded; min <= max).
};

struct Expr {
  ExprKind kind = ExprKind::kEmpty;
  std::string bytes;             // kLiteral
  std::vector<Range> ranges;     // kCharClass, kByteClass
  RuleId rule = -1;              // kRuleRef
  std::vector<ExprId> children;  // kSequence, kChoice, kRepeat (one child)
  int32_t min = 0;               // kRepeat
  int32_t max = 0;               // kRepeat
};

struct Rule {
  std::string name;
  ExprId body = -1;  // -1 until defined
};

// Builds and owns a grammar. The factory methods normalise as they go
// (a sequence or choice of one child is that child; empty literals are kEmpty;
// class ranges are sorted and merged) so every front end produces the same shapes.
class Grammar {
 public:
  ExprId empty();
  ExprId literal(std::string_view bytes);
  // ranges in any order, possibly overlapping; `negated` complements over all code points.
  ExprId char_class(std::vector<Range> ranges, bool negated = false);
  ExprId byte_class(std::vector<Range> ranges, bool negated = false);
  ExprId rule_ref(RuleId rule);
  ExprId sequence(std::vector<ExprId> children);
  ExprId choice(std::vector<ExprId> children);
  ExprId repeat(ExprId child, int32_t min, int32_t max);
  ExprId optional(ExprId child) { return repeat(child, 0, 1); }
  ExprId star(ExprId child) { return repeat(child, 0, kUnbounded); }
  ExprId plus(ExprId child) { return repeat(child, 1, kUnbounded); }

  // Declares a rule (or returns the existing one with that name); its body is set later.
  RuleId declare_rule(std::string_view name);
  // A new rule whose name starts with `prefix` and is unique in this grammar.
  RuleId fresh_rule(std::string_view prefix);
  void define_rule(RuleId rule, ExprId body);
  RuleId find_rule(std::string_view name) const;  // -1 if absent

  const Expr& expr(ExprId id) const { return exprs_[static_cast<size_t>(id)]; }
  const Rule& rule(RuleId id) const { return rules_[static_cast<size_t>(id)]; }
  int32_t expr_count() const { return static_cast<int32_t>(exprs_.size()); }
  int32_t rule_count() const { return static_cast<int32_t>(rules_.size()); }
  RuleId root() const { return root_; }
  void set_root(RuleId rule) { root_ = rule; }

 private:
  // Every factory ends here. Structurally equal expressions get one id (hash-consing): front ends
  // build the same piece many times (a JSON string body per property, `.*` per alternative of a
  // pattern), and the automaton builder shares what has one id (engine/automaton_builder.cc), which
  // keeps such grammars from growing with every copy.
  ExprId add(Expr e);
  std::vector<Expr> exprs_;
  std::unordered_multimap<uint64_t, ExprId> expr_index_;  // structural hash -> expressions with it
  std::vector<Rule> rules_;
  std::unordered_map<std::string, RuleId> rule_index_;  // name -> rule
  std::unordered_map<std::string, int32_t> fresh_counter_;  // prefix -> next suffix to try
  RuleId root_ = -1;
};

// The ranges of [0, max_value] not covered by `sorted` (sorted, disjoint ranges).
std::vector<Range> complement_ranges(const std::vector<Range>& sorted, uint32_t max_value);

// GBNF text for the grammar; parse_gbnf(print_gbnf(g)) describes the same language.
std::string print_gbnf(const Grammar& grammar);

// Parses llama.cpp's GBNF dialect. The start rule is `root_name`.
// Throws GrammarError with "line:column" and what was expected.
Grammar parse_gbnf(std::string_view text, std::string_view root_name = "root");

// Parses an ECMAScript-style regex (JSON Schema `pattern` dialect) into a grammar
// with a single root rule matching exactly the strings the regex fully matches
// (anchors ^ $ are accepted at the ends). Throws GrammarError ("1:column").
// portable_classes: see RegexOptions.
Grammar parse_regex(std::string_view pattern, bool portable_classes = false);
struct RegexOptions {
  // The matched text appears inside a JSON string literal: characters that JSON
  // must escape (", \, control characters) are produced in their escaped form
  // (\", \\, \n, \u00XX ...) and everything else raw. Used for `pattern`.
  bool inside_json_string = false;
  std::string_view rule_name_prefix = "regex";
  // With inside_json_string: also accept \uXXXX escapes (either hex case; surrogate
  // pairs above U+FFFF) for every code point, not only for control characters. More
  // complete for models that escape, but fewer bytes are forced. \/ is always accepted.
  bool allow_unicode_escapes = false;
  // false (default): JSON Schema `pattern` semantics, ECMAScript search: the regex may
  // match anywhere in the string unless anchored with ^ / $ (`abc` accepts "xabcx").
  // true: the whole string must match, as if written ^(?:pattern)$ (parse_regex's semantics).
  bool full_match = false;
  // \d \w \s and their complements match only what they match in every common dialect
  // (ECMAScript, Python's re, ...), so that a validator in any of them accepts what is
  // produced: \s without U+FEFF, \S without U+0085 or U+001C-U+001F, \D and \W ASCII only.
  // false: ECMAScript exactly.
  bool portable_classes = false;
};
// Adds the regex as a new rule of an existing grammar (used by the JSON Schema
// compiler for `pattern`); returns that rule. Throws GrammarError.
RuleId add_regex_rule(Grammar& grammar, std::string_view pattern, const RegexOptions& options = {});

}  // namespace stencil::grammar
