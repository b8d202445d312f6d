// The whitespace policy of JSON output as grammar pieces: what may stand between
// two JSON tokens. compact: nothing. pretty: one fixed layout (a newline and
// `indent` spaces per nesting level inside non-empty containers, ": " after keys).
// flexible: one bounded run of whitespace — at most max_whitespace_newlines "\n"
// followed by at most max_whitespace_spaces spaces or tabs — in every gap between
// tokens, and never two runs in a row, so no reachable state admits more than the
// bound of consecutive whitespace. No leading or trailing whitespace around the document.
#pragma once

#include "grammar/grammar.h"
#include "stencil/compiler.h"

namespace stencil::schema {

class JsonLayout {
 public:
  JsonLayout(grammar::Grammar& g, const JsonOptions& options);

  bool depth_sensitive() const { return options_.whitespace == WhitespacePolicy::kPretty; }
  // `depth` is the nesting level of the container (0 for the document's own value).
  grammar::ExprId open(char bracket, int depth);   // "{" and the gap after it (non-empty container)
  grammar::ExprId close(char bracket, int depth);  // the gap and "}" (non-empty container)
  grammar::ExprId separator(int depth);            // the "," between members/elements with its gaps
  grammar::ExprId empty(char open, char close);    // "{}" (with a gap inside under flexible)
  grammar::ExprId colon();                         // between a key and its value
  // separator and close split at their common start (flexible: the gap; else nothing):
  // separator = leading_gap separator_rest, close = leading_gap close_rest. A bounded list
  // written item leading_gap (separator_rest item leading_gap){m,n} close_rest has iterations
  // that start unlike its end (with "," not with whitespace), which the engine can count.
  grammar::ExprId leading_gap();
  grammar::ExprId separator_rest(int depth);
  grammar::ExprId close_rest(char bracket, int depth);

 private:
  grammar::ExprId gap();
  std::string indent(int depth) const;

  grammar::Grammar& g_;
  const JsonOptions& options_;
  grammar::ExprId ws_ = -1;
};

}  // namespace stencil::schema
