// The one error policy of stencil: public fallible calls throw a subclass of
// stencil::Error whose message says what went wrong and whose location() says
// where (a JSON pointer into a schema, "line:column" in a grammar, a byte offset
// or key in a file). The per-token calls (fill_next_token_bitmask, accept_token)
// never throw; they return a status instead.
#pragma once

#include <stdexcept>
#include <string>

namespace stencil {

class Error : public std::runtime_error {
 public:
  // `what` is the whole message shown to users; `location` is also embedded in it
  // when not empty ("<location>: <message>").
  Error(const std::string& message, std::string location = {})
      : std::runtime_error(location.empty() ? message : location + ": " + message),
        message_(message),
        location_(std::move(location)) {}
  // The message without the location prefix.
  const std::string& message() const noexcept { return message_; }
  // Where the problem is: "line:column", a JSON pointer, "offset N", a file path ... may be empty.
  const std::string& location() const noexcept { return location_; }

 private:
  std::string message_;
  std::string location_;
};

// A GBNF/EBNF grammar or a regex that does not parse or cannot be compiled. location() is "line:column".
class GrammarError : public Error {
  using Error::Error;
};
// A JSON Schema that is malformed or uses something unsupported. location() is a JSON pointer.
class SchemaError : public Error {
  using Error::Error;
};
// A tokenizer file or vocabulary that cannot be read. location() names the file and key/offset.
class VocabularyError : public Error {
  using Error::Error;
};
// A model file that cannot be loaded. location() names the tensor, key or byte offset.
class ModelError : public Error {
  using Error::Error;
};
// A named limit (states, depth, repetition size ...) was exceeded. The message names the limit.
class LimitError : public Error {
  using Error::Error;
};
// A bad argument to a public call (out-of-range token id, bitmask of the wrong size ...).
class ArgumentError : public Error {
  using Error::Error;
};

}  // namespace stencil
