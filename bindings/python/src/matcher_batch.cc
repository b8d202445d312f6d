// stencil.MatcherBatch: the matchers of a serving loop's batch, gathered once, so that a decoding
// step's fill is one call with no per-row Python work. BatchFiller.fill(matchers, bitmask) turns
// its list into C++ pointers and checks every row's vocabulary on each call (about 1-1.5 us of a
// 64-row step, measured in docs/performance.md); a MatcherBatch does that when it is built and
// then only checks the bitmask.
//
// Built from grammars, it owns its matchers, constructed one after the other (as a C++ program's
// std::vector<Matcher> would be, instead of among Python objects); built from Matcher objects, it
// refers to them and keeps them alive.
#include <pybind11/stl.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "stencil/bitmask.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"

namespace stencil::python {

namespace {

struct MatcherBatch {
  explicit MatcherBatch(int32_t threads) : filler(threads), threads(threads) {}

  // Sets ptrs' companion figures once the rows are known.
  void finish() {
    for (const Matcher* m : ptrs) words = std::max(words, words_of(*m));
  }

  // Takes the batch's lock without holding the GIL while waiting, so that a fill running on
  // another thread (GIL released) does not stall every Python thread behind this one.
  std::unique_lock<std::mutex> lock() {
    std::unique_lock<std::mutex> guard(mu, std::try_to_lock);
    if (!guard.owns_lock()) {
      py::gil_scoped_release release;
      guard.lock();
    }
    return guard;
  }

