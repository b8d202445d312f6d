// stencil.Matcher, stencil.BatchFiller and the numpy bitmask plumbing (checks, apply for float32).
// Every fill releases the GIL: a mask is usually a microsecond, but a first visit of a lazily
// computed state or a budget-aware fill close to the end can take milliseconds.
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "stencil/bitmask.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"

namespace stencil::python {

int32_t words_of(const Matcher& m) { return bitmask_words(m.grammar().vocabulary().size()); }

py::array bitmask_array(py::handle obj) {
  py::array array = py::isinstance<py::array>(obj)
                        ? py::reinterpret_borrow<py::array>(obj)
                        : py::module_::import("stencil._tensors").attr("as_numpy_bitmask")(obj).cast<py::array>();
  const py::dtype dt = array.dtype();
  if ((dt.kind() != 'i' && dt.kind() != 'u') || dt.itemsize() != 4) {
    throw ArgumentError("a bitmask must hold 32-bit integers (numpy int32 or uint32), got dtype " +
                        dt.attr("name").cast<std::string>());
  }
  if (array.ndim() != 1 && array.ndim() != 2) {
    throw ArgumentError("a bitmask must be 1-D (words,) or 2-D (batch, words), got " + std::to_string(array.ndim()) +
                        " dimensions");
  }
  if (array.strides(array.ndim() - 1) != 4 && array.shape(array.ndim() - 1) > 1) {
    throw ArgumentError("a bitmask's rows must be contiguous (use numpy.ascontiguousarray)");
  }
  if (!array.writeable()) throw ArgumentError("a bitmask must be writable");
  return array;
}

std::span<uint32_t> bitmask_row(py::array& array, int64_t index, int32_t min_words) {
  const int64_t rows = array.ndim() == 2 ? array.shape(0) : 1;
  if (index < 0 || index >= rows) {
    throw ArgumentError("bitmask row " + std::to_string(index) + " is out of range: the bitmask has " +
                        std::to_string(rows) + " row(s)");
  }
  const int64_t words = array.shape(array.ndim() - 1);
  if (words < min_words) {
    throw ArgumentError("the bitmask has " + std::to_string(words) + " words per row, the vocabulary needs " +
                        std::to_string(min_words) + " (allocate_token_bitmask(batch, vocab.size))");
  }
  auto* base = static_cast<char*>(array.mutable_data());
  const int64_t row_stride = array.ndim() == 2 ? array.strides(0) : 0;
  return {reinterpret_cast<uint32_t*>(base + index * row_stride), static_cast<size_t>(words)};
}

namespace {

std::string bytes_arg(py::handle text) {
  if (py::isinstance<py::bytes>(text) || py::isinstance<py::str>(text)) return text.cast<std::string>();
  throw py::type_error("expected str (encoded as UTF-8) or bytes, got " +
                       std::string(py::str(py::type::of(text).attr("__name__"))));
}

// The BatchFiller and the thread count it was made with (BatchFiller does not report it).
struct PyBatchFiller {
  explicit PyBatchFiller(int32_t threads) : filler(threads), threads(threads) {}
  BatchFiller filler;
  int32_t threads;
};

}  // namespace

std::vector<Matcher*> matcher_pointers(py::handle matchers, py::tuple& items) {
  items = py::reinterpret_steal<py::tuple>(PySequence_Tuple(matchers.ptr()));
  if (!items) throw py::error_already_set();
  const size_t n = items.size();
  std::vector<Matcher*> ptrs(n);
  py::detail::make_caster<Matcher> caster;
  for (size_t i = 0; i < n; ++i) {
    py::handle item = PyTuple_GET_ITEM(items.ptr(), static_cast<Py_ssize_t>(i));
    if (!caster.load(item, /*convert=*/false)) {
      throw py::type_error("matchers[" + std::to_string(i) + "] is " +
                           std::string(py::str(py::type::of(item).attr("__name__"))) + ", expected stencil.Matcher");
    }
    ptrs[i] = &py::detail::cast_op<Matcher&>(caster);
  }
  return ptrs;
}

void bind_matcher(py::module_& m) {
  py::class_<Matcher>(m, "Matcher", R"doc(
The grammar state of one sequence: fill the next token's bitmask, accept the sampled token, repeat.
One per sequence, used by one thread at a time. fork() makes an independent copy.

    matcher = stencil.Matcher(grammar)
    mask = stencil.allocate_token_bitmask(1, grammar.vocabulary.size)
    matcher.fill_next_token_bitmask(mask)
    stencil.apply_token_bitmask_inplace(logits, mask)
    matcher.accept_token(sampled)
)doc")
      .def(py::init([](CompiledGrammar grammar, int32_t max_rollback_tokens) {
             MatcherOptions options;
             options.max_rollback_tokens = max_rollback_tokens;
             return Matcher(std::move(grammar), options);
           }),
           py::arg("grammar"), py::kw_only(), py::arg("max_rollback_tokens") = MatcherOptions{}.max_rollback_tokens,
           "rollback() can undo at least `max_rollback_tokens` steps (raised to 16 if lower; older steps are dropped in chunks).")
      .def("fork", &Matcher::fork, "An independent copy of this matcher's state (same grammar).")
      .def(
          "fill_next_token_bitmask",
          [](Matcher& self, py::handle bitmask, int64_t index, std::optional<int32_t> max_tokens_left) {
            py::array array = bitmask_array(bitmask);
            std::span<uint32_t> row = bitmask_row(array, index, words_of(self));
            if (max_tokens_left && *max_tokens_left < 0) {
              throw ArgumentError("max_tokens_left must be >= 0, got " + std::to_string(*max_tokens_left));
            }
            py::gil_scoped_release release;
            if (max_tokens_left) {
              self.fill_next_token_bitmask(row, *max_tokens_left);
            } else {
              self.fill_next_token_bitmask(row);
            }
          },
          py::arg("bitmask"), py::arg("index") = 0, py::kw_only(), py::arg("max_tokens_left") = py::none(),
          R"doc(Writes the allowed-token mask into row `index` of `bitmask` (int32, (batch, words) or
(words,); numpy or a CPU torch tensor). Bit i set = token i allowed; extra words are cleared.
With max_tokens_left, tokens after which no valid end fits in that many tokens are masked too
(budget-aware closing). Raises ArgumentError for a bitmask of the wrong shape or dtype.)doc")
      .def("accept_token", &Matcher::accept_token, py::arg("token"),
           "Advances by one token. False, state unchanged, when it is not allowed here (or out of range).")
      .def(
          "accept_string",
          [](Matcher& self, py::handle text) { return self.accept_bytes(bytes_arg(text)); }, py::arg("text"),
          "Advances by raw bytes (str is encoded as UTF-8). False, state unchanged, if any byte is rejected. One rollback step.")
      .def("rollback", &Matcher::rollback, py::arg("n") = 1,
           "Undoes the last n accepted steps. False (nothing undone) when n exceeds the history kept.")
      .def("reset", &Matcher::reset, "Back to the start state, history cleared.")
      .def("is_terminated", &Matcher::is_terminated, "True once an EOS token has been accepted.")
      .def("can_terminate", &Matcher::can_terminate, "True when the text so far is a complete match (EOS allowed now).")
      .def(
          "forced_bytes", [](const Matcher& self) { return py::bytes(self.forced_bytes()); },
          "The bytes every continuation must start with from here (jump-forward); b\"\" if none.")
      .def("min_bytes_to_end", &Matcher::min_bytes_to_end, "Fewest bytes that complete a valid match from here.")
      .def_property_readonly("grammar", &Matcher::grammar)
      .def_property_readonly("vocab_size", [](const Matcher& self) { return self.grammar().vocabulary().size(); })
      .def("__repr__", [](const Matcher& self) {
        return std::string("<stencil.Matcher ") + (self.is_terminated() ? "terminated" : self.can_terminate() ? "complete" : "open") + ">";
      });

