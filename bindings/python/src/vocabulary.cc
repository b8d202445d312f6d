// stencil.Vocabulary: token id -> bytes, from tokenizer.json, GGUF or a list of byte strings.
// (Vocabulary.from_huggingface is pure Python: stencil/_huggingface.py builds on from_tokens.)
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "stencil/errors.h"
#include "stencil/vocabulary.h"

namespace stencil::python {

namespace {

VocabularyOptions vocab_options(const std::optional<std::vector<int32_t>>& eos_ids, std::optional<int32_t> vocab_size) {
  VocabularyOptions options;
  if (eos_ids) options.eos_ids = *eos_ids;
  if (vocab_size) {
    if (*vocab_size <= 0) throw ArgumentError("vocab_size must be positive, got " + std::to_string(*vocab_size));
    options.padded_size = *vocab_size;
  }
  return options;
}

// Token ids are a precondition in C++; from Python a bad id is an ArgumentError.
void check_id(const Vocabulary& v, int32_t id) {
  if (id < 0 || id >= v.size()) {
    throw ArgumentError("token id " + std::to_string(id) + " is out of range [0, " + std::to_string(v.size()) + ")");
  }
}

// Python bytes or str (UTF-8) -> std::string.
std::string token_text(py::handle item, size_t index) {
  if (py::isinstance<py::bytes>(item)) return item.cast<std::string>();
  if (py::isinstance<py::str>(item)) return item.cast<std::string>();
  throw ArgumentError("tokens[" + std::to_string(index) + "] is " + std::string(py::str(py::type::of(item).attr("__name__"))) +
                      ", expected bytes or str");
}

const char* kind_name(TokenKind k) {
  switch (k) {
    case TokenKind::kNormal: return "normal";
    case TokenKind::kSpecial: return "special";
    case TokenKind::kUnused: return "unused";
  }
  return "unused";
}

py::str decode_replace(std::string_view s) {
  return py::reinterpret_steal<py::str>(PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
}

}  // namespace

void bind_vocabulary(py::module_& m) {
  py::class_<Vocabulary>(m, "Vocabulary", R"doc(
What each token id of a tokenizer means as bytes: the vocabulary a grammar is compiled against.

Immutable; copies share the data; usable from any number of threads. Every id in
[0, size) is "normal" (text), "special" (control tokens: never allowed by a mask
unless it is an EOS id) or "unused" (a hole or padding: never allowed).
)doc")
      .def_static(
          "from_tokenizer_json",
          [](const std::string& path, std::optional<std::vector<int32_t>> eos_ids, std::optional<int32_t> vocab_size) {
            VocabularyOptions options = vocab_options(eos_ids, vocab_size);
            py::gil_scoped_release release;
            return Vocabulary::from_tokenizer_json(path, options);
          },
          py::arg("path"), py::kw_only(), py::arg("eos_ids") = py::none(), py::arg("vocab_size") = py::none(),
          R"doc(Reads a Hugging Face tokenizer.json (EOS ids from `eos_ids`, else a tokenizer_config.json
beside it, else well-known names). `vocab_size` pads the id space to the model's logit width.
Raises VocabularyError naming the file and the key.)doc")
      .def_static(
          "from_tokenizer_json_text",
          [](const std::string& text, const std::string& config_text, std::optional<std::vector<int32_t>> eos_ids,
             std::optional<int32_t> vocab_size) {
            VocabularyOptions options = vocab_options(eos_ids, vocab_size);
            py::gil_scoped_release release;
            return Vocabulary::from_tokenizer_json_text(text, config_text, options);
          },
          py::arg("tokenizer_json"), py::arg("tokenizer_config_json") = "", py::kw_only(),
          py::arg("eos_ids") = py::none(), py::arg("vocab_size") = py::none(),
          "Same as from_tokenizer_json, from the text of a tokenizer.json (and of its tokenizer_config.json).")
      .def_static(
          "from_gguf",
          [](const std::string& path, std::optional<std::vector<int32_t>> eos_ids, std::optional<int32_t> vocab_size) {
            VocabularyOptions options = vocab_options(eos_ids, vocab_size);
            py::gil_scoped_release release;
            return Vocabulary::from_gguf(path, options);
          },
          py::arg("path"), py::kw_only(), py::arg("eos_ids") = py::none(), py::arg("vocab_size") = py::none(),
          "Reads the tokenizer.ggml.* metadata of a GGUF file. Raises VocabularyError (\"path: offset N, key\").")
      .def_static(
          "from_file",
          [](const std::string& path, std::optional<std::vector<int32_t>> eos_ids, std::optional<int32_t> vocab_size) {
            VocabularyOptions options = vocab_options(eos_ids, vocab_size);
            py::gil_scoped_release release;
            return Vocabulary::from_file(path, options);
          },
          py::arg("path"), py::kw_only(), py::arg("eos_ids") = py::none(), py::arg("vocab_size") = py::none(),
          "*.gguf goes to from_gguf, anything else to from_tokenizer_json.")
      .def_static(
          "from_tokens",
          [](py::sequence tokens, std::vector<int32_t> eos_ids, std::vector<int32_t> special_ids,
             std::optional<int32_t> vocab_size) {
            std::vector<std::string> bytes;
            bytes.reserve(tokens.size());
            for (size_t i = 0; i < tokens.size(); ++i) bytes.push_back(token_text(tokens[i], i));
            VocabularyOptions options = vocab_options({}, vocab_size);
            return Vocabulary::from_tokens(std::move(bytes), std::move(eos_ids), std::move(special_ids), options);
          },
          py::arg("tokens"), py::arg("eos_ids"), py::kw_only(), py::arg("special_ids") = std::vector<int32_t>{},
          py::arg("vocab_size") = py::none(),
          R"doc(One byte string (bytes, or str as UTF-8) per id. Ids in `special_ids` are special; every
EOS id is special too. `vocab_size` (>= len(tokens)) pads with unused ids. Raises ArgumentError on
bad ids or an empty list.)doc")
      .def_property_readonly("size", &Vocabulary::size, "Number of ids, holes and padding included: the logit width.")
      .def("__len__", &Vocabulary::size)
      .def(
          "token_bytes",
          [](const Vocabulary& v, int32_t id) {
            check_id(v, id);
            return py::bytes(std::string(v.token_bytes(id)));
          },
          py::arg("id"), "The exact bytes of a token; b\"\" for special and unused ids.")
      .def(
          "token_name",
          [](const Vocabulary& v, int32_t id) {
            check_id(v, id);
            return decode_replace(v.token_name(id));
          },
          py::arg("id"), "The token as written in the tokenizer file (special tokens: their name).")
      .def(
          "kind",
          [](const Vocabulary& v, int32_t id) {
            check_id(v, id);
            return kind_name(v.kind(id));
          },
          py::arg("id"), "\"normal\", \"special\" or \"unused\".")
      .def(
          "is_eos",
          [](const Vocabulary& v, int32_t id) {
            check_id(v, id);
            return v.is_eos(id);
          },
          py::arg("id"), "True for the ids that end a sequence (eos_ids).")
      .def_property_readonly(
          "eos_ids", [](const Vocabulary& v) { return std::vector<int32_t>(v.eos_ids().begin(), v.eos_ids().end()); })
      .def_property_readonly("normal_count", &Vocabulary::normal_count)
      .def_property_readonly("special_count", &Vocabulary::special_count)
      .def_property_readonly("family", [](const Vocabulary& v) { return std::string(v.family()); },
                             "\"byte_level_bpe\", \"sentencepiece\" or \"tokens\".")
      .def("__repr__", [](const Vocabulary& v) {
        return "<stencil.Vocabulary " + std::string(v.family()) + ", " + std::to_string(v.size()) + " ids>";
      });
}

}  // namespace stencil::python
