// stencil.Compiler and stencil.CompiledGrammar. Compiles release the GIL (they take milliseconds
// to seconds); JSON options are keyword arguments spelled like the C++ JsonOptions fields.
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bindings.h"
#include "stencil/compiler.h"
#include "stencil/errors.h"

namespace stencil::python {

namespace {

WhitespacePolicy parse_whitespace(const std::string& name) {
  if (name == "compact") return WhitespacePolicy::kCompact;
  if (name == "pretty") return WhitespacePolicy::kPretty;
  if (name == "flexible") return WhitespacePolicy::kFlexible;
  throw ArgumentError("whitespace must be \"compact\", \"pretty\" or \"flexible\", got \"" + name + "\"");
}

// `max_whitespace` is the short spelling of `max_whitespace_spaces` (the bound users tune most);
// giving both is an error rather than one silently winning.
JsonOptions json_options(const std::string& whitespace, int32_t indent, int32_t max_whitespace_newlines,
                         std::optional<int32_t> max_whitespace_spaces, std::optional<int32_t> max_whitespace,
                         bool strict, bool lenient, bool allow_escapes, int32_t max_depth, bool portable_patterns = true) {
  if (max_whitespace && max_whitespace_spaces) {
    throw ArgumentError("give max_whitespace or max_whitespace_spaces, not both (they are the same bound)");
  }
  JsonOptions json;
  json.whitespace = parse_whitespace(whitespace);
  json.indent = indent;
  json.max_whitespace_newlines = max_whitespace_newlines;
  if (max_whitespace_spaces) json.max_whitespace_spaces = *max_whitespace_spaces;
  if (max_whitespace) json.max_whitespace_spaces = *max_whitespace;
  json.strict = strict;
  json.lenient = lenient;
  json.allow_escapes = allow_escapes;
  json.max_depth = max_depth;
  json.portable_patterns = portable_patterns;
  return json;
}

// The schema as JSON text: str and bytes are taken as they are; dicts, pydantic models (v1 and v2)
// and anything else go through stencil._schema.schema_json, which raises TypeError for what it
// cannot turn into a schema.
std::string schema_text(py::handle schema) {
  if (py::isinstance<py::str>(schema) || py::isinstance<py::bytes>(schema)) return schema.cast<std::string>();
  return py::module_::import("stencil._schema").attr("schema_json")(schema).cast<std::string>();
}

const char* whitespace_name(WhitespacePolicy w) {
  switch (w) {
    case WhitespacePolicy::kCompact: return "compact";
    case WhitespacePolicy::kPretty: return "pretty";
    case WhitespacePolicy::kFlexible: return "flexible";
  }
  return "flexible";
}

}  // namespace

void bind_compiler(py::module_& m) {
  py::class_<CompiledGrammar>(m, "CompiledGrammar", R"doc(
A constraint compiled against one Vocabulary: automata plus the per-state token mask cache.
Immutable and shareable between any number of Matchers and threads.
)doc")
      .def_property_readonly("vocabulary", &CompiledGrammar::vocabulary)
      .def_property_readonly(
          "stats",
          [](const CompiledGrammar& g) {
            const CompileStats& s = g.stats();
            py::dict d;
            d["rules"] = s.rules;
            d["automaton_states"] = s.automaton_states;
            d["scanning_states"] = s.scanning_states;
            d["cached_positions"] = s.cached_positions;
            d["mask_cache_bytes"] = s.mask_cache_bytes;
            d["compile_ms"] = s.compile_ms;
            return d;
          },
          "Compile statistics: rules, automaton_states, scanning_states, cached_positions, mask_cache_bytes, compile_ms.")
      .def_property_readonly("warnings", &CompiledGrammar::warnings,
                             "Warnings collected while compiling (keywords ignored under lenient=True ...).")
      .def("to_gbnf", &CompiledGrammar::to_gbnf, "The grammar as GBNF text (after lowering from a schema or regex).")
      .def_property_readonly("memory_bytes", &CompiledGrammar::memory_bytes)
      .def("__repr__", [](const CompiledGrammar& g) {
        return "<stencil.CompiledGrammar " + std::to_string(g.stats().automaton_states) + " states, " +
               std::to_string(g.vocabulary().size()) + " ids>";
      });

  py::class_<Compiler>(m, "Compiler", R"doc(
Compiles JSON Schemas, GBNF grammars, regexes and the builtin JSON grammar for one Vocabulary.
Its methods may be called from several threads at once; each releases the GIL while compiling.
)doc")
      .def(py::init([](Vocabulary vocab, int32_t threads, int32_t max_automaton_states, int32_t max_repetition,
                       int32_t max_rules, int32_t eager_mask_states) {
             if (threads < 0) throw ArgumentError("threads must be >= 0 (0: one per hardware thread), got " + std::to_string(threads));
             CompileOptions options;
             options.threads = threads;
             options.limits.max_automaton_states = max_automaton_states;
             options.limits.max_repetition = max_repetition;
             options.limits.max_rules = max_rules;
             options.limits.eager_mask_states = eager_mask_states;
             py::gil_scoped_release release;  // sorts the vocabulary into a trie: ~0.1 s for 128k ids
             return Compiler(std::move(vocab), options);
           }),
           py::arg("vocab"), py::kw_only(), py::arg("threads") = 0,
           py::arg("max_automaton_states") = CompileLimits{}.max_automaton_states,
           py::arg("max_repetition") = CompileLimits{}.max_repetition, py::arg("max_rules") = CompileLimits{}.max_rules,
           py::arg("eager_mask_states") = CompileLimits{}.eager_mask_states,
           R"doc(`threads` precompute token masks at compile time (0: one per hardware thread). The limits
are CompileLimits' fields; exceeding one raises LimitError naming it.)doc")
      .def(
          "compile_json_schema",
          [](const Compiler& c, py::handle schema, const std::string& whitespace, int32_t indent,
             int32_t max_whitespace_newlines, std::optional<int32_t> max_whitespace_spaces,
             std::optional<int32_t> max_whitespace, bool strict, bool lenient, bool allow_escapes, int32_t max_depth,
             bool portable_patterns) {
            const std::string text = schema_text(schema);
            const JsonOptions json = json_options(whitespace, indent, max_whitespace_newlines, max_whitespace_spaces,
                                                  max_whitespace, strict, lenient, allow_escapes, max_depth, portable_patterns);
            py::gil_scoped_release release;
            return c.compile_json_schema(text, json);
          },
          py::arg("schema"), py::kw_only(), py::arg("whitespace") = "flexible", py::arg("indent") = JsonOptions{}.indent,
          py::arg("max_whitespace_newlines") = JsonOptions{}.max_whitespace_newlines,
          py::arg("max_whitespace_spaces") = py::none(), py::arg("max_whitespace") = py::none(), py::arg("strict") = true,
          py::arg("lenient") = false, py::arg("allow_escapes") = true, py::arg("max_depth") = JsonOptions{}.max_depth,
          py::arg("portable_patterns") = true,
          R"doc(Compiles a JSON Schema given as JSON text, a dict, or a pydantic model class (v2
model_json_schema() or v1 schema()). whitespace: "flexible" (bounded runs between tokens:
max_whitespace_newlines newlines, max_whitespace (alias max_whitespace_spaces) spaces or tabs),
"compact" (none) or "pretty" (one layout, `indent` spaces per level). strict=True: absent additionalProperties means none
(OpenAI strict mode); lenient=True ignores unsupported keywords with a warning. portable_patterns=True:
pattern classes \d \w \s produce only what every common regex dialect matches (False: ECMAScript exactly). Raises
SchemaError whose `pointer` is the JSON pointer of the offending schema.)doc")
      .def(
          "compile_builtin_json",
          [](const Compiler& c, const std::string& whitespace, int32_t indent, int32_t max_whitespace_newlines,
             std::optional<int32_t> max_whitespace_spaces, std::optional<int32_t> max_whitespace, bool allow_escapes,
             int32_t max_depth) {
            const JsonOptions json = json_options(whitespace, indent, max_whitespace_newlines, max_whitespace_spaces,
                                                  max_whitespace, true, false, allow_escapes, max_depth);
            py::gil_scoped_release release;
            return c.compile_builtin_json(json);
          },
          py::kw_only(), py::arg("whitespace") = "flexible", py::arg("indent") = JsonOptions{}.indent,
          py::arg("max_whitespace_newlines") = JsonOptions{}.max_whitespace_newlines,
          py::arg("max_whitespace_spaces") = py::none(), py::arg("max_whitespace") = py::none(), py::arg("allow_escapes") = true,
          py::arg("max_depth") = JsonOptions{}.max_depth, "Any JSON value (RFC 8259) with this whitespace policy.")
      .def(
          "compile_grammar",
          [](const Compiler& c, const std::string& gbnf) {
            py::gil_scoped_release release;
            return c.compile_grammar(gbnf);
          },
          py::arg("gbnf"), "GBNF (llama.cpp dialect), start rule `root`. Raises GrammarError with line and column.")
      .def(
          "compile_regex",
          [](const Compiler& c, const std::string& pattern) {
            py::gil_scoped_release release;
            return c.compile_regex(pattern);
          },
          py::arg("pattern"), "An ECMAScript-style regex matched against the whole output. Raises GrammarError.")
      .def_property_readonly("vocabulary", &Compiler::vocabulary)
      .def_property_readonly("threads", [](const Compiler& c) { return c.options().threads; })
      .def("__repr__", [](const Compiler& c) {
        return "<stencil.Compiler " + std::to_string(c.vocabulary().size()) + " ids, default whitespace " +
               whitespace_name(c.options().json.whitespace) + ">";
      });
}

}  // namespace stencil::python