  std::vector<Matcher> owned;  // built from grammars: the rows
  py::tuple refs;              // built from Matcher objects: keeps them alive
  bool referenced = false;     // refs holds the rows (from_matchers)
  std::vector<Matcher*> ptrs;  // row i's matcher
  int32_t words = 0;           // words per bitmask row the widest vocabulary needs
  BatchFiller filler;
  int32_t threads;
  std::mutex mu;  // fill and accept_tokens of one batch take turns
};

int32_t check_threads(int32_t threads) {
  if (threads < 0) throw ArgumentError("threads must be >= 0 (0: one per hardware thread), got " + std::to_string(threads));
  return threads;
}

std::unique_ptr<MatcherBatch> owning_batch(py::handle grammars, std::optional<int64_t> batch_size, int32_t threads,
                                           int32_t max_rollback_tokens) {
  std::vector<CompiledGrammar> rows;
  if (py::isinstance<CompiledGrammar>(grammars)) {
    if (!batch_size) throw ArgumentError("MatcherBatch(grammar, batch_size): batch_size is needed with one grammar");
    if (*batch_size < 0) throw ArgumentError("batch_size must be >= 0, got " + std::to_string(*batch_size));
    rows.assign(static_cast<size_t>(*batch_size), grammars.cast<CompiledGrammar>());
  } else if (py::isinstance<py::sequence>(grammars) && !py::isinstance<py::str>(grammars)) {
    for (py::handle item : py::reinterpret_borrow<py::sequence>(grammars)) {
      if (!py::isinstance<CompiledGrammar>(item)) {
        throw py::type_error("MatcherBatch: grammars[" + std::to_string(rows.size()) + "] is " +
                             std::string(py::str(py::type::of(item).attr("__name__"))) +
                             ", expected stencil.CompiledGrammar");
      }
      rows.push_back(item.cast<CompiledGrammar>());
    }
    if (batch_size && *batch_size != static_cast<int64_t>(rows.size())) {
      throw ArgumentError("MatcherBatch got " + std::to_string(rows.size()) + " grammars and batch_size " +
                          std::to_string(*batch_size));
    }
  } else {
    throw py::type_error("MatcherBatch needs a stencil.CompiledGrammar or a sequence of them, got " +
                         std::string(py::str(py::type::of(grammars).attr("__name__"))) +
                         " (existing matchers: MatcherBatch.from_matchers)");
  }
  auto batch = std::make_unique<MatcherBatch>(check_threads(threads));
  MatcherOptions options;
  options.max_rollback_tokens = max_rollback_tokens;
  batch->owned.reserve(rows.size());
  for (CompiledGrammar& grammar : rows) batch->owned.emplace_back(std::move(grammar), options);
  for (Matcher& m : batch->owned) batch->ptrs.push_back(&m);
  batch->finish();
  return batch;
}

size_t row_index(const MatcherBatch& self, int64_t index) {
  const auto n = static_cast<int64_t>(self.ptrs.size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) {
    throw py::index_error("MatcherBatch row " + std::to_string(index) + " is out of range: the batch has " +
                          std::to_string(n) + " row(s)");
  }
  return static_cast<size_t>(index);
}

}  // namespace

void bind_matcher_batch(py::module_& m) {
  py::class_<MatcherBatch>(m, "MatcherBatch", R"doc(
The matchers of a batch, gathered once, for the per-step calls of a serving loop: fill every row's
mask with one call, then accept every row's sampled token with one call. The same work as
BatchFiller.fill(matchers, bitmask) and stencil.accept_tokens(matchers, tokens), without turning a
list of Matcher objects into C++ pointers again on every step.

    batch = stencil.MatcherBatch(grammar, 64, threads=1)   # or a list of grammars, one per row
    bitmask = stencil.allocate_token_bitmask(len(batch), grammar.vocabulary.size)
    batch.fill_next_token_bitmask(bitmask)                 # row i: batch[i]'s mask (GIL released)
    stencil.apply_token_bitmask_inplace(logits, bitmask)
    batch.accept_tokens(sampled)                           # one token per row; bool array back
    batch[3].reset()                                       # rows are stencil.Matcher objects

Built from grammars, the batch owns its matchers (batch[i] is valid while the batch lives);
MatcherBatch.from_matchers(matchers) refers to existing ones instead. Calls to
fill_next_token_bitmask and accept_tokens on one batch from several threads take turns; a row
must not be used through batch[i] by another thread while they run.
)doc")
      .def(py::init([](const py::object& grammars, std::optional<int64_t> batch_size, int32_t threads,
                       int32_t max_rollback_tokens) {
             return owning_batch(grammars, batch_size, threads, max_rollback_tokens);
           }),
           py::arg("grammars"), py::arg("batch_size") = py::none(), py::kw_only(), py::arg("threads") = 0,
           py::arg("max_rollback_tokens") = MatcherOptions{}.max_rollback_tokens,
           R"doc(`batch_size` new matchers of one CompiledGrammar, or one per grammar of a sequence (then
batch_size may be left out). `threads` (the calling thread included; 0: one per hardware thread)
fill the rows; `max_rollback_tokens` is Matcher's.)doc")
      .def_static(
          "from_matchers",
          [](py::sequence matchers, int32_t threads) {
            auto batch = std::make_unique<MatcherBatch>(check_threads(threads));
            batch->ptrs = matcher_pointers(matchers, batch->refs);
            batch->referenced = true;
            batch->finish();
            return batch;
          },
          py::arg("matchers"), py::kw_only(), py::arg("threads") = 0,
          R"doc(A batch over existing Matcher objects (kept alive by the batch; their states are shared
with it: accepting a token through the list or the batch is the same). For a batch whose rows
change every step, BatchFiller.fill(matchers, bitmask) does the same work per call.)doc")
      .def(
          "fill_next_token_bitmask",
          [](MatcherBatch& self, py::handle bitmask) {
            py::array array = bitmask_array(bitmask);
            const size_t n = self.ptrs.size();
            if (array.ndim() != 2) throw ArgumentError("MatcherBatch.fill_next_token_bitmask needs a 2-D (batch, words) bitmask");
            if (static_cast<int64_t>(n) > array.shape(0)) {
              throw ArgumentError("the MatcherBatch has " + std::to_string(n) + " rows, the bitmask " +
                                  std::to_string(array.shape(0)));
            }
            if (array.shape(1) < self.words) {
              throw ArgumentError("the MatcherBatch needs " + std::to_string(self.words) +
                                  " words per row, the bitmask has " + std::to_string(array.shape(1)));
            }
            if (array.strides(0) != array.shape(1) * 4) {
              throw ArgumentError("MatcherBatch.fill_next_token_bitmask needs a C-contiguous bitmask (use numpy.ascontiguousarray)");
            }
            const auto words = static_cast<int32_t>(array.shape(1));
            auto* data = static_cast<uint32_t*>(array.mutable_data());
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(self.mu);
            self.filler.fill(self.ptrs, std::span<uint32_t>(data, n * static_cast<size_t>(words)), words);
          },
          py::arg("bitmask"),
          R"doc(Row i of `bitmask` (int32, (batch, words), C-contiguous; numpy or a CPU torch tensor)
becomes batch[i]'s next-token mask; rows past len(batch) are left as they are. The GIL is released.)doc")
      .def(
          "accept_tokens",
          [](MatcherBatch& self, py::array_t<int32_t, py::array::c_style | py::array::forcecast> tokens) {
            const size_t n = self.ptrs.size();
            if (tokens.ndim() != 1 || static_cast<size_t>(tokens.shape(0)) != n) {
              throw ArgumentError("MatcherBatch.accept_tokens needs one token per row: " + std::to_string(n) +
                                  " rows, tokens of shape (" + std::to_string(tokens.ndim() ? tokens.shape(0) : 0) +
                                  (tokens.ndim() == 1 ? ",)" : ", ...)"));
            }
            py::array_t<bool> accepted(static_cast<py::ssize_t>(n));
            bool* out = accepted.mutable_data();
            const int32_t* ids = tokens.data();
            std::unique_lock<std::mutex> lock = self.lock();
            for (size_t i = 0; i < n; ++i) out[i] = self.ptrs[i]->accept_token(ids[i]);
            return accepted;
          },
          py::arg("tokens"),
          R"doc(batch[i].accept_token(tokens[i]) for every row; the results as a numpy bool array (False:
that row's token was not allowed, its state is unchanged).)doc")
      .def("__len__", [](const MatcherBatch& self) { return self.ptrs.size(); })
      .def(
          "__getitem__",
          [](py::object self_obj, int64_t index) -> py::object {
            auto& self = self_obj.cast<MatcherBatch&>();
            const size_t row = row_index(self, index);
            if (self.referenced) return self.refs[row];
            return py::cast(self.ptrs[row], py::return_value_policy::reference_internal, self_obj);
          },
          py::arg("index"), "Row `index`'s Matcher (negative indices count from the end).")
      .def_property_readonly(
          "words", [](const MatcherBatch& self) { return self.words; },
          "Words per bitmask row the rows' vocabularies need (allocate_token_bitmask(len(batch), vocab.size) has them).")
      .def_property_readonly("threads", [](const MatcherBatch& self) { return self.threads; })
      .def("__repr__", [](const MatcherBatch& self) {
        return "<stencil.MatcherBatch " + std::to_string(self.ptrs.size()) + " rows, " +
               (self.referenced ? "referenced" : "owned") + ">";
      });
}

}  // namespace stencil::python
