// Whitespace policy pieces (see json_layout.h).
#include "schema/json_layout.h"

#include <algorithm>
#include <string>

namespace stencil::schema {

using grammar::ExprId;

JsonLayout::JsonLayout(grammar::Grammar& g, const JsonOptions& options) : g_(g), options_(options) {}

ExprId JsonLayout::gap() {
  if (options_.whitespace != WhitespacePolicy::kFlexible) return g_.empty();
  if (ws_ < 0) {
    // One rule, so the engine sees a single lexeme-like piece: "\n"{0,N} [ \t]{0,M}.
    grammar::RuleId r = g_.fresh_rule("ws");
    const int32_t n = std::max(0, options_.max_whitespace_newlines);
    const int32_t m = std::max(0, options_.max_whitespace_spaces);
    g_.define_rule(r, g_.sequence({g_.repeat(g_.literal("\n"), 0, n), g_.repeat(g_.byte_class({{' ', ' '}, {'\t', '\t'}}), 0, m)}));
    ws_ = g_.rule_ref(r);
  }
  return ws_;
}

std::string JsonLayout::indent(int depth) const {
  return std::string(static_cast<size_t>(std::max(0, options_.indent) * std::max(0, depth)), ' ');
}

ExprId JsonLayout::open(char bracket, int depth) {
  if (options_.whitespace == WhitespacePolicy::kPretty) return g_.literal(std::string(1, bracket) + "\n" + indent(depth + 1));
  return g_.sequence({g_.literal(std::string(1, bracket)), gap()});
}

ExprId JsonLayout::close(char bracket, int depth) {
  if (options_.whitespace == WhitespacePolicy::kPretty) return g_.literal("\n" + indent(depth) + std::string(1, bracket));
  return g_.sequence({gap(), g_.literal(std::string(1, bracket))});
}

ExprId JsonLayout::separator(int depth) {
  if (options_.whitespace == WhitespacePolicy::kPretty) return g_.literal(",\n" + indent(depth + 1));
  return g_.sequence({gap(), g_.literal(","), gap()});
}

ExprId JsonLayout::leading_gap() { return options_.whitespace == WhitespacePolicy::kFlexible ? gap() : g_.empty(); }

ExprId JsonLayout::separator_rest(int depth) {
  if (options_.whitespace != WhitespacePolicy::kFlexible) return separator(depth);
  return g_.sequence({g_.literal(","), gap()});
}

ExprId JsonLayout::close_rest(char bracket, int depth) {
  if (options_.whitespace != WhitespacePolicy::kFlexible) return close(bracket, depth);
  return g_.literal(std::string(1, bracket));
}

ExprId JsonLayout::empty(char open, char close) {
  if (options_.whitespace == WhitespacePolicy::kFlexible) {
    return g_.sequence({g_.literal(std::string(1, open)), gap(), g_.literal(std::string(1, close))});
  }
  return g_.literal(std::string{open, close});
}

ExprId JsonLayout::colon() {
  if (options_.whitespace == WhitespacePolicy::kPretty) return g_.literal(": ");
  return g_.sequence({gap(), g_.literal(":"), gap()});
}

}  // namespace stencil::schema
