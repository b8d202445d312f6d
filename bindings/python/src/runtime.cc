// The bundled runtime from Python: stencil._core.Model (load), Tokenizer (encode/decode) and
// generate(). The Pythonic Model (stream=True iterators, constraints given as schemas) is
// stencil/_runtime.py. generate() runs with the GIL released; the piece callback takes it back.
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.h"
#include "stencil/compiler.h"
#include "stencil/errors.h"
#include "stencil/runtime/generator.h"
#include "stencil/runtime/model.h"
#include "stencil/runtime/tokenizer.h"

namespace stencil::python {

namespace {

py::str decode_replace(std::string_view s) {
  return py::reinterpret_steal<py::str>(PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
}

py::dict info_dict(const ModelInfo& i) {
  py::dict d;
  d["path"] = i.path;
  d["format"] = i.format;
  d["architecture"] = i.architecture;
  d["name"] = i.name;
  d["weight_type"] = i.weight_type;
  d["backend"] = i.backend;
  d["n_layers"] = i.n_layers;
  d["n_embd"] = i.n_embd;
  d["n_ff"] = i.n_ff;
  d["n_heads"] = i.n_heads;
  d["n_kv_heads"] = i.n_kv_heads;
  d["head_dim"] = i.head_dim;
  d["n_vocab"] = i.n_vocab;
  d["context_length"] = i.context_length;
  d["n_params"] = i.n_params;
  d["file_bytes"] = i.file_bytes;
  d["threads"] = i.threads;
  return d;
}

}  // namespace

void bind_runtime(py::module_& m) {
  py::class_<Tokenizer>(m, "Tokenizer", R"doc(
Text -> token ids and back for the bundled runtime (byte-level BPE and SentencePiece-style BPE,
llama.cpp's behaviour). Immutable; usable from any number of threads.
)doc")
      .def_static(
          "from_file",
          [](const std::string& path) {
            py::gil_scoped_release release;
            return Tokenizer::from_file(path);
          },
          py::arg("path"), "*.gguf, a Hugging Face model folder, or a tokenizer.json. Raises VocabularyError.")
      .def(
          "encode",
          [](const Tokenizer& t, const std::string& text, bool add_special, bool parse_special) {
            py::gil_scoped_release release;
            return t.encode(text, {.add_special = add_special, .parse_special = parse_special});
          },
          py::arg("text"), py::kw_only(), py::arg("add_special") = false, py::arg("parse_special") = true,
          R"doc(Token ids of `text`. add_special prepends BOS when the tokenizer asks for it;
parse_special matches special tokens' text (<|im_start|>) as single tokens.)doc")
      .def(
          "decode_bytes",
          [](const Tokenizer& t, const std::vector<int32_t>& ids, bool render_special, bool strip_space_prefix) {
            return py::bytes(t.decode(ids, {.render_special = render_special, .strip_space_prefix = strip_space_prefix}));
          },
          py::arg("ids"), py::kw_only(), py::arg("render_special") = false, py::arg("strip_space_prefix") = false,
          "The concatenated bytes of the ids (out-of-range ids produce nothing).")
      .def(
          "decode",
          [](const Tokenizer& t, const std::vector<int32_t>& ids, bool render_special, bool strip_space_prefix) {
            return decode_replace(t.decode(ids, {.render_special = render_special, .strip_space_prefix = strip_space_prefix}));
          },
          py::arg("ids"), py::kw_only(), py::arg("render_special") = false, py::arg("strip_space_prefix") = false,
          "decode_bytes() as text; invalid UTF-8 becomes U+FFFD.")
      .def(
          "token_bytes", [](const Tokenizer& t, int32_t id) { return py::bytes(std::string(t.token_bytes(id))); },
          py::arg("id"), "The bytes a token decodes to (b\"\" for specials and out-of-range ids).")
      .def("find_token", &Tokenizer::find_token, py::arg("text"), "The id of a token written so in the file; -1 if absent.")
      .def_property_readonly("size", &Tokenizer::size)
      .def("__len__", &Tokenizer::size)
      .def_property_readonly("bos_id", &Tokenizer::bos_id)
      .def_property_readonly("eos_ids",
                             [](const Tokenizer& t) { return std::vector<int32_t>(t.eos_ids().begin(), t.eos_ids().end()); })
      .def_property_readonly("family", [](const Tokenizer& t) { return std::string(t.family()); })
      .def_property_readonly("chat_template", &Tokenizer::chat_template);

  py::class_<Model>(m, "Model", "A loaded Llama-family model (GGUF, or a safetensors folder). Immutable.")
      .def_static(
          "load",
          [](const std::string& path, int32_t threads, const std::string& backend) {
            if (threads < 0) throw ArgumentError("threads must be >= 0 (0: one per hardware thread), got " + std::to_string(threads));
            ModelOptions options;
            options.threads = threads;
            options.backend = backend;
            py::gil_scoped_release release;
            return Model::load(path, options);
          },
          py::arg("path"), py::kw_only(), py::arg("threads") = 0, py::arg("backend") = "auto",
          "Raises ModelError whose location names the file and the offset, tensor or key at fault.")
      .def_property_readonly("info", [](const Model& model) { return info_dict(model.info()); })
      .def("vocabulary", &Model::vocabulary, "The model's Vocabulary, padded to its logit width.")
      .def_property_readonly("chat_template", &Model::chat_template)
      .def("metadata_string", &Model::metadata_string, py::arg("key"), "A string from the file's metadata; \"\" if absent.");

  py::class_<GenerateResult>(m, "GenerateResult", "What one generate() call produced.")
      .def_property_readonly("text", [](const GenerateResult& r) { return decode_replace(r.text); },
                             "The generated text (EOS not rendered; invalid UTF-8 as U+FFFD).")
      .def_readonly("valid", &GenerateResult::valid, "With a constraint: the text is a complete match.")
      .def_readonly("prompt_tokens", &GenerateResult::prompt_tokens)
      .def_readonly("generated_tokens", &GenerateResult::generated_tokens, "EOS not counted.")
      .def_readonly("forced_tokens", &GenerateResult::forced_tokens)
      .def_readonly("loop_guard_fired", &GenerateResult::loop_guard_fired)
      .def_readonly("stop_reason", &GenerateResult::stop_reason, "\"eos\", \"max_tokens\", \"loop_guard\" or \"no_token\".")
      .def_readonly("tokens", &GenerateResult::tokens)
      .def_property_readonly("timing",
                             [](const GenerateResult& r) {
                               py::dict d;
                               d["prompt_tok_s"] = r.timing.prompt_tok_s;
                               d["gen_tok_s"] = r.timing.gen_tok_s;
                               d["mask_share"] = r.timing.mask_share;
                               return d;
                             })
      .def("__repr__", [](const GenerateResult& r) {
        return "<stencil.GenerateResult " + std::to_string(r.generated_tokens) + " tokens, stop " + r.stop_reason + ">";
      });

  m.def(
      "_generate",
      [](const Model& model, const Tokenizer& tokenizer, const CompiledGrammar* grammar, const std::string& prompt,
         int32_t max_tokens, float temperature, int32_t top_k, float top_p, float min_p, float repetition_penalty,
         uint64_t seed, const std::string& system, bool raw, bool jump_forward, py::object on_piece) {
        GenerateOptions options;
        options.max_tokens = max_tokens;
        options.temperature = temperature;
        options.top_k = top_k;
        options.top_p = top_p;
        options.min_p = min_p;
        options.repetition_penalty = repetition_penalty;
        options.seed = seed;
        options.system = system;
        options.raw = raw;
        options.jump_forward = jump_forward;
        PieceCallback callback;
        if (!on_piece.is_none()) {
          // Runs on the generating thread without the GIL; an exception the Python callable raises
          // (stream closed early) unwinds generate() and comes out of this call.
          callback = [&on_piece](std::string_view piece) {
            py::gil_scoped_acquire acquire;
            on_piece(py::bytes(piece.data(), piece.size()));
          };
        }
        py::gil_scoped_release release;
        return generate(model, tokenizer, grammar, prompt, options, callback);
      },
      py::arg("model"), py::arg("tokenizer"), py::arg("grammar"), py::arg("prompt"), py::kw_only(),
      py::arg("max_tokens"), py::arg("temperature"), py::arg("top_k"), py::arg("top_p"), py::arg("min_p"),
      py::arg("repetition_penalty"), py::arg("seed"), py::arg("system"), py::arg("raw"), py::arg("jump_forward"),
      py::arg("on_piece"));
}

}  // namespace stencil::python