  py::class_<PyBatchFiller>(m, "BatchFiller", R"doc(
Fills the bitmasks of many matchers at once on a pool of threads kept by this object, with the GIL
released. Concurrent fill() calls on one BatchFiller take turns; each matcher must not be used by
another thread during a fill.
)doc")
      .def(py::init([](int32_t threads) {
             if (threads < 0) throw ArgumentError("threads must be >= 0 (0: one per hardware thread), got " + std::to_string(threads));
             return std::make_unique<PyBatchFiller>(threads);
           }),
           py::arg("threads") = 0, "`threads` counts the calling thread; 0: one per hardware thread.")
      .def(
          "fill",
          [](PyBatchFiller& self, py::sequence matchers, py::handle bitmask) {
            // This call's own cost is what Python adds to a step of a serving loop (64 cached masks
            // fill in ~16 us), so the per-matcher work below is kept to a pointer check.
            py::array array = bitmask_array(bitmask);
            if (array.ndim() != 2) throw ArgumentError("BatchFiller.fill needs a 2-D (batch, words) bitmask");
            py::tuple items;
            const std::vector<Matcher*> ptrs = matcher_pointers(matchers, items);
            const size_t n = ptrs.size();
            if (static_cast<int64_t>(n) > array.shape(0)) {
              throw ArgumentError("BatchFiller.fill got " + std::to_string(n) + " matchers for a bitmask of " +
                                  std::to_string(array.shape(0)) + " rows");
            }
            if (array.strides(0) != array.shape(1) * 4) {
              throw ArgumentError("BatchFiller.fill needs a C-contiguous bitmask (use numpy.ascontiguousarray)");
            }
            const int32_t words = static_cast<int32_t>(array.shape(1));
            for (size_t i = 0; i < n; ++i) {
              if (words_of(*ptrs[i]) > words) {
                throw ArgumentError("matchers[" + std::to_string(i) + "] needs " + std::to_string(words_of(*ptrs[i])) +
                                    " words per row, the bitmask has " + std::to_string(words));
              }
            }
            auto* data = static_cast<uint32_t*>(array.mutable_data());
            py::gil_scoped_release release;
            self.filler.fill(ptrs, std::span<uint32_t>(data, n * static_cast<size_t>(words)), words);
          },
          py::arg("matchers"), py::arg("bitmask"),
          "Row i of `bitmask` becomes matchers[i]'s next-token mask; rows past len(matchers) are left as they are.")
      .def_property_readonly("threads", [](const PyBatchFiller& self) { return self.threads; });

  m.def(
      "accept_tokens",
      [](py::sequence matchers, py::array_t<int32_t, py::array::c_style | py::array::forcecast> tokens) {
        py::tuple items;
        const std::vector<Matcher*> ptrs = matcher_pointers(matchers, items);
        if (tokens.ndim() != 1 || static_cast<size_t>(tokens.shape(0)) != ptrs.size()) {
          throw ArgumentError("accept_tokens needs one token per matcher: " + std::to_string(ptrs.size()) +
                              " matchers, tokens of shape (" + std::to_string(tokens.ndim() ? tokens.shape(0) : 0) +
                              (tokens.ndim() == 1 ? ",)" : ", ...)"));
        }
        py::array_t<bool> accepted(static_cast<py::ssize_t>(ptrs.size()));
        bool* out = accepted.mutable_data();
        const int32_t* ids = tokens.data();
        // Not released: a few tens of nanoseconds per row, less than releasing the GIL costs.
        for (size_t i = 0; i < ptrs.size(); ++i) out[i] = ptrs[i]->accept_token(ids[i]);
        return accepted;
      },
      py::arg("matchers"), py::arg("tokens"),
      R"doc(matchers[i].accept_token(tokens[i]) for every row in one call; returns the results as a
numpy bool array. A serving loop's per-step companion of BatchFiller.fill: one call instead of a
Python loop over the batch.)doc");

  m.def(
      "_apply_token_bitmask_f32",
      [](py::array_t<float, py::array::c_style> logits, py::array bitmask_obj, int32_t vocab_size) {
        // The caller (stencil._tensors.apply_token_bitmask_inplace) has matched rows and checked shapes.
        py::array bitmask = bitmask_array(bitmask_obj);
        if (!logits.writeable()) throw ArgumentError("logits must be writable");
        const int64_t rows = logits.ndim() == 2 ? logits.shape(0) : 1;
        const int64_t width = logits.shape(logits.ndim() - 1);
        float* data = logits.mutable_data();
        std::vector<std::span<uint32_t>> masks;
        for (int64_t r = 0; r < rows; ++r) masks.push_back(bitmask_row(bitmask, bitmask.ndim() == 2 ? r : 0, 0));
        py::gil_scoped_release release;
        for (int64_t r = 0; r < rows; ++r) {
          apply_token_bitmask(std::span<float>(data + r * width, static_cast<size_t>(width)), masks[r], vocab_size);
        }
      },
      py::arg("logits").noconvert(), py::arg("bitmask"), py::arg("vocab_size"));
}

}  // namespace stencil::python
